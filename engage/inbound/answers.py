"""Answering a reply: from a pre-approved template (sent directly) or in free text (approved first).

**Where an answer goes** (:func:`answer_route`): as a threaded reply on the channel the reply came
in on. Telegram: in the chat the person wrote in, as a reply to their message. Mastodon: a status
in reply to theirs, mentioning them. SMS: a text to their number. Partner webhook: a signed post
whose ``in_reply_to`` is their id. The public form: to the email address or phone number the
person chose to give, through the team's email or SMS channel; without one there is no way to
answer.

**Automatic answers only to a proven sender** (:func:`sender_proven`). The urgent auto-answer goes
only back where the reply came from on a platform that proves who sent it: a Telegram chat, a
Mastodon account, an inbound SMS through the channel's verified Twilio webhook. An email address
or phone number typed into the public form proves nothing (anyone can type anyone's number), so it
is contacted only when a person decides to: a liaison officer's answer action.

**An hourly cap per channel** (``ENGAGE_ANSWER_HOURLY_CAP``): every answer a channel sends counts;
once a channel has sent its cap in the last hour, further automatic answers are *held* (not lost:
they wait in the inbox for a person to send or drop), the team's supervisors and administrators are
alerted once an hour, and both are audited. An answer a person decided on is sent, and counted.

**Sent at most once, through the one send engine.** Every answer has a fixed idempotency key
(``engage-reply-<id>-urgent``, ``engage-reply-<id>-template-<template id>``,
``engage-reply-<id>-text-<uuid>``), unique in the database, and :mod:`engage.inbound.answer_sending`
sends it through ``campaigns.publishing`` with the guarantees of a message's delivery: a claim token
and an in-flight marker, the approval recomputed just before the platform call, the publishing pause
(invariant 4) and its emergency override, backoff and attempts from settings, the unconfirmed state
(a send that may have reached the platform is never blindly retried, invariant 2, except on
platforms that deduplicate on our key) and the reaper.

**"Did this answer help?"** When the team has it on, an answer on email, SMS or Telegram ends with
one fixed line asking it, with a signed link (:mod:`engage.inbound.feedback`); it is added after the
approved text at sending time (dropped if it would push the text over the channel's limit), and
``feedback_requested`` records that it went out.

**Free text** becomes a campaigns Message (in the team's "Answers to the public" campaign, on the
reply's channel) created with ``message_create`` and submitted, so it goes through the same
two-person approval as any message. The campaigns room knows nothing about replies, so the inbox
side watches: the sweeper finds answers whose message has been approved (its approved hash equals
its content hash) and sends the approved body as a threaded reply, then records
``first_response_at``. A liaison officer may not draft ordinary messages (the accounts policy
allows officers and supervisors), but writes their own answers: the message is created and
submitted in their name (``inbox_answer``), and a supervisor who wrote none of it approves its
exact words. Drafting an answer moves a new reply on (to triaged, or assigned when it has an
assignee). Answers *proposed* before this (status ``proposed``) are still adopted by a drafter.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import Team, User
from accounts.policies import policy_for
from campaigns.models import Channel, ChannelKind, Message, MessageStatus
from core.errors import InvalidInput, NotAllowed, NotFound, WrongState
from core.queue import enqueue
from core.sanitize import sanitize_text
from engage.inbound import policies
from engage.models import (
    AnswerKind,
    AnswerStatus,
    AnswerTemplate,
    Reply,
    ReplyAnswer,
    ReplyCampaign,
    ReplySource,
    ReplyStatus,
)

logger = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 5000
REPLIES_CAMPAIGN_NAME = "Answers to the public"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[\d\s\-().]{7,20}$")


@dataclass(frozen=True)
class AnswerRoute:
    channel: Channel
    config: dict[str, Any] = field(default_factory=dict)  # adapter config overrides (Telegram's chat)
    in_reply_to: str = ""
    recipients: tuple[str, ...] = ()
    prefix: str = ""  # Mastodon: the mention that makes it a reply the person is told about


def _team_channel(team_id: int, kind: str) -> Channel | None:
    chain = policies.lineage(team_id)
    channels = list(policy_for(Channel).restrict(Channel.objects.filter(kind=kind, is_active=True), chain)
                    .order_by("id"))
    channels.sort(key=lambda c: chain.index(c.team_id))
    return channels[0] if channels else None


def answer_route(reply: Reply) -> AnswerRoute | None:
    """How to answer this reply on its own channel, or None when it cannot be answered."""
    if reply.redacted_at is not None:
        return None
    channel = reply.channel
    if channel is not None:
        if not channel.is_active:
            return None
        if channel.kind == ChannelKind.TELEGRAM:
            chat, _, rest = reply.provider_id.partition(":")
            message_id = rest.split(":", 1)[0]
            if not chat or not message_id.isdigit():
                return None
            return AnswerRoute(channel=channel, config={"chat_id": chat}, in_reply_to=message_id)
        if channel.kind == ChannelKind.MASTODON:
            mention = f"{reply.author_handle} " if reply.author_handle.startswith("@") else ""
            return AnswerRoute(channel=channel, in_reply_to=reply.provider_id, prefix=mention)
        if channel.kind == ChannelKind.SMS:
            if not reply.author_handle:
                return None
            return AnswerRoute(channel=channel, recipients=(reply.author_handle,))
        if channel.kind == ChannelKind.WEBHOOK:
            return AnswerRoute(channel=channel, in_reply_to=reply.provider_id)
        return None
    contact = reply.author_handle.strip()
    if _EMAIL.match(contact):
        email = _team_channel(reply.team_id, ChannelKind.EMAIL)
        return AnswerRoute(channel=email, recipients=(contact,)) if email else None
    if _PHONE.match(contact):
        sms = _team_channel(reply.team_id, ChannelKind.SMS)
        return AnswerRoute(channel=sms, recipients=(contact,)) if sms else None
    return None


# Platforms that prove who sent a reply: the answer goes back to that same account or number.
PROVEN_SENDER_SOURCES = frozenset({ReplySource.TELEGRAM, ReplySource.MASTODON, ReplySource.SMS})


def sender_proven(reply: Reply) -> bool:
    """The reply came in on a platform that proves its sender (a Telegram chat, a Mastodon account,
    an SMS through the verified Twilio webhook), so an automatic answer reaches only the person who
    wrote. Never true for the public form: a typed address or number proves nothing."""
    channel = reply.channel
    return (channel is not None and reply.source in PROVEN_SENDER_SOURCES and channel.kind == reply.source
            and bool(reply.author_handle or reply.provider_id))


def answer_hourly_cap(channel: Channel) -> int:
    """How many answers ``channel`` may send in an hour before automatic ones wait for a person."""
    caps = settings.ENGAGE_ANSWER_HOURLY_CAP
    return int(caps.get(channel.kind, caps.get("", 60)))


def enqueue_answer(answer_id: int) -> None:
    """Ask a worker to send now; if the broker is down the sweeper sends it."""
    if not enqueue("engage.send_answer", queue="urgent", answer_id=answer_id):
        logger.info("Answer %s not enqueued; the sweeper will send it.", answer_id)


# --- checks -----------------------------------------------------------------------------------

def _lock(reply: Reply) -> Reply:
    locked = Reply.objects.select_for_update().filter(pk=reply.pk).first()
    if locked is None:
        raise NotFound(gettext("No such reply."))
    return Reply.objects.select_related("team", "channel").get(pk=reply.pk)


def _require_triage(actor: User, reply: Reply) -> None:
    from engage.inbound.selectors import can_view_reply

    if not can_view_reply(actor, reply):
        raise NotFound(gettext("No such reply."))
    if not permissions.can_triage(actor, reply.team_id):
        raise NotAllowed(gettext("Only liaison officers and supervisors of this team answer replies."))


def _answerable(reply: Reply) -> AnswerRoute:
    route = answer_route(reply)
    if route is None:
        if reply.redacted_at is not None:
            raise WrongState(gettext("This reply has been redacted; there is no one to answer."),
                             code="redacted")
        if reply.channel_id is None:
            raise WrongState(gettext("This person left no email address or phone number (or the team has no email or "
                             "SMS channel), so there is no way to answer them."), code="no_reply_channel")
        raise WrongState(gettext("Answers cannot be sent on this channel."), code="no_reply_channel")
    return route


def _answer_language(reply: Reply) -> str:
    language = reply.language or ""
    return language if language and language != "unknown" else "en"


# --- templates --------------------------------------------------------------------------------

@transaction.atomic
def answer_from_template(*, actor: User, reply: Reply, template: AnswerTemplate) -> ReplyAnswer:
    """Queue a pre-approved answer (sent by :func:`reply_respond` right after the commit)."""
    reply = _lock(reply)
    _require_triage(actor, reply)
    template = policies.templates_for_team(reply.team_id).filter(pk=template.pk).first()
    if template is None or not policies.is_approved(template):
        raise NotFound(gettext("No such answer template."))
    _answerable(reply)
    key = f"engage-reply-{reply.pk}-template-{template.pk}"
    if ReplyAnswer.objects.filter(idempotency_key=key).exists():
        raise WrongState(gettext("This template has already been used to answer this reply."),
                         code="already_answered")
    try:
        with transaction.atomic():
            answer = ReplyAnswer.objects.create(
                reply=reply, kind=AnswerKind.TEMPLATE, template=template, body=template.body,
                language=template.language, status=AnswerStatus.PENDING, idempotency_key=key, created_by=actor)
    except IntegrityError as exc:
        raise WrongState(gettext("This template has already been used to answer this reply."),
                         code="already_answered") from exc
    audit_record(actor=actor, verb="reply.answer_queued", target=reply, team=reply.team_id,
                 summary={"answer": answer.pk, "kind": answer.kind, "template": template.pk})
    return answer


# --- free text ----------------------------------------------------------------------------------

def replies_campaign(*, actor: User, team: Team):
    """The team's campaign for free-text answers, created once (by the first drafter who needs it)."""
    from campaigns.services.events import campaign_create

    existing = ReplyCampaign.objects.filter(team=team).select_related("campaign").first()
    if existing is not None:
        return existing.campaign
    try:
        with transaction.atomic():
            campaign = campaign_create(
                actor=actor, team=team, name=REPLIES_CAMPAIGN_NAME,
                description="Free-text answers to the public's replies. Each is approved like any message and "
                            "sent by the inbox as a threaded reply; do not schedule them as posts.",
                inbox_answer=True)
            ReplyCampaign.objects.create(team=team, campaign=campaign)
            return campaign
    except IntegrityError:
        return ReplyCampaign.objects.select_related("campaign").get(team=team).campaign


