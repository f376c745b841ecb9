"""Staff pages of the outbound room, mounted at /desk/."""

from django.urls import include, path

from campaigns.views import admin_pages, calendar, events, media, messages, recipients
from campaigns.views import message_actions as actions
from core import ids  # noqa: F401 - registers the <id:...> path converter

app_name = "campaigns"

urlpatterns = [
    path("messages/", messages.message_list, name="messages"),
    path("messages/new/", messages.message_new, name="message_new"),
    path("messages/<id:pk>/", messages.message_detail, name="message"),
    path("messages/<id:pk>/edit/", messages.message_edit, name="message_edit"),
    path("messages/<id:pk>/deliveries/", messages.message_deliveries, name="message_deliveries"),
    # The message page's buttons: one view per action (views/message_actions.py), POST only.
    path("messages/<id:pk>/submit/", actions.message_submit, name="message_submit"),
    path("messages/<id:pk>/approve/", actions.message_approve, name="message_approve"),
    path("messages/<id:pk>/request-changes/", actions.message_request_changes, name="message_request_changes"),
    path("messages/<id:pk>/apply-plan/", actions.message_apply_plan, name="message_apply_plan"),
    path("messages/<id:pk>/comment/", actions.message_comment, name="message_comment"),
    path("messages/<id:pk>/schedule/", actions.message_schedule, name="message_schedule"),
    path("messages/<id:pk>/send-now/", actions.message_send_now, name="message_send_now"),
    path("messages/<id:pk>/withdraw/", actions.message_withdraw, name="message_withdraw"),
    path("messages/<id:pk>/emergency-review/", actions.message_emergency_review, name="message_emergency_review"),
    path("messages/<id:pk>/pause-override/", actions.message_pause_override, name="message_pause_override"),
    path("messages/<id:pk>/variant/", actions.message_variant_add, name="message_variant_add"),
    path("messages/<id:pk>/media/", actions.message_media_add, name="message_media_add"),
    path("messages/<id:pk>/variants/<id:variant_id>/delete/", messages.variant_delete, name="variant_delete"),
    path("deliveries/<id:pk>/", messages.delivery_detail, name="delivery"),
    path("deliveries/<id:pk>/<slug:action>/", messages.delivery_action, name="delivery_action"),
    path("review/", messages.review_queue, name="review"),
    path("media/<id:pk>/", media.media_file, name="media"),
    path("calendar/", calendar.calendar_view, name="calendar"),
    path("calendar/<id:pk>/move/", calendar.calendar_move, name="calendar_move"),
    path("events/", events.event_list, name="events"),
    path("events/new/", events.event_new, name="event_new"),
    path("events/<id:pk>/", events.event_detail, name="event"),
    path("events/<id:pk>/phase/", events.event_phase, name="event_phase"),
    path("events/<id:pk>/publish/", events.event_publish, name="event_publish"),
    path("playbooks/", events.playbook_list, name="playbooks"),
    path("segments/", admin_pages.segment_list, name="segments"),
    path("segments/new/", admin_pages.segment_edit, name="segment_new"),
    path("segments/<id:pk>/", admin_pages.segment_edit, name="segment"),
    path("channels/", admin_pages.channel_list, name="channels"),
    path("channels/<id:pk>/recipients/", recipients.recipient_list, name="recipients"),
    path("channels/<id:pk>/recipients/export.csv", recipients.recipient_export, name="recipients_export"),
    path("channels/<id:pk>/recipients/<id:recipient_id>/opt-out/", recipients.recipient_opt_out,
         name="recipient_opt_out"),
    path("publishing/", admin_pages.publishing_controls, name="publishing"),
    path("", include("campaigns.urls_public_face")),  # rumours and CAP fields (the public face's staff pages)
]
