"""The outbound API's messages and their variants: create, edit, submit, approve, schedule, withdraw."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.policies import policy_for
from campaigns import publishing, selectors
from campaigns.api import serializers as s
from campaigns.api.base import ReadCreatePatchViewSet
from campaigns.api.filters import ScopedFilterSet
from campaigns.models import Message, Variant
from campaigns.services import coverage, workflow
from campaigns.services import messages as message_services
from core.errors import InvalidInput
from core.ids import IdFilter
from core.parsers import FormParser, JSONParser, MultiPartParser


class MessageFilter(ScopedFilterSet):
    event = IdFilter(field_name="campaign__event")

    class Meta:
        model = Message
        fields = ["campaign", "status", "urgency", "team", "author", "language"]


class MessageViewSet(ReadCreatePatchViewSet):
    filterset_class = MessageFilter
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        return selectors.messages_for(self.request.user).order_by("-created_at", "-id")

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return s.MessageWriteSerializer
        return s.MessageSerializer

    def _out(self, message: Message, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.message_detail(self.request.user, message.pk)
        return Response(s.MessageSerializer(fresh, context={"request": self.request}).data, status=code)

    @extend_schema(request=s.MessageWriteSerializer, responses={201: s.MessageSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = s.MessageWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        if "campaign" not in data:
            raise InvalidInput("Say which campaign the message belongs to.", fields={"campaign": ["Required."]})
        if not data.get("body"):
            raise InvalidInput("The message needs some text.", fields={"body": ["This field is required."]})
        campaign = selectors.campaigns_for(request.user).filter(pk=data.pop("campaign")).first()
        if campaign is None:
            raise InvalidInput("Unknown campaign.", fields={"campaign": ["Unknown campaign."]})
        correction_of = None
        if data.get("correction_of"):
            correction_of = selectors.messages_for(request.user).filter(pk=data["correction_of"]).first()
            if correction_of is None:
                raise InvalidInput("Unknown message to correct.", fields={"correction_of": ["Unknown message."]})
        variants = data.pop("variants", [])
        data.pop("expected_version", None)
        data.pop("correction_of", None)
        with transaction.atomic():
            message = message_services.message_create(actor=request.user, campaign=campaign,
                                                      correction_of=correction_of, **data)
            for item in variants:
                message_services.variant_add(actor=request.user, message=message, **item)
        return self._out(message, status.HTTP_201_CREATED)

    @extend_schema(request=s.MessageWriteSerializer, responses=s.MessageSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        message = self.get_object()
        body = s.MessageWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        for key in ("campaign", "correction_of"):
            if key in data:
                raise InvalidInput(f"{key} cannot be changed.", fields={key: ["Read-only after creation."]})
        variants = data.pop("variants", None)
        with transaction.atomic():
            message = message_services.message_update(actor=request.user, message=message, **data)
            if variants is not None:
                message_services.variants_replace(actor=request.user, message=message, variants=variants)
        return self._out(message)

    def _run(self, fn: Any, **kwargs: Any) -> Response:
        return self._out(fn(actor=self.request.user, message=self.get_object(), **kwargs))

    @extend_schema(request=None, responses=s.MessageSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        return self._run(workflow.message_submit)

    @extend_schema(request=s.ApproveSerializer, responses=s.MessageSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        body = s.ApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._run(workflow.message_approve, expected_hash=body.validated_data.get("content_hash", ""))

    @extend_schema(request=s.CommentSerializer, responses=s.MessageSerializer)
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        body = s.CommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._run(workflow.message_request_changes, comment=body.validated_data["comment"])

    @extend_schema(request=s.CommentSerializer, responses=s.MessageSerializer)
    @action(detail=True, methods=["post"], url_path="emergency-review")
    def emergency_review(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        body = s.CommentSerializer(data=request.data or {"comment": "Reviewed."})
        body.is_valid(raise_exception=True)
        return self._run(workflow.message_emergency_review, comment=body.validated_data["comment"])

    @extend_schema(request=s.ScheduleSerializer, responses=s.ScheduleResultSerializer)
    @action(detail=True, methods=["post"])
    def schedule(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        """The contract keeps "a time in the past means now"; the answer says plainly when it goes out now."""
        body = s.ScheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        when = body.validated_data.get("scheduled_at")
        if body.validated_data.get("send_now"):
            if when is not None and when > timezone.now():
                raise InvalidInput("Give either send_now or a future scheduled_at, not both.",
                                   fields={"send_now": ["Conflicts with scheduled_at."]})
            when = None
        message = publishing.message_schedule(actor=request.user, message=self.get_object(), scheduled_at=when)
        fresh = selectors.message_detail(request.user, message.pk)
        fresh.sending_now = when is None or when <= timezone.now()
        if not fresh.sending_now:
            fresh.notice = f"Scheduled for {message.scheduled_at.isoformat()}."
        elif body.validated_data.get("send_now"):
            fresh.notice = "Sending now."
        else:
            fresh.notice = "Sending now: no time was given, or the time given has passed."
        return Response(s.ScheduleResultSerializer(fresh, context={"request": request}).data)

    @extend_schema(request=s.WithdrawSerializer, responses=s.MessageSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        body = s.WithdrawSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._run(publishing.message_withdraw, reason=body.validated_data.get("reason", ""),
                         confirmation="api")

    @extend_schema(request=None, responses=s.MessageSerializer)
    @action(detail=True, methods=["post"], url_path="pause-override")
    def pause_override(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        """A second supervisor lets an emergency message out during a pause."""
        return self._run(publishing.emergency_pause_override)

    @extend_schema(request=s.CommentSerializer, responses=s.MessageSerializer)
    @action(detail=True, methods=["post"])
    def comments(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        body = s.CommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        message = self.get_object()
        message_services.comment_add(actor=request.user, message=message, body=body.validated_data["comment"])
        return self._out(message, status.HTTP_201_CREATED)

    @extend_schema(responses=OpenApiResponse(description="Versions, comments and state changes"))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        message = self.get_object()
        history = selectors.message_history(message)
        return Response({
            "versions": [{"version": v.version, "content_hash": v.content_hash, "snapshot": v.snapshot,
                          "actor": v.created_by.email if v.created_by_id else None, "at": v.created_at}
                         for v in history["versions"]],
            "comments": [{"id": c.pk, "kind": c.kind, "body": c.body, "version": c.version,
                          "actor": c.author.email, "at": c.created_at} for c in history["comments"]],
            "events": [{"verb": e.verb, "actor": e.actor_label, "at": e.at, "summary": e.summary}
                       for e in history["events"]],
        })

    @extend_schema(responses=s.DeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        message = self.get_object()
        rows = selectors.deliveries_for(message).select_related("message")
        return Response(s.DeliverySerializer(rows, many=True).data)

    @extend_schema(request=s.VariantWriteSerializer, responses={201: s.VariantSerializer})
    @action(detail=True, methods=["post"])
    def variants(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        body = s.VariantWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        variant = message_services.variant_add(actor=request.user, message=self.get_object(),
                                               **body.validated_data)
        return Response(s.VariantSerializer(variant).data, status=status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": s.MediaUploadSerializer}, responses={201: s.MediaSerializer})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def media(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        body = s.MediaUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        message = self.get_object()
        variant = None
        if body.validated_data.get("variant"):
            variant = message.variants.filter(pk=body.validated_data["variant"]).first()
            if variant is None:
                raise InvalidInput("Unknown variant.", fields={"variant": ["Unknown variant."]})
        upload = body.validated_data["file"]
        if upload.size > 10 * 1024 * 1024:
            from core.errors import TooLarge

            raise TooLarge("Images can be at most 10 MB.", fields={"file": ["Too large."]})
        asset = message_services.media_add(actor=request.user, message=message, data=upload.read(),
                                           alt_text=body.validated_data["alt_text"], variant=variant)
        return Response(s.MediaSerializer(asset).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=OpenApiResponse(description="Delivery plan per targeted segment, coverage gaps, and "
                                                         "who on each SMS or email list gets which text (counts, cost)"))
    @action(detail=True, methods=["get"])
    def coverage(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        message = self.get_object()
        plans = coverage.delivery_plan(message)
        gaps = [g.as_dict() for p in plans for g in p.gaps]
        return Response({"plan": [p.as_dict() for p in plans], "gaps": gaps,
                         "blocking": bool(gaps) and coverage.coverage_blocks_submission(message),
                         "recipients": [r.as_dict() for r in coverage.recipient_plan(message)]})

    @extend_schema(request=None, responses=s.MessageSerializer)
    @action(detail=True, methods=["post"], url_path="apply-plan")
    def apply_plan(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        """Add the channels the delivery plan proposes for the targeted segments."""
        return self._run(coverage.message_apply_plan)

    @extend_schema(responses=OpenApiResponse(description="Checker findings for the message and every variant"))
    @action(detail=True, methods=["get"])
    def findings(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        return Response([f.as_dict() for f in workflow.submission_findings(self.get_object())])


class VariantViewSet(mixins.RetrieveModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin,
                     viewsets.GenericViewSet):
    http_method_names = ["get", "patch", "delete", "head", "options"]
    serializer_class = s.VariantSerializer

    def get_queryset(self):
        return policy_for(Variant).queryset(self.request.user, "view").prefetch_related("channels")

    @extend_schema(request=s.VariantPatchSerializer, responses=s.VariantSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = s.VariantPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        variant = message_services.variant_update(actor=request.user, variant=self.get_object(),
                                                  **body.validated_data)
        return Response(s.VariantSerializer(variant).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        message_services.variant_remove(actor=request.user, variant=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
