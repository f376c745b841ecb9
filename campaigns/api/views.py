"""Outbound API views: events, campaigns, segments, channels, list recipients, checks and the pause (messages
and their variants: ``campaigns.api.messages``). They call selectors to read and services to write; nothing else."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions
from accounts.models import Role, Team
from campaigns import publishing, selectors
from campaigns.api import serializers as s
from campaigns.api.base import ReadCreatePatchViewSet, default_team
from campaigns.api.filters import ScopedFilterSet
from campaigns.models import Event
from campaigns.services import channels as channel_services
from campaigns.services import events as event_services
from campaigns.services import recipients as recipient_services
from campaigns.services import segments as segment_services
from campaigns.services.checks import run_checks
from core.errors import InvalidInput, NotAllowed, NotFound


class EventFilter(ScopedFilterSet):
    class Meta:
        model = Event
        fields = {"kind": ["exact"], "team": ["exact"], "risk_level": ["exact"], "starts_at": ["gte", "lte"]}


class EventViewSet(ReadCreatePatchViewSet):
    serializer_class = s.EventSerializer
    filterset_class = EventFilter

    def get_queryset(self):
        return selectors.events_with_publication(self.request.user).order_by("-starts_at", "id")

    def _fresh(self, event: Event) -> Response:
        event = selectors.events_with_publication(self.request.user).get(pk=event.pk)
        return Response(s.EventSerializer(event, context={"request": self.request}).data)

    def perform_create(self, serializer: s.EventSerializer) -> None:
        data = dict(serializer.validated_data)
        team = default_team(self.request, data.pop("team", None), {Role.OFFICER, Role.SUPERVISOR})
        serializer.instance = event_services.event_create(actor=self.request.user, team=team, **data)

    def perform_update(self, serializer: s.EventSerializer) -> None:
        serializer.instance = event_services.event_update(actor=self.request.user, event=serializer.instance,
                                                          **serializer.validated_data)

    @extend_schema(request=s.PhaseOverrideSerializer, responses=s.EventSerializer)
    @action(detail=True, methods=["post"])
    def phase(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        """A supervisor overrides the derived phase (null clears the override)."""
        body = s.PhaseOverrideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        event = event_services.event_set_phase(actor=request.user, event=self.get_object(),
                                               phase=body.validated_data["phase"],
                                               reason=body.validated_data.get("reason", ""))
        return self._fresh(event)

    @extend_schema(request=s.EventPublishSerializer, responses=s.EventSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        """A supervisor who wrote none of the unpublished changes publishes the reviewed version
        (by its ``content_hash``) on the public pages. 403 for an author or a non-supervisor, 409
        when there is nothing to publish or the content changed since it was reviewed."""
        body = s.EventPublishSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        event = event_services.event_publish(actor=request.user, event=self.get_object(),
                                             expected_hash=body.validated_data["content_hash"])
        return self._fresh(event)


class CampaignViewSet(ReadCreatePatchViewSet):
    serializer_class = s.CampaignSerializer
    filterset_fields = ["team", "event", "archived"]

    def get_queryset(self):
        return selectors.campaigns_for(self.request.user).order_by("-created_at", "id")

    def perform_create(self, serializer: s.CampaignSerializer) -> None:
        data = dict(serializer.validated_data)
        team = default_team(self.request, data.pop("team", None), {Role.OFFICER, Role.SUPERVISOR})
        serializer.instance = event_services.campaign_create(
            actor=self.request.user, team=team, name=data.get("name", ""), event=data.get("event"),
            description=data.get("description", ""))

    def perform_update(self, serializer: s.CampaignSerializer) -> None:
        serializer.instance = event_services.campaign_update(actor=self.request.user, campaign=serializer.instance,
                                                             **serializer.validated_data)


class SegmentViewSet(ReadCreatePatchViewSet):
    serializer_class = s.SegmentSerializer
    filterset_fields = ["team"]

    def get_queryset(self):
        return selectors.segments_for(self.request.user).order_by("name", "id")

    def perform_create(self, serializer: s.SegmentSerializer) -> None:
        data = dict(serializer.validated_data)
        team = default_team(self.request, data.pop("team", None), {Role.OFFICER, Role.SUPERVISOR})
        data["partners"] = [{**p, "channel": p["channel"].pk if p.get("channel") else None}
                            for p in data.get("partners", [])]
        serializer.instance = segment_services.segment_create(actor=self.request.user, team=team, **data)

    def perform_update(self, serializer: s.SegmentSerializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("team", None)
        if "partners" in data:
            data["partners"] = [{**p, "channel": p["channel"].pk if p.get("channel") else None}
                                for p in data["partners"]]
        serializer.instance = segment_services.segment_update(actor=self.request.user, segment=serializer.instance,
                                                              **data)


class ChannelViewSet(ReadCreatePatchViewSet):
    serializer_class = s.ChannelSerializer
    filterset_fields = ["team", "kind", "health", "is_active"]

    def get_queryset(self):
        return selectors.channels_for(self.request.user).order_by("team", "kind", "name", "id")

    def perform_create(self, serializer: s.ChannelSerializer) -> None:
        data = dict(serializer.validated_data)
        team = default_team(self.request, data.pop("team", None), {Role.ADMIN})
        serializer.instance = channel_services.channel_create(actor=self.request.user, team=team, kind=data["kind"],
                                                              name=data["name"], config=data.get("config"))

    def perform_update(self, serializer: s.ChannelSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = channel_services.channel_update(
            actor=self.request.user, channel=serializer.instance, name=data.get("name"), config=data.get("config"),
            is_active=data.get("is_active"))


class ChecksView(APIView):
    @extend_schema(request=s.CheckRequestSerializer, responses=s.FindingSerializer(many=True))
    def post(self, request: Request) -> Response:
        body = s.CheckRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        team = None
        if data.get("team"):
            if not permissions.can_view_team(request.user, data["team"]):
                raise NotFound("No such team.")
            team = Team.objects.get(pk=data["team"])
        findings = run_checks(body=data["body"], channels=list(data["channels"]), language=data["language"],
                              hashtags=data["hashtags"], event_hashtags=data["event_hashtags"],
                              instructive=data["instructive"], alt_texts=data["alt_texts"], team=team)
        return Response([{"code": f.code, "severity": f.severity, "message": f.message,
                          "span": list(f.span) if f.span else None} for f in findings])


class PauseView(APIView):
    resume = False

    @extend_schema(request=s.ReasonSerializer, responses=OpenApiResponse(description="The pause state"))
    def post(self, request: Request) -> Response:
        body = s.ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        team = body.validated_data.get("team")
        if team is not None and not permissions.can_view_team(request.user, team):
            raise NotFound("No such team.")
        if self.resume:
            held = publishing.publishing_resume(actor=request.user, reason=body.validated_data["reason"], team=team)
            return Response({"paused": False, "team": team, "held_for_review": held})
        pause = publishing.publishing_pause(actor=request.user, reason=body.validated_data["reason"], team=team)
        return Response({"paused": True, "team": pause.team_id, "reason": pause.reason, "paused_at": pause.paused_at},
                        status=status.HTTP_201_CREATED)



def _list_channel(request: Request, value: Any) -> Any:
    """A list channel the caller may see (unknown and other forces' ids answer alike); the service
    then refuses those who may not manage it."""
    channel = selectors.channels_for(request.user).filter(pk=value, kind__in=["sms", "email"]).first()
    if channel is None:
        raise InvalidInput("Unknown list channel.", fields={"channel": ["Choose an SMS or email channel."]})
    if not permissions.can_manage_channels(request.user, channel.team_id):
        raise NotAllowed("Only an administrator of this team manages its recipients.")
    return channel


class ListRecipientViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                           viewsets.GenericViewSet):
    """People on the SMS and email lists of the teams you administer (addresses masked)."""

    http_method_names = ["get", "post", "head", "options"]
    serializer_class = s.ListRecipientSerializer
    filterset_fields = ["channel", "language"]

    def get_queryset(self):
        return selectors.list_recipients_for(self.request.user).order_by("channel", "id")

    def perform_create(self, serializer: s.ListRecipientSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = recipient_services.recipient_add(
            actor=self.request.user, channel=_list_channel(self.request, data["channel_id"]), address=data["address"],
            language=data["language"], segments=data["segments"], consent_source=data["consent_source"])

    @extend_schema(request=s.ListRecipientImportSerializer,
                   responses=inline_serializer("ListImportResult", {
                       "added": drf_serializers.IntegerField(), "already_listed": drf_serializers.IntegerField(),
                       "opted_out": drf_serializers.IntegerField(), "invalid": drf_serializers.IntegerField()}))
    @action(detail=False, methods=["post"], url_path="import", url_name="import")
    def import_list(self, request: Request, format: str | None = None) -> Response:
        """Add many people to a list at once (one address per line); audited."""
        body = s.ListRecipientImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = recipient_services.recipients_import(
            actor=request.user, channel=_list_channel(request, data["channel"]), text=data["text"],
            language=data["language"], segments=data["segments"], consent_source=data["consent_source"])
        return Response(result, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[OpenApiParameter("channel", int, required=True)],
                   responses=s.ListRecipientExportSerializer(many=True))
    @action(detail=False, methods=["get"])
    def export(self, request: Request, format: str | None = None) -> Response:
        """Every person on one list with their address in the clear (administrators; audited)."""
        value = request.query_params.get("channel", "")
        if not value.isdigit() or not 0 < int(value) < 2**63:
            raise InvalidInput("Say which list.", fields={"channel": ["A channel id is required."]})
        rows = recipient_services.recipients_export(actor=request.user, channel=_list_channel(request, int(value)))
        return Response(rows)

    @extend_schema(request=s.OptOutSerializer, responses=s.ListRecipientSerializer)
    @action(detail=True, methods=["post"], url_path="opt-out")
    def opt_out(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        """Take someone off the list: they get nothing more."""
        body = s.OptOutSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        recipient = recipient_services.recipient_opt_out(actor=request.user, recipient=self.get_object(),
                                                         reason=body.validated_data.get("reason", ""))
        return Response(s.ListRecipientSerializer(recipient).data)