def _message_for_answer(*, actor: User, reply: Reply, route: AnswerRoute, body: str) -> Message:
    from campaigns.services.messages import message_create
    from campaigns.services.workflow import message_submit

    campaign = replies_campaign(actor=actor, team=reply.team)
    message = message_create(actor=actor, campaign=campaign, body=body, language=_answer_language(reply),
                             title=f"Answer to reply {reply.pk}", channels=[route.channel], hashtags=[],
                             instructive=False, inbox_answer=True)
    return message_submit(actor=actor, message=message, inbox_answer=True)


@transaction.atomic
def answer_free_text(*, actor: User, reply: Reply, body: str) -> ReplyAnswer:
    """A free-text answer: a message for approval when the actor may draft, else a proposal."""
    reply = _lock(reply)
    _require_triage(actor, reply)
    route = _answerable(reply)
    text = sanitize_text(body or "")
    if not text:
        raise InvalidInput(gettext("Write the answer."), fields={"body": ["This field may not be blank."]})
    if len(text) > MAX_ANSWER_CHARS:
        raise InvalidInput(gettext("The answer is longer than %(max)s characters.") % {"max": MAX_ANSWER_CHARS},
                           fields={"body": ["Too long."]})
    message = _message_for_answer(actor=actor, reply=reply, route=route, body=text)
    status = AnswerStatus.AWAITING_APPROVAL
    answer = ReplyAnswer.objects.create(
        reply=reply, kind=AnswerKind.FREE_TEXT, message=message, body=text, language=_answer_language(reply),
        status=status, idempotency_key=f"engage-reply-{reply.pk}-text-{uuid.uuid4().hex}", created_by=actor)
    _move_on_from_new(reply)
    audit_record(actor=actor, verb="reply.answer_drafted", target=reply, team=reply.team_id,
                 summary={"answer": answer.pk, "status": status, "message": message.pk})
    return answer


