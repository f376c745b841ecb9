"""The trust dashboard and after-action reports, mounted at /desk/dashboard/, and the public
transparency page (``public_urlpatterns``, mounted by engage/urls.py in the ``public`` namespace)."""

from django.urls import path

from core import ids  # noqa: F401 - registers the <id:...> path converter
from engage.metrics import views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard_view, name="index"),
    path("events/<id:pk>/report/", views.report_view, name="report"),
    path("events/<id:pk>/report.pdf", views.report_pdf_view, name="report_pdf"),
]

public_urlpatterns = [
    path("transparency/", views.transparency_view, name="transparency"),
]
