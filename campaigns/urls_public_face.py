"""Staff pages for the public face (rumour control, CAP fields), included from campaigns/urls.py."""

from django.urls import path

from campaigns.views import cap, rumours

urlpatterns = [
    path("events/<int:pk>/rumours/", rumours.rumour_board, name="rumours"),
    path("rumours/<int:pk>/status/", rumours.rumour_status, name="rumour_status"),
    path("rumour-verdicts/<int:pk>/publish/", rumours.rumour_verdict_publish, name="rumour_verdict_publish"),
    path("rumour-verdicts/<int:pk>/review/", rumours.rumour_verdict_review, name="rumour_verdict_review"),
    path("cap/<int:pk>/", cap.message_cap, name="message_cap"),
]
