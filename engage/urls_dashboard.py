"""The trust dashboard and after-action reports, mounted at /desk/dashboard/."""

from django.urls import path

from engage import views_dashboard as views
from engage.common import ids  # noqa: F401 - registers the <id:...> path converter

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard_view, name="index"),
    path("events/<id:pk>/report/", views.report_view, name="report"),
    path("events/<id:pk>/report.pdf", views.report_pdf_view, name="report_pdf"),
]
