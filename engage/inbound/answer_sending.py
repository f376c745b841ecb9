"""Sending an answer to a citizen through the one send engine (``campaigns.publishing``).

An answer follows the rules a message's delivery follows (docs/publishing.md, "Answers to
citizens"), from :mod:`campaigns.publishing.outbound`; this module holds only what is an answer's own:
where it goes (:func:`engage.inbound.answers.answer_route`), the words it was approved with, the
channel's hourly cap, the "Did this answer help?" line, and what a sent answer does to its reply.

    pending --claim (token)--> sending --in flight--> sent | pending (retry) | failed | unconfirmed
                                  \\--(pause, stale claim)--> pending    \\--(cap)--> held

1. **Claim.** A conditional update under a fresh claim token; a second worker finds nothing.
2. **Begin.** The pause is checked (an emergency answer's message overrides it once a second
   supervisor confirmed, as a message's does); the approval is recomputed: a free-text answer's
   message must still match its approved hash (the hash recomputed from the rows) and its words are
   the approved version's; a template's words must be those of an approved version of the template,
   whose hash recomputes. Then the hourly cap, then the in-flight marker, by conditional update on
   the token (and, for free text, on the message's hashes at that instant).
3. **Send and finish.** The platform's answer is sorted as a delivery's is; the outcome's values,
   with backoff and the attempt limit from settings, are written by conditional update on the token
   and the in-flight marker, with the audit row (and a person told when it did not go out).
4. **Reap.** The sweeper returns stale claims to pending and makes answers in flight for longer than
   a task may run unconfirmed (pending again on a platform that deduplicates on our key).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.audit import audit_record
from accounts.notify import notify
from campaigns.models import Channel, Urgency
from campaigns.publishing.lifecycle import _content_matches_approval
from campaigns.publishing.outbound import (
    call_platform,
    claim,
    finished_guard,
    held_by_pause,
    mark_in_flight,
    outcome_values,
    reap_stale,
    release_claim,
)
from campaigns.publishing.send import http_client_for
from campaigns.services.content import approved_snapshot
from core.dbretry import with_reconnect
from core.failpoints import failpoint
from core.pii import mask_pii
from engage.inbound import policies
from engage.inbound.answers import AnswerRoute, _answer_language, answer_hourly_cap, answer_route
from engage.inbound.feedback import feedback_suffix
from engage.models import (
    AnswerKind,
    AnswerStatus,
    AnswerTemplate,
    AnswerTemplateVersion,
    Reply,
    ReplyAnswer,
    ReplyStatus,
)
from platforms import get_adapter
from platforms.base import AdapterError, Payload

logger = logging.getLogger(__name__)

PAUSE_RECHECK = timedelta(seconds=30)  # a paused answer is not asked for again before this


def _rows(answer_id: int):
    return ReplyAnswer.objects.filter(pk=answer_id)


# --- recording an outcome -------------------------------------------------------------------------

def _notify_not_sent(answer: ReplyAnswer, error: str) -> None:
    if answer.created_by_id:
        notify("answer_failed", team=answer.reply.team_id, also=answer.created_by_id,
               url=reverse("inbox:detail", kwargs={"pk": answer.reply_id}),
               text=f"The answer to reply {answer.reply_id} was not sent: {error}")


def _stop(answer_id: int, token: str, *, status: str, error: str = "", alert: bool = False) -> None:
    """Nothing left: the answer claimed under ``token`` (not in flight) ends in ``status``."""
    with transaction.atomic():
        if not _rows(answer_id).filter(status=AnswerStatus.SENDING, claim_token=token,
                                       in_flight_since__isnull=True).update(
                status=status, last_error=error[:500], claim_token=""):
            return
        if status == AnswerStatus.AWAITING_APPROVAL:
            return
        answer = ReplyAnswer.objects.select_related("reply").get(pk=answer_id)
        audit_record(actor=None, verb=f"reply.answer_{status}", target=answer.reply, team=answer.reply.team_id,
                     summary={"answer": answer_id, "error": mask_pii(error)[:300], "attempts": answer.attempts})
        if alert:
            _notify_not_sent(answer, error)


def _finish(answer: ReplyAnswer, token: str | None, outcome: str, **kwargs) -> str:
    """Write an in-flight answer's outcome (:func:`_record_outcome`). The platform has answered: a
    dropped database connection must not lose that answer, so the write is made again on a new
    connection (``core.dbretry``); if the lost attempt had committed, the second finds the row
    finished and returns ""."""
    return with_reconnect(lambda: _record_outcome(answer, token, outcome, **kwargs),
                          what=f"recording answer {answer.pk}'s outcome ({outcome})")


def _record_outcome(answer: ReplyAnswer, token: str | None, outcome: str, *, error: str = "", external_id: str = "",
                    retry_after: float | None = None, feedback_requested: bool = False) -> str:
    """The engine's rule: by conditional update on the token (none: the reaper) and the in-flight
    marker. Returns the answer's status, or "" if someone else finished it."""
    now = timezone.now()
    outcome, values = outcome_values(outcome=outcome, attempts=answer.attempts, now=now, error=error[:500],
                                     external_id=external_id, retry_after=retry_after,
                                     started_at=answer.in_flight_since)
    values.pop("external_url", None)  # an answer keeps the platform's id only
    if outcome == "sent":
        return AnswerStatus.SENT if answer_record_sent(answer.pk, external_id=external_id, token=token,
                                                        feedback_requested=feedback_requested) else ""
    with transaction.atomic():
        if finished_guard(_rows(answer.pk), token=token).update(**values) != 1:
            return ""
        status = values["status"]
        audit_record(actor=None, verb=f"reply.answer_{status}", target=answer.reply, team=answer.reply.team_id,
                     summary={"answer": answer.pk, "error": mask_pii(error)[:300], "attempts": answer.attempts})
        if status != AnswerStatus.PENDING:  # a retry tells nobody; failed or unconfirmed tells a person
            _notify_not_sent(answer, error)
    return status