def _move_on_from_new(reply: Reply) -> None:
    """A new reply with an answer drafted is being handled: triaged (assigned, if it has an assignee)."""
    moved = ReplyStatus.ASSIGNED if reply.assignee_id else ReplyStatus.TRIAGED
    Reply.objects.filter(pk=reply.pk, status=ReplyStatus.NEW).update(status=moved)


@transaction.atomic
def answer_adopt(*, actor: User, answer: ReplyAnswer, body: str | None = None) -> ReplyAnswer:
    """A drafter turns a proposed answer into a message for approval (optionally edited)."""
    reply = _lock(answer.reply)
    _require_triage(actor, reply)
    if not permissions.can_draft(actor, reply.team_id):
        raise NotAllowed(gettext("Only officers and supervisors can send an answer for approval."))
    answer = ReplyAnswer.objects.select_for_update().get(pk=answer.pk)
    if answer.status != AnswerStatus.PROPOSED:
        raise WrongState(gettext("Only a proposed answer can be adopted."))
    route = _answerable(reply)
    text = sanitize_text(body) if body else answer.body
    if not text:
        raise InvalidInput(gettext("Write the answer."), fields={"body": ["This field may not be blank."]})
    message = _message_for_answer(actor=actor, reply=reply, route=route, body=text)
    ReplyAnswer.objects.filter(pk=answer.pk, status=AnswerStatus.PROPOSED).update(
        status=AnswerStatus.AWAITING_APPROVAL, message=message, body=text)
    audit_record(actor=actor, verb="reply.answer_adopted", target=reply, team=reply.team_id,
                 summary={"answer": answer.pk, "message": message.pk, "proposed_by": answer.created_by_id})
    answer.refresh_from_db()
    return answer


