"""Staff pages for the public face (rumour control, CAP fields), included from campaigns/urls.py."""

from django.urls import path

from campaigns.views import cap, rumours
from core import ids  # noqa: F401 - registers the <id:...> path converter

urlpatterns = [
    path("events/<id:pk>/rumours/", rumours.rumour_board, name="rumours"),
    path("rumours/<id:pk>/status/", rumours.rumour_status, name="rumour_status"),
    path("rumour-verdicts/<id:pk>/publish/", rumours.rumour_verdict_publish, name="rumour_verdict_publish"),
    path("rumour-verdicts/<id:pk>/review/", rumours.rumour_verdict_review, name="rumour_verdict_review"),
    path("cap/<id:pk>/", cap.message_cap, name="message_cap"),
]
