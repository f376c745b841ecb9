"""Event awareness on the desk, mounted at /desk/awareness/."""

from django.urls import path

from core import ids  # noqa: F401 - registers the <id:...> path converter
from engage.awareness import views

app_name = "awareness"

urlpatterns = [
    path("", views.watch_list, name="list"),
    path("event/<id:pk>/new/", views.watch_new, name="new"),
    path("<id:pk>/approve/", views.watch_approve, name="approve"),
    path("<id:pk>/stop/", views.watch_stop, name="stop"),
    path("candidates/<id:pk>/rumour/", views.candidate_promote, name="promote"),
    path("candidates/<id:pk>/dismiss/", views.candidate_dismiss, name="dismiss"),
]
