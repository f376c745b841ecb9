"""The triage inbox, mounted at /desk/inbox/."""

from django.urls import path

from engage import views_inbox as views
from engage.common import ids  # noqa: F401 - registers the <id:...> path converter

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
