"""/api/v1/: the public HTTP contract (see shared API.md and /api/schema/)."""

from typing import Any

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from accounts.api.views import LogoutAllView, LogoutView, MeView, ObtainTokenView
from campaigns.api import messages as outbound_messages
from campaigns.api import views as outbound
from core.ids import IdConverter
from engage.inbound import api as inbound
from engage.metrics import api as metrics


class IdRouter(DefaultRouter):
    """Object URLs take ASCII digits only, at most 19 of them (``[^/.]+`` by default): ``/messages/abc/`` and
    ``/messages/٣/`` are 404 from the resolver. Views still bound the value (``get_object`` and ``parse_id``)."""

    def get_lookup_regex(self, viewset: Any, lookup_prefix: str = "") -> str:
        if getattr(viewset, "lookup_value_regex", None) is None:
            viewset = type(viewset.__name__, (viewset,), {"lookup_value_regex": IdConverter.regex})
        return super().get_lookup_regex(viewset, lookup_prefix)


router = IdRouter(trailing_slash=True)
router.include_root_view = False
router.register("events", outbound.EventViewSet, basename="event")
router.register("campaigns", outbound.CampaignViewSet, basename="campaign")
router.register("messages", outbound_messages.MessageViewSet, basename="message")
router.register("variants", outbound_messages.VariantViewSet, basename="variant")
router.register("segments", outbound.SegmentViewSet, basename="segment")
router.register("channels", outbound.ChannelViewSet, basename="channel")
router.register("recipients", outbound.ListRecipientViewSet, basename="recipient")
router.register("replies", inbound.ReplyViewSet, basename="reply")

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("auth/logout/", LogoutView.as_view(), name="api-logout"),
    path("auth/logout-all/", LogoutAllView.as_view(), name="api-logout-all"),
    path("me/", MeView.as_view(), name="api-me"),
    path("checks/", outbound.ChecksView.as_view(), name="api-checks"),
    path("publishing/pause/", outbound.PauseView.as_view(resume=False), name="api-pause"),
    path("publishing/resume/", outbound.PauseView.as_view(resume=True), name="api-resume"),
    path("inbound/<str:channel_id>/", inbound.InboundView.as_view(), name="api-inbound"),
    path("metrics/trust/", inbound.TrustMetricsView.as_view(), name="api-metrics-trust"),
    path("metrics/series/", metrics.SeriesView.as_view(), name="api-metrics-series"),
    path("metrics/export/<slug:table>.<slug:ext>", metrics.ExportView.as_view(), name="api-metrics-export"),
    path("", include(router.urls)),
]
