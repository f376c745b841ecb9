"""The triage inbox, mounted at /desk/inbox/, and the public pages where citizens write in
(``public_urlpatterns``, mounted by engage/urls.py in the ``public`` namespace)."""

from django.urls import path

from core import ids  # noqa: F401 - registers the <id:...> path converter
from engage.inbound import feedback_page
from engage.inbound.views import actions, contact, inbox

app_name = "inbox"

urlpatterns = [
    path("", inbox.inbox_list, name="list"),
    path("bulk/", inbox.inbox_bulk, name="bulk"),
    path("export.csv", inbox.inbox_export, name="export"),
    path("rights/", inbox.inbox_rights, name="rights"),
    path("settings/", inbox.inbox_settings, name="settings"),
    path("<id:pk>/", inbox.inbox_detail, name="detail"),
    # The buttons on a reply's page: one view per action (views/actions.py), POST only.
    path("<id:pk>/assign-me/", actions.inbox_assign_me, name="assign_me"),
    path("<id:pk>/assign/", actions.inbox_assign, name="assign"),
    path("<id:pk>/status/", actions.inbox_status, name="status"),
    path("<id:pk>/correct/", actions.inbox_correct, name="correct"),
    path("<id:pk>/note/", actions.inbox_note, name="note"),
    path("<id:pk>/escalate/", actions.inbox_escalate, name="escalate"),
    path("<id:pk>/hold/", actions.inbox_hold, name="hold"),
    path("<id:pk>/unhold/", actions.inbox_unhold, name="unhold"),
    path("<id:pk>/respond/", actions.inbox_respond, name="respond"),
    path("<id:pk>/adopt/", actions.inbox_adopt, name="adopt"),
    path("<id:pk>/resolve-sent/", actions.inbox_resolve_sent, name="resolve_sent"),
    path("<id:pk>/resolve-not-sent/", actions.inbox_resolve_not_sent, name="resolve_not_sent"),
    path("<id:pk>/release-held/", actions.inbox_release_held, name="release_held"),
    path("<id:pk>/drop-held/", actions.inbox_drop_held, name="drop_held"),
]

public_urlpatterns = [
    path("contact/", contact.contact, name="contact"),
    path("contact/<slug:force>/", contact.contact, name="contact_force"),  # each force's own form
    path("news/<id:pk>/reply/", contact.news_reply, name="news_reply"),
    path("how-we-use-your-messages/", contact.how_we_use_messages, name="how_we_use_messages"),
    path("feedback/<str:token>/", feedback_page.feedback, name="feedback"),  # "Did this answer help?"
]
