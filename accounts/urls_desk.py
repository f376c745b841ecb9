"""Signed-in account pages: mounted at /desk/ (behind the two-factor requirement)."""

from django.urls import path

from accounts import views
from core import ids  # noqa: F401 - registers the <id:...> path converter

app_name = "desk_accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("audit/", views.audit_list, name="audit"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/settings/", views.notification_settings, name="notification_settings"),
    path("languages/", views.reading_languages, name="reading_languages"),
    path("desk-language/", views.desk_language, name="desk_language"),
    path("languages/<id:user_id>/", views.reading_languages, name="reading_languages_of"),
]
