"""The trust dashboard and after-action reports, mounted at /desk/dashboard/."""

from django.urls import path

from engage import views_dashboard as views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard_view, name="index"),
    path("events/<int:pk>/report/", views.report_view, name="report"),
    path("events/<int:pk>/report.pdf", views.report_pdf_view, name="report_pdf"),
]
