"""Staff pages for the public face (rumour control, CAP fields), included from campaigns/urls.py."""

from django.urls import path

from campaigns.views import cap, rumours

urlpatterns = [
    path("events/<int:pk>/rumours/", rumours.rumour_board, name="rumours"),
    path("rumours/<int:pk>/status/", rumours.rumour_status, name="rumour_status"),
    path("cap/<int:pk>/", cap.message_cap, name="message_cap"),
]
