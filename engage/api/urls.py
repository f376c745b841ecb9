"""/api/v1/: the public HTTP contract (see shared API.md and /api/schema/)."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from accounts.api.views import MeView, ObtainTokenView
from campaigns.api import views as outbound

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("events", outbound.EventViewSet, basename="event")
router.register("campaigns", outbound.CampaignViewSet, basename="campaign")
router.register("messages", outbound.MessageViewSet, basename="message")
router.register("variants", outbound.VariantViewSet, basename="variant")
router.register("segments", outbound.SegmentViewSet, basename="segment")
router.register("channels", outbound.ChannelViewSet, basename="channel")

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("me/", MeView.as_view(), name="api-me"),
    path("checks/", outbound.ChecksView.as_view(), name="api-checks"),
    path("publishing/pause/", outbound.PauseView.as_view(resume=False), name="api-pause"),
    path("publishing/resume/", outbound.PauseView.as_view(resume=True), name="api-resume"),
    path("", include(router.urls)),
]
