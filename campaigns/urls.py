"""Staff pages of the outbound room, mounted at /desk/."""

from django.urls import include, path

from campaigns.views import admin_pages, events, media, messages, recipients
from core import ids  # noqa: F401 - registers the <id:...> path converter

app_name = "campaigns"

urlpatterns = [
    path("messages/", messages.message_list, name="messages"),
    path("messages/new/", messages.message_new, name="message_new"),
    path("messages/<id:pk>/", messages.message_detail, name="message"),
    path("messages/<id:pk>/edit/", messages.message_edit, name="message_edit"),
    path("messages/<id:pk>/deliveries/", messages.message_deliveries, name="message_deliveries"),
    path("messages/<id:pk>/<slug:action>/", messages.message_action, name="message_action"),
    path("messages/<id:pk>/variants/<id:variant_id>/delete/", messages.variant_delete, name="variant_delete"),
    path("deliveries/<id:pk>/<slug:action>/", messages.delivery_action, name="delivery_action"),
    path("review/", messages.review_queue, name="review"),
    path("media/<id:pk>/", media.media_file, name="media"),
    path("calendar/", events.calendar_view, name="calendar"),
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