def answer_record_sent(answer_id: int, *, external_id: str, token: str | None = None, sent_at: datetime | None = None,
                       feedback_requested: bool = False, lookup_token: str | None = None,
                       lookup_answer: str = "") -> bool:
    """The answer went out: sent, and its reply answered (its first response, if it is the first).

    From the engine (``token``: only the in-flight answer of that claim), from the reconciler that
    found it on the platform (``lookup_token``: only the unconfirmed answer of that ask), or from a
    person's word or an answer's message published by the ordinary pipeline (an answer in ``sending``)."""
    with transaction.atomic():
        now = sent_at or timezone.now()
        extra: dict = {"feedback_requested": True} if feedback_requested else {}
        rows = _rows(answer_id).filter(status=AnswerStatus.SENDING)
        if token is not None:
            rows = finished_guard(_rows(answer_id), token=token)
        if lookup_token is not None:
            rows = _rows(answer_id).filter(status=AnswerStatus.UNCONFIRMED, lookup_token=lookup_token)
            extra.update(lookup_token="", lookup_next_at=None, lookup_answer=lookup_answer[:300])
        updated = rows.update(status=AnswerStatus.SENT, sent_at=now, external_id=external_id[:200], last_error="",
                              claim_token="", in_flight_since=None, **extra)
        if not updated:
            return False
        answer = ReplyAnswer.objects.select_related("reply").get(pk=answer_id)
        reply = Reply.objects.select_for_update().get(pk=answer.reply_id)
        fields = []
        if reply.first_response_at is None:
            reply.first_response_at = now
            fields.append("first_response_at")
        if reply.status in (ReplyStatus.NEW, ReplyStatus.TRIAGED, ReplyStatus.ASSIGNED, ReplyStatus.ESCALATED):
            reply.status = ReplyStatus.ANSWERED
            fields.append("status")
        if fields:
            reply.save(update_fields=[*fields, "updated_at"])
        audit_record(actor=None, verb="reply.answer_sent", target=reply, team=reply.team_id,
                     summary={"answer": answer_id, "kind": answer.kind, "external_id": external_id[:200],
                              "message": answer.message_id, "first_response": "first_response_at" in fields})
        return True


