"""Inbound API: platform webhooks, the replies inbox, answers and the trust metrics.

Views read through ``engage.inbound.selectors`` and write through ``engage.inbound``; nothing here
saves a model.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, transaction
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from accounts.models import User
from campaigns.models import ChannelKind
from core.api import error_response
from core.client_ip import client_ip
from core.errors import InvalidInput, NotFound
from core.ids import IdConverter, parse_id
from engage.inbound import answers, retention, selectors, triage
from engage.inbound import serializers as s
from engage.inbound.ingest import inbound_channel, inbound_receive, inbound_reject_record
from engage.metrics import trust_metrics
from engage.models import AnswerTemplate, Reply, ReplyAnswer
from platforms.inbound import WebhookRejected

logger = logging.getLogger(__name__)

TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


# --- webhooks ---------------------------------------------------------------------------------

_cache_down_logged = 0.0


def _cache_down() -> None:
    """The throttles count in the shared cache. While it is unreachable they let requests through
    (a platform's replies matter more than flood protection for a while; signatures are still
    checked) and say so in the log, at most once a minute."""
    global _cache_down_logged
    if time.monotonic() - _cache_down_logged > 60:
        _cache_down_logged = time.monotonic()
        logger.warning("The cache is unavailable: inbound webhooks are not rate-limited meanwhile.", exc_info=True)


class _FixedWindowThrottle(SimpleRateThrottle):
    """A fixed-window counter (one increment per request) rather than DRF's sliding window, which
    keeps every request's time in one cache entry and rewrites it on each request: at the rates a
    platform delivers during an incident that list is thousands long. A fixed window may let up
    to twice the rate through across a window boundary, which is fine for flood protection.

    The caller is :func:`core.client_ip.client_ip` (``X-Forwarded-For`` only from a trusted
    proxy). Every check runs before the channel is looked up.
    """

    def ident(self, request: Request, view: APIView) -> str:
        return client_ip(request._request) or "unknown"

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident(request, view)}

    def _window_key(self, request: Request, view: APIView) -> tuple[str, int, float]:
        now = self.timer()
        window = int(now // self.duration)
        return f"{self.get_cache_key(request, view)}:{window}", window, now

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        try:
            return self._allow(request, view)
        except Exception:  # noqa: BLE001 - the cache (Redis) is down: let the platforms' replies in
            _cache_down()
            return True

    def _allow(self, request: Request, view: APIView) -> bool:
        key, window, now = self._window_key(request, view)
        try:
            count = self.cache.incr(key)
        except ValueError:
            if self.cache.add(key, 1, timeout=self.duration + 1):
                count = 1
            else:
                count = self.cache.incr(key)
        if count > self.num_requests:
            self._wait = (window + 1) * self.duration - now
            return False
        return True

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


class InboundThrottle(_FixedWindowThrottle):
    """Per channel id and caller address, at the ``inbound`` rate of the settings."""

    scope = "inbound"

    def ident(self, request: Request, view: APIView) -> str:
        return f"{view.kwargs.get('channel_id')}:{super().ident(request, view)}"


class InboundAddressThrottle(_FixedWindowThrottle):
    """Per caller address over every channel id (``inbound_address``): made-up ids share one budget."""

    scope = "inbound_address"


class InboundRefusedThrottle(_FixedWindowThrottle):
    """Refusals cost the caller: more than ``inbound_refused`` of them in the window and the
    caller gets 429 before any lookup until the window ends. Platforms are almost never refused,
    so this stops guessing and junk long before the general rates do.

    Two counters: per address for requests to ids that are no channel (so made-up ids block the
    address everywhere), and per channel and address for refusals by a real channel (so one
    misconfigured channel, say a rotated secret, never holds back the platform's other channels).
    """

    scope = "inbound_refused"

    def _allow(self, request: Request, view: APIView) -> bool:
        now = self.timer()
        window = int(now // self.duration)
        for key in self._keys(request, view, window):
            if self.cache.get(key, 0) + 1 > self.num_requests:  # as if this request were refused too
                self._wait = (window + 1) * self.duration - now
                return False
        return True

    def _keys(self, request: Request, view: APIView, window: int) -> list[str]:
        address = self.ident(request, view)
        channel_ref = view.kwargs.get("channel_id")
        return [f"{self.cache_format % {'scope': self.scope, 'ident': ident}}:{window}"
                for ident in (address, f"{channel_ref}:{address}")]

    def note_refusal(self, request: Request, view: APIView, *, channel_known: bool) -> None:
        if self.rate is None:
            return
        window = int(self.timer() // self.duration)
        by_address, by_channel = self._keys(request, view, window)
        key = by_channel if channel_known else by_address
        try:
            if not self.cache.add(key, 1, timeout=self.duration + 1):
                try:
                    self.cache.incr(key)
                except ValueError:
                    self.cache.set(key, 1, timeout=self.duration + 1)
        except Exception:  # noqa: BLE001 - the cache is down: the refusal is still recorded and answered
            _cache_down()


class InboundView(APIView):
    """``POST /api/v1/inbound/{channel_id}/``: a platform delivers replies.

    Verified by the channel's scheme (Telegram secret-token header, Twilio signature over the
    full URL and the form, partner HMAC-SHA256 with a five-minute timestamp window), stored and
    committed, and only then acknowledged with 200. Refusals are 4xx in the contract's error
    format and recorded; a flood is 429; a database outage is 503 (the platform retries).
    """

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [InboundRefusedThrottle, InboundAddressThrottle, InboundThrottle]
    parser_classes: list[Any] = []  # the body is read raw: signatures cover the exact bytes

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        # Never inside a request-wide transaction: each reply must be committed before the 2xx.
        return transaction.non_atomic_requests(super().as_view(**initkwargs))

    @extend_schema(
        request=OpenApiTypes.BINARY,
        responses={200: inline_serializer("InboundAccepted", {"accepted": serializers.IntegerField(),
                                                              "duplicates": serializers.IntegerField()}),
                   400: OpenApiResponse(description="Malformed body"),
                   401: OpenApiResponse(description="Missing or expired credentials"),
                   403: OpenApiResponse(description="Bad signature or token"),
                   404: OpenApiResponse(description="No such active inbound channel"),
                   413: OpenApiResponse(description="Body or text too large"),
                   429: OpenApiResponse(description="Too many requests")},
    )
    def post(self, request: Request, channel_id: str) -> HttpResponse:
        raw = request._request
        remote = client_ip(raw)

        def refuse(*, channel: Any, code: str, status: int, message: str, body: bytes) -> HttpResponse:
            InboundRefusedThrottle().note_refusal(request, self, channel_known=channel is not None)
            inbound_reject_record(channel=channel, channel_ref=channel_id, code=code, status=status,
                                  message=message, remote_addr=remote, body=body)
            return error_response(status_code=status, code=code, message=message)

        try:
            body = raw.body
        except RequestDataTooBig:
            return refuse(channel=None, code="payload.too_large", status=413, message="The body is too large.",
                          body=b"")
        try:
            channel = inbound_channel(channel_id)
        except NotFound:
            return refuse(channel=None, code="not_found", status=404, message="Not found.", body=body)
        try:
            form = raw.POST if channel.kind == ChannelKind.SMS else {}
            stored = inbound_receive(channel=channel, headers=raw.headers, body=body,
                                     url=raw.build_absolute_uri(), form=form)
        except WebhookRejected as exc:
            return refuse(channel=channel, code=exc.code, status=exc.status, message=exc.message, body=body)
        except DatabaseError:
            logger.exception("Could not store replies for channel %s", channel.pk)
            response = error_response(status_code=503, code="unavailable",
                                      message="The replies could not be stored just now. Try again shortly.")
            response["Retry-After"] = "5"
            return response
        created = sum(1 for item in stored if item.created)
        if channel.kind == ChannelKind.SMS:
            return HttpResponse(TWIML_EMPTY, content_type="text/xml")
        return Response({"accepted": created, "duplicates": len(stored) - created})


# --- the inbox ----------------------------------------------------------------------------------

_LIST_PARAMETERS = [
    OpenApiParameter(name, type=kind, description=text) for name, kind, text in (
        ("event", int, "Replies to messages of this event"),
        ("campaign", int, "Replies to messages of this campaign"),
        ("segment", int, "Replies to messages aimed at this audience"),
        ("channel", int, "Channel the reply came in on"),
        ("team", int, "Team inbox"),
        ("language", str, "ISO 639-1 code, or 'unknown'"),
        ("category", str, "question, information, complaint, praise, rumour, emergency, crime_report, abuse, spam"),
        ("sentiment", str, "positive, neutral, negative, unknown"),
        ("status", str, "new, triaged, assigned, answered, closed, escalated (several: comma-separated)"),
        ("source", str, "telegram, sms, webhook, mastodon, web"),
        ("assignee", str, "A user id, 'me' or 'none'"),
        ("urgent", bool, "Only urgent (true) or only not urgent (false)"),
        ("restricted", bool, "The restricted queue (intelligence liaisons only)"),
        ("overdue", bool, "Past their response time and still unanswered"),
        ("open", bool, "Not answered or closed yet"),
        ("since", OpenApiTypes.DATETIME, "Received at or after"),
        ("until", OpenApiTypes.DATETIME, "Received before"),
        ("order", str, "'urgent' (default: urgent first, then oldest) or 'newest'"),
    )
]


def _filters(request: Request) -> selectors.InboxFilters:
    query = s.ReplyQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    data = dict(query.validated_data)
    order = data.pop("order", "")
    return selectors.InboxFilters(**data, order="newest" if order == "newest" else "")


class InboxPagination(PageNumberPagination):
    """The contract's pagination, with ``count_exact``: False when ``count`` is the database's
    estimate for a very long list (see ``CappedPaginator``)."""

    django_paginator_class = selectors.CappedPaginator

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        response.data["count_exact"] = self.page.paginator.count_exact
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        result = super().get_paginated_response_schema(schema)
        result["properties"]["count_exact"] = {"type": "boolean"}
        return result


class ReplyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The triage inbox. Lists mask personal data; ``?reveal=1`` on one reply shows it to those
    allowed to see it, and puts that on the audit trail."""

    serializer_class = s.ReplySerializer
    pagination_class = InboxPagination
    filter_backends: list[Any] = []
    lookup_value_regex = IdConverter.regex
    http_method_names = ["get", "patch", "post", "head", "options"]
    queryset = Reply.objects.none()

    def get_queryset(self):
        return selectors.reply_list(self.request.user, _filters(self.request))

    def _reply(self, pk: Any) -> Reply:
        number = parse_id(pk)
        reply = selectors.reply_detail(self.request.user, number) if number is not None else None
        if reply is None:
            raise NotFound("No such reply.")
        return reply

    def _detail(self, reply: Reply, *, reveal: bool = False, code: int = status.HTTP_200_OK) -> Response:
        fresh = self._reply(reply.pk)
        data = s.ReplyDetailSerializer(fresh, context={"request": self.request, "reveal": reveal}).data
        return Response(data, status=code)

    @extend_schema(parameters=_LIST_PARAMETERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[OpenApiParameter("reveal", bool, description="Show the personal details (audited)")],
                   responses=s.ReplyDetailSerializer)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        reply = self._reply(kwargs["pk"])
        reveal = request.query_params.get("reveal", "").lower() in ("1", "true", "yes")
        if reveal:
            triage.reply_reveal_personal_data(actor=request.user, reply=reply,
                                              purpose=request.query_params.get("purpose", ""))
        return Response(s.ReplyDetailSerializer(reply, context={"request": request, "reveal": reveal}).data)

    @extend_schema(request=s.ReplyPatchSerializer, responses=s.ReplyDetailSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        reply = self._reply(kwargs["pk"])
        body = s.ReplyPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        if "assignee" in data:
            data["assignee"] = self._user(data["assignee"])
        reply = triage.reply_update(actor=request.user, reply=reply, **data)
        return self._detail(reply)

    def _user(self, value: Any) -> User | None:
        if value in (None, ""):
            return None
        if value == "me":
            return self.request.user
        number = parse_id(value)
        user = User.objects.filter(pk=number, is_active=True).first() if number is not None else None
        if user is None:
            raise InvalidInput("Unknown user.", fields={"assignee": ["Unknown user."]})
        return user

    @extend_schema(request=s.RespondSerializer, responses={201: s.AnswerSerializer, 202: s.AnswerSerializer})
    @action(detail=True, methods=["post"])
    def respond(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        """A template answer goes out now (201); free text becomes a message for approval (202)."""
        reply = self._reply(pk)
        body = s.RespondSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        template = None
        if "template" in body.validated_data:
            template = AnswerTemplate.objects.filter(pk=body.validated_data["template"], is_active=True).first()
            if template is None:
                raise InvalidInput("Unknown template.", fields={"template": ["Unknown template."]})
        answer = answers.reply_respond(actor=request.user, reply=reply, template=template,
                                       body=body.validated_data.get("body"))
        code = status.HTTP_201_CREATED if answer.kind == "template" else status.HTTP_202_ACCEPTED
        return Response(s.AnswerSerializer(answer).data, status=code)

    @extend_schema(request=None, responses=s.AnswerSerializer)
    @action(detail=True, methods=["post"], url_path=r"answers/(?P<answer_id>[0-9]{1,19})/adopt")
    def adopt(self, request: Request, pk: str | None = None, answer_id: str | None = None,
              format: str | None = None) -> Response:
        """A drafter sends a liaison officer's proposed answer for approval."""
        reply = self._reply(pk)
        number = parse_id(answer_id)
        answer = (ReplyAnswer.objects.filter(pk=number, reply=reply).select_related("reply").first()
                  if number is not None else None)
        if answer is None:
            raise NotFound("No such answer.")
        answer = answers.answer_adopt(actor=request.user, answer=answer, body=request.data.get("body") or None)
        return Response(s.AnswerSerializer(answer).data)

    @extend_schema(request=s.HeldAnswerSerializer, responses=s.AnswerSerializer)
    @action(detail=True, methods=["post"], url_path=r"answers/(?P<answer_id>\d+)/release")
    def release(self, request: Request, pk: str | None = None, answer_id: str | None = None,
                format: str | None = None) -> Response:
        """A person decides on an automatic answer held by its channel's hourly cap: send or drop it."""
        body = s.HeldAnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reply = self._reply(pk)
        answer = ReplyAnswer.objects.filter(pk=answer_id, reply=reply).select_related("reply").first()
        if answer is None:
            raise NotFound("No such answer.")
        answer = answers.answer_release_held(actor=request.user, answer=answer, send=body.validated_data["send"])
        return Response(s.AnswerSerializer(answer).data)

    @extend_schema(request=s.NoteWriteSerializer, responses={201: s.NoteSerializer})
    @action(detail=True, methods=["post"])
    def notes(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        body = s.NoteWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        note = triage.reply_note_add(actor=request.user, reply=self._reply(pk), body=body.validated_data["body"])
        return Response(s.NoteSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.EscalateSerializer, responses=s.ReplyDetailSerializer)
    @action(detail=True, methods=["post"])
    def escalate(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        body = s.EscalateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reply = triage.reply_escalate(actor=request.user, reply=self._reply(pk),
                                      reason=body.validated_data["reason"])
        return self._detail(reply)

    @extend_schema(request=s.BulkSerializer,
                   responses=inline_serializer("BulkResult", {"updated": serializers.IntegerField()}))
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request, format: str | None = None) -> Response:
        body = s.BulkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        ids = list(dict.fromkeys(data["ids"]))
        found = {r.pk: r for r in selectors.visible_replies(request.user).filter(pk__in=ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"No such replies: {', '.join(map(str, missing[:10]))}.")
        assignee = self._user(data.get("assignee")) if data["action"] == "assign" else None
        if data["action"] == "assign" and assignee is None:
            raise InvalidInput("Say who to assign them to.", fields={"assignee": ["Required."]})
        if data["action"] == "status" and not data.get("status"):
            raise InvalidInput("Say which status.", fields={"status": ["Required."]})
        count = triage.replies_bulk(actor=request.user, replies=[found[i] for i in ids], action=data["action"],
                                    assignee=assignee, status=data.get("status", ""))
        return Response({"updated": count})

    @extend_schema(parameters=_LIST_PARAMETERS, responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"])
    def export(self, request: Request, format: str | None = None) -> HttpResponse:
        """The filtered inbox as CSV, personal data masked (audited)."""
        filters = _filters(request)
        rows = selectors.reply_list(request.user, filters)[:10_000]
        content = triage.replies_export_csv(actor=request.user, replies=rows, filters=filters.as_dict())
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="replies.csv"'
        return response

    @extend_schema(parameters=[OpenApiParameter("handle", str, required=True,
                                                description="A handle or phone number")],
                   responses=OpenApiResponse(description="Every reply stored from that person"))
    @action(detail=False, methods=["get"], url_path="subject-access")
    def subject_access(self, request: Request, format: str | None = None) -> Response:
        """A subject-access export (administrators; audited)."""
        return Response(retention.replies_subject_access(actor=request.user,
                                                         handle=request.query_params.get("handle", "")))

    @extend_schema(request=s.EraseSerializer,
                   responses=inline_serializer("EraseResult", {"erased": serializers.IntegerField(),
                                                               "held": serializers.IntegerField(),
                                                               "list_entries": serializers.IntegerField()}))
    @action(detail=False, methods=["post"])
    def erase(self, request: Request, format: str | None = None) -> Response:
        """Erase everything from one handle or phone number (administrators; audited)."""
        body = s.EraseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(retention.replies_erase(actor=request.user, handle=body.validated_data["handle"],
                                                reason=body.validated_data["reason"]))


# --- metrics ------------------------------------------------------------------------------------

class TrustMetricsView(APIView):
    """``GET /api/v1/metrics/trust/``: response rate, time to first response, sentiment, volume."""

    @extend_schema(parameters=[OpenApiParameter(n, t) for n, t in (
        ("event", int), ("segment", int), ("channel", int), ("team", int),
        ("since", OpenApiTypes.DATETIME), ("until", OpenApiTypes.DATETIME))],
        responses=OpenApiResponse(description="Trust metrics"))
    def get(self, request: Request) -> Response:
        query = s.MetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(trust_metrics(user=request.user, **query.validated_data))
