"""The triage inbox, mounted at /desk/inbox/, and the public pages where citizens write in
(``public_urlpatterns``, mounted by engage/urls.py in the ``public`` namespace)."""

from django.urls import path

from core import ids  # noqa: F401 - registers the <id:...> path converter
from engage.inbound import feedback_page, views

app_name = "inbox"

urlpatterns = [
    path("", views.inbox_list, name="list"),
    path("bulk/", views.inbox_bulk, name="bulk"),
    path("export.csv", views.inbox_export, name="export"),
    path("rights/", views.inbox_rights, name="rights"),
    path("settings/", views.inbox_settings, name="settings"),
    path("<id:pk>/", views.inbox_detail, name="detail"),
    path("<id:pk>/<slug:action>/", views.inbox_action, name="action"),
]

public_urlpatterns = [
    path("contact/", views.contact, name="contact"),
    path("contact/<slug:force>/", views.contact, name="contact_force"),  # each force's own form
    path("news/<id:pk>/reply/", views.news_reply, name="news_reply"),
    path("how-we-use-your-messages/", views.how_we_use_messages, name="how_we_use_messages"),
    path("feedback/<str:token>/", feedback_page.feedback, name="feedback"),  # "Did this answer help?"
]