# --- the hourly cap -------------------------------------------------------------------------------

def _automatic(answer: ReplyAnswer) -> bool:
    """Sent with no person deciding: the urgent auto-answer, until someone releases it."""
    return answer.kind == AnswerKind.AUTO and answer.created_by_id is None


def _take_cap_slot(answer: ReplyAnswer, channel: Channel, token: str, now) -> bool:
    """Count this answer against its channel's hourly cap. The channel row is locked while counting
    (PostgreSQL; SQLite's immediate transactions serialise writers), so two senders cannot both take
    the last place. An automatic answer past the cap is held for a person (False)."""
    with transaction.atomic():
        # NO KEY UPDATE: rows referring to the channel may still be inserted meanwhile (see
        # campaigns.services.health.channel_health_record); a held answer is audited under this lock.
        Channel.objects.select_for_update(no_key=True).filter(pk=channel.pk).values_list("pk", flat=True).first()
        cap = answer_hourly_cap(channel)
        used = (ReplyAnswer.objects.filter(channel=channel, claimed_at__gte=now - timedelta(hours=1),
                                           status__in=[AnswerStatus.SENDING, AnswerStatus.SENT,
                                                       AnswerStatus.UNCONFIRMED])
                .exclude(pk=answer.pk).count())
        ours = _rows(answer.pk).filter(status=AnswerStatus.SENDING, claim_token=token, in_flight_since__isnull=True)
        if used < cap or not _automatic(answer):
            ours.update(channel=channel)
            return True
        held = ours.update(status=AnswerStatus.HELD, channel=channel, claim_token="",
                           last_error=f"Not sent: {channel.name} has sent its {cap} answers this hour. "
                                      f"Send it or drop it.")
        if held:
            reply = answer.reply
            audit_record(actor=None, verb="reply.answer_held", target=reply, team=reply.team_id,
                         summary={"answer": answer.pk, "channel": channel.pk, "cap": cap, "sent_last_hour": used})
            _alert_cap_reached(channel=channel, reply=reply, cap=cap, now=now)
    return False


def _alert_cap_reached(*, channel: Channel, reply: Reply, cap: int, now) -> None:
    """Once an hour per channel: tell the team's supervisors and administrators (audited)."""
    from accounts.models import AuditEvent

    if AuditEvent.objects.filter(verb="channel.answer_cap_reached", target_type="campaigns.channel",
                                 target_id=str(channel.pk), at__gte=now - timedelta(hours=1)).exists():
        return
    text = (f"{channel.name} reached its cap of {cap} answers an hour: automatic answers are held in the inbox "
            f"until someone sends or drops them. Check for a flood of messages.")
    users = notify("answer_cap_reached", team=channel.team_id, text=text,
                   url=reverse("inbox:detail", kwargs={"pk": reply.pk}))
    audit_record(actor=None, verb="channel.answer_cap_reached", target=channel, team=channel.team_id,
                 summary={"cap": cap, "reply": reply.pk, "alerted": len(users)})


# --- the approval, recomputed -----------------------------------------------------------------------

def _approved_words(answer: ReplyAnswer) -> str | None:
    """The words this answer was approved with, checked again now; None when they are not approved.

    Free text: its message is approved, its stored hash equals the approved one and the hash
    recomputed from the rows agrees (``lifecycle._content_matches_approval``, as for any delivery):
    the words are the approved version's, never the answer row's copy. A template (or the urgent
    auto-answer): the answer's words are those of an approved version of its template, whose hash
    recomputes from its words."""
    if answer.kind == AnswerKind.FREE_TEXT:
        message = answer.message
        if message is None or not message.is_approved or not _content_matches_approval(message):
            return None
        snapshot = approved_snapshot(message)
        return snapshot["body"] if snapshot is not None else None
    versions = AnswerTemplateVersion.objects.filter(template_id=answer.template_id, approved_at__isnull=False,
                                                    body=answer.body)
    if any(v.content_hash == policies.template_hash(title=v.title, purpose=v.purpose, language=v.language,
                                                    body=v.body) for v in versions):
        return answer.body
    return None