def reply_respond(*, actor: User, reply: Reply, template: AnswerTemplate | None = None,
                  body: str | None = None) -> ReplyAnswer:
    """The one entry point for the API and the pages: a template goes out now; free text waits for
    approval. Sending happens after the answer row is committed, outside any transaction."""
    if (template is None) == (not body):
        raise InvalidInput(gettext("Give either a template or a text."),
                           fields={"template": ["Give one of these."],
                                                                        "body": ["Give one of these."]})
    if template is not None:
        from engage.inbound.answer_sending import answer_send

        answer = answer_from_template(actor=actor, reply=reply, template=template)
        answer_send(answer_id=answer.pk)
        answer.refresh_from_db()
        return answer
    return answer_free_text(actor=actor, reply=reply, body=body or "")


@transaction.atomic
def answer_release_held(*, actor: User, answer: ReplyAnswer, send: bool) -> ReplyAnswer:
    """A person decides on a held automatic answer: send it now (it is theirs from here on, and no
    longer automatic), or drop it."""
    reply = _lock(answer.reply)
    _require_triage(actor, reply)
    held = ReplyAnswer.objects.filter(pk=answer.pk, reply=reply, status=AnswerStatus.HELD)
    if send:
        n = held.update(status=AnswerStatus.PENDING, created_by=actor, next_attempt_at=None, last_error="")
    else:
        n = held.update(status=AnswerStatus.CANCELLED, last_error="Not sent: a person decided.")
    if n != 1:
        raise WrongState(gettext("This answer is not held."))
    audit_record(actor=actor, verb="reply.answer_released" if send else "reply.answer_dropped", target=reply,
                 team=reply.team_id, summary={"answer": answer.pk})
    if send:
        transaction.on_commit(lambda: enqueue_answer(answer.pk))
    answer.refresh_from_db()
    return answer


# --- what the sweeper does with answers -----------------------------------------------------------