def _pause_overridden(answer: ReplyAnswer) -> bool:
    """An emergency answer's message leaves during a pause once a second supervisor confirmed it, as any."""
    message = answer.message
    return bool(message is not None and message.urgency == Urgency.EMERGENCY and message.pause_override_by_id)


# --- the send ---------------------------------------------------------------------------------------

def answer_adapter(route: AnswerRoute):
    config = {**(route.channel.config or {}), **route.config}
    return get_adapter(route.channel.kind, config=config, secrets=route.channel.get_secrets(),
                       http=http_client_for(config))


def answer_payload(answer: ReplyAnswer, route: AnswerRoute, body: str, adapter) -> tuple[Payload, str]:
    """What goes out: the approved words on the route, and "Did this answer help?"
    (engage.inbound.feedback: fixed words after the approved text, when the team asks it and the
    channel is private and can carry a link) unless it would make the text too long (SMS segments):
    the question never stops an answer. Returns the payload and the question it carries."""
    reply = answer.reply
    language = answer.language or _answer_language(reply)
    question = feedback_suffix(answer=answer, team_id=reply.team_id, channel_kind=route.channel.kind,
                               language=language)
    payload = Payload(
        text=route.prefix + body + question, language=language,
        in_reply_to=route.in_reply_to, recipients=route.recipients,
        subject=f"Reply from {reply.team.name}",
        metadata={"reply_id": str(reply.pk), "answer_id": str(answer.pk), "kind": answer.kind},
    )
    if question and adapter.limit and adapter.count(payload.text) > adapter.limit:
        question = ""
        payload = replace(payload, text=route.prefix + body)
    return payload, question


@dataclass(frozen=True)
class AnswerPreview:
    text: str  # exactly the text the sender builds (the feedback link's code is made per answer)
    channel: Channel
    question: bool  # the platform's "Did this answer help?" line is added
    prefix: str  # what the platform adds in front (a Mastodon mention), part of ``text``


# The answer id a preview's feedback link is signed with: no answer has it, so that link votes for nothing.
PREVIEW_ANSWER_ID = 0


def answer_preview(*, reply: Reply, template: AnswerTemplate) -> AnswerPreview | None:
    """What answering ``reply`` with ``template`` would send, built as :func:`answer_send` builds it
    (:func:`answer_payload`, with the route, the adapter's limits and the feedback line), from an
    answer that is not saved. None when the reply cannot be answered or its channel is not usable."""
    route = answer_route(reply)
    if route is None:
        return None
    try:
        adapter = answer_adapter(route)
    except AdapterError:
        return None
    answer = ReplyAnswer(pk=PREVIEW_ANSWER_ID, reply=reply, kind=AnswerKind.TEMPLATE, template=template,
                         body=template.body, language=template.language)
    payload, question = answer_payload(answer, route, template.body, adapter)
    return AnswerPreview(text=payload.text, channel=route.channel, question=bool(question), prefix=route.prefix)


def answer_send(*, answer_id: int) -> str:
    """Send one pending answer. Returns sent, pending (retry later), paused, held (the channel's
    hourly cap), unconfirmed, failed, or not-sent (someone else has it, it is not pending or not due,
    or its words are no longer the approved ones)."""
    now = timezone.now()
    due = _rows(answer_id).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    token, claimed = claim(due, now=now)
    if claimed != 1:
        return "not-sent"
    failpoint("before_send")  # claimed, not in flight: as a delivery's task holding the tick's claim
    answer = ReplyAnswer.objects.select_related("reply__channel", "reply__team", "message", "template").get(
        pk=answer_id)
    reply = answer.reply
    if held_by_pause(reply.team_id, overridden=_pause_overridden(answer)):
        release_claim(_rows(answer_id), token=token, last_error="Publishing is paused.",
                      next_attempt_at=now + PAUSE_RECHECK)
        return "paused"
    body = _approved_words(answer)
    if body is None:
        if answer.kind == AnswerKind.FREE_TEXT:  # back to wait for (re-)approval, nothing counted
            _stop(answer_id, token, status=AnswerStatus.AWAITING_APPROVAL)
        else:
            _stop(answer_id, token, status=AnswerStatus.FAILED, alert=True,
                  error="The template's words are no longer the approved ones.")
        return "not-sent"
    route = answer_route(reply)
    if route is None:
        _stop(answer_id, token, status=AnswerStatus.FAILED, error="This reply cannot be answered on its channel.",
              alert=True)
        return "failed"
    if not _take_cap_slot(answer, route.channel, token, now):
        return "held"
    try:
        adapter = answer_adapter(route)
    except AdapterError as exc:
        _stop(answer_id, token, status=AnswerStatus.FAILED, error=f"Channel not usable: {exc}", alert=True)
        return "failed"
    payload, question = answer_payload(answer, route, body, adapter)
    in_flight = _rows(answer_id)
    if answer.kind == AnswerKind.FREE_TEXT:  # and still approved with these words at this instant
        in_flight = in_flight.filter(message__approved_hash=answer.message.approved_hash,
                                     message__content_hash=answer.message.approved_hash)
    now = timezone.now()
    marked = with_reconnect(  # a lost connection may have lost only the answer: then the row carries our `now`
        lambda: mark_in_flight(in_flight, token=token, now=now), what=f"marking answer {answer_id} in flight",
        committed=lambda: _rows(answer_id).filter(claim_token=token, in_flight_since=now).count() or None)
    if marked != 1:
        if answer.kind == AnswerKind.FREE_TEXT:  # its message changed in the instant since the check
            _stop(answer_id, token, status=AnswerStatus.AWAITING_APPROVAL)  # only if the claim is still ours
        return "not-sent"
    answer.attempts += 1
    answer.in_flight_since = now
    call = call_platform(adapter, payload, idempotency_key=answer.idempotency_key, channel_id=route.channel.pk)
    if call.outcome == "sent":
        failpoint("after_send")
    status = _finish(answer, token, call.outcome, error=call.error, external_id=call.external_id,
                     retry_after=call.retry_after, feedback_requested=call.outcome == "sent" and bool(question))
    return {AnswerStatus.SENT: "sent", AnswerStatus.PENDING: "pending", AnswerStatus.UNCONFIRMED: "unconfirmed",
            AnswerStatus.FAILED: "failed"}.get(status, "not-sent")


# --- what the sweeper does with answers -------------------------------------------------------------

def answers_due(*, older_than_seconds: float = 5.0, limit: int = 200) -> list[int]:
    now = timezone.now()
    return list(ReplyAnswer.objects.filter(status=AnswerStatus.PENDING,
                                           created_at__lte=now - timedelta(seconds=older_than_seconds))
                .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
                .order_by("created_at").values_list("pk", flat=True)[:limit])


def answers_reap_stuck(*, now: datetime | None = None) -> int:
    """The engine's reaper over answers: a stale claim goes back to pending (nothing left); an answer
    in flight for longer than a task may run may have been sent: unconfirmed, for a person to check
    (pending again where the platform deduplicates on our key). Never resent blindly. Returns how
    many became unconfirmed."""
    reaped = reap_stale(ReplyAnswer.objects.select_related("reply", "channel"), now=now or timezone.now(),
                        kind_of=lambda answer: answer.channel.kind if answer.channel else "",
                        finish=lambda answer, outcome, error: int(bool(_finish(answer, None, outcome, error=error))))
    return reaped["unconfirmed"]