def answers_release_approved() -> list[int]:
    """Free-text answers whose message was approved become pending; returns their ids.

    A message withdrawn or sent back for changes and then abandoned is left or cancelled; one that
    somebody published through the ordinary publishing pipeline counts as the answer (it was
    approved and it went out), so it is recorded as sent rather than sent a second time.
    """
    from engage.inbound.answer_sending import answer_record_sent

    released: list[int] = []
    waiting = (ReplyAnswer.objects.filter(status=AnswerStatus.AWAITING_APPROVAL, message__isnull=False)
               .select_related("message")[:500])
    for answer in waiting:
        message = answer.message
        if message.status == MessageStatus.WITHDRAWN:
            with transaction.atomic():
                if ReplyAnswer.objects.filter(pk=answer.pk, status=AnswerStatus.AWAITING_APPROVAL).update(
                        status=AnswerStatus.CANCELLED, last_error="The message was withdrawn."):
                    audit_record(actor=None, verb="reply.answer_cancelled", target_type="engage.reply",
                                 target_id=answer.reply_id, team=message.team_id,
                                 summary={"answer": answer.pk, "message": message.pk})
        elif message.status in (MessageStatus.PUBLISHED, MessageStatus.PARTIALLY_PUBLISHED) and message.published_at:
            if ReplyAnswer.objects.filter(pk=answer.pk, status=AnswerStatus.AWAITING_APPROVAL).update(
                    status=AnswerStatus.SENDING):
                answer_record_sent(answer.pk, external_id=f"message:{message.pk}", sent_at=message.published_at)
        elif message.status == MessageStatus.APPROVED and message.is_approved:
            if ReplyAnswer.objects.filter(pk=answer.pk, status=AnswerStatus.AWAITING_APPROVAL).update(
                    status=AnswerStatus.PENDING, body=message.body):
                released.append(answer.pk)
    return released


@transaction.atomic
def answer_resolve_unconfirmed(*, actor: User, answer: ReplyAnswer, sent: bool) -> ReplyAnswer:
    """A person checked the platform: it was sent (record it) or it was not (send it again)."""
    from engage.inbound.answer_sending import answer_record_sent

    reply = _lock(answer.reply)
    _require_triage(actor, reply)
    # The row as it is now, under the reply's lock: the caller's copy may be from before another
    # person resolved it (a second resolution would otherwise be audited as if it had done something).
    answer = ReplyAnswer.objects.filter(pk=answer.pk, reply=reply).first() or answer
    if answer.status != AnswerStatus.UNCONFIRMED:
        raise WrongState(gettext("Only an unconfirmed answer can be resolved."))
    if sent:
        ReplyAnswer.objects.filter(pk=answer.pk, status=AnswerStatus.UNCONFIRMED).update(status=AnswerStatus.SENDING)
        answer_record_sent(answer.pk, external_id=answer.external_id)
    else:
        ReplyAnswer.objects.filter(pk=answer.pk, status=AnswerStatus.UNCONFIRMED).update(
            status=AnswerStatus.PENDING, idempotency_key=f"{answer.idempotency_key[:60]}-r{answer.attempts}",
            next_attempt_at=None)
    audit_record(actor=actor, verb="reply.answer_resolved", target=reply, team=reply.team_id,
                 summary={"answer": answer.pk, "sent": sent})
    answer.refresh_from_db()
    return answer


def answers_unconfirm_after_restore(*, backup_taken: str) -> dict[int, list[int]]:
    """After a restore: an answer pending or sending in the backup may have gone out since it was
    taken. It becomes unconfirmed, for a person (or the platform look-up) to check, never resent
    blindly. Returns the answers' ids by the replying team (``engage.backup.restore`` reports them)."""
    rows = list(ReplyAnswer.objects.filter(status__in=[AnswerStatus.PENDING, AnswerStatus.SENDING])
                .values_list("pk", "reply__team_id"))
    ReplyAnswer.objects.filter(pk__in=[pk for pk, _ in rows],
                               status__in=[AnswerStatus.PENDING, AnswerStatus.SENDING]).update(
        status=AnswerStatus.UNCONFIRMED, claimed_at=None, claim_token="", in_flight_since=None,
        last_error=f"Restored from a backup taken {backup_taken}: it may have gone out after the backup. "
                   f"Check the platform before answering again.")
    by_team: dict[int, list[int]] = {}
    for pk, team_id in rows:
        by_team.setdefault(team_id, []).append(pk)
    return by_team
