"""Retention and people's rights over their replies.

* :func:`replies_apply_retention` (daily): a reply older than its category's period (per team,
  see ``policies``) is **redacted**: the author's handle, name and key, the provider id, the text,
  its masked copy, the raw text and raw payload, the danger words, and every copy of them: internal
  notes, answers (body and errors), the messages free-text answers became (body, variants, versions,
  comments; withdrawn if not sent yet) and the staff notifications about the reply. What stays
  is anonymous: team, channel, category, sentiment, language, urgency, status and the times, so the
  metrics still count it. A reply under legal hold is skipped until the hold is lifted. The audit
  trail, which cannot be redacted, never holds a reply's words or its author's details (ids, keyed
  digests and masked errors only). ``tests/engage/inbound/test_retention_copies.py`` scans every text
  column of every table for a reply's words after redaction, so a copy added later is caught.
* :func:`replies_subject_access` exports everything stored about one handle or phone number
  (replies with their answers and notes, and entries on the teams' SMS and email lists);
  :func:`replies_erase` redacts all of it now and deletes the list entries (legal holds excepted,
  and reported). Both are for
  administrators and both are audited; the audit records a keyed digest of the handle, not the
  handle itself.
* Refused webhook requests (:class:`RejectedInbound`) are deleted after 30 days.
* The anonymous "Did this answer help?" votes are deleted after the team's longest period
  (``engage.inbound.feedback.feedback_apply_retention``): counted as ``"feedback"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import CharField, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from accounts.audit import audit_record
from accounts.models import Notification, Team, User
from accounts.policies import policy_for
from campaigns.models import (
    Comment,
    ListRecipient,
    MediaAsset,
    Message,
    MessageStatus,
    MessageVersion,
    Variant,
)
from campaigns.services.recipients import address_digest, normalise_address
from core.errors import InvalidInput, NotAllowed
from core.sanitize import sanitize_text
from engage.inbound import policies
from engage.inbound.feedback import feedback_apply_retention
from engage.inbound.identity import author_key, key_digest
from engage.models import AnswerStatus, RejectedInbound, Reply, ReplyAnswer, ReplyNote

REJECTED_KEEP_DAYS = 30
BATCH = 2000
REDACTED_NOTE = "[redacted]"


# Answers not yet sent when their reply is redacted are cancelled: there is nothing left to send.
_UNSENT_ANSWERS = (AnswerStatus.PROPOSED, AnswerStatus.AWAITING_APPROVAL, AnswerStatus.PENDING, AnswerStatus.FAILED)
# A free-text answer's message that has not gone out yet is withdrawn with it.
_UNSENT_MESSAGES = (MessageStatus.DRAFT, MessageStatus.IN_REVIEW, MessageStatus.CHANGES_REQUESTED,
                    MessageStatus.APPROVED, MessageStatus.SCHEDULED)


def _redact_ids(ids: list[int], now: datetime) -> int:
    """Redact these replies and every copy of their words and their author's details: the reply's
    own fields, its provider id (a Telegram chat id is the person's id), internal notes, answers
    (body and errors, which can quote an address), the messages free-text answers became (body,
    variants, every version, comments) and the staff notifications about the reply and those messages."""
    ids = list(Reply.objects.filter(pk__in=ids, redacted_at__isnull=True, legal_hold=False)
               .values_list("pk", flat=True))
    if not ids:
        return 0
    count = Reply.objects.filter(pk__in=ids, redacted_at__isnull=True, legal_hold=False).update(
        text="", text_masked="", raw_text="", raw_payload=None, author_handle="", author_name="", author_key="",
        urgent_terms=[], processing_error="", redacted_at=now, updated_at=now,
        provider_id=Concat(Value("redacted:"), Cast("pk", output_field=CharField())))
    ReplyNote.objects.filter(reply_id__in=ids).exclude(body=REDACTED_NOTE).update(body=REDACTED_NOTE)
    answers = ReplyAnswer.objects.filter(reply_id__in=ids)
    message_ids = [m for m in answers.values_list("message_id", flat=True) if m is not None]
    answers.filter(status__in=_UNSENT_ANSWERS).update(status=AnswerStatus.CANCELLED)
    answers.update(body=REDACTED_NOTE, last_error="")
    if message_ids:
        Message.objects.filter(pk__in=message_ids, status__in=_UNSENT_MESSAGES).update(
            status=MessageStatus.WITHDRAWN, withdrawn_at=now)
        Message.objects.filter(pk__in=message_ids).update(body=REDACTED_NOTE, title="Answer (redacted)", links=[],
                                                          cap={}, updated_at=now)
        Variant.objects.filter(message_id__in=message_ids).update(body=REDACTED_NOTE)
        MessageVersion.objects.filter(message_id__in=message_ids).update(snapshot={"redacted": True})
        Comment.objects.filter(message_id__in=message_ids).update(body=REDACTED_NOTE)
        MediaAsset.objects.filter(message_id__in=message_ids).update(alt_text="")
    urls = [reverse("inbox:detail", kwargs={"pk": pk}) for pk in ids]
    # The alerts about the answers' messages (campaigns/services/alerts.py) can quote a reviewer's comment.
    urls += [reverse("campaigns:message", kwargs={"pk": pk}) for pk in message_ids]
    Notification.objects.filter(url__in=urls).update(text="A reply was redacted under the retention policy.")
    return count


def replies_apply_retention(*, now: datetime | None = None) -> dict[str, int]:
    """Redact what has outlived its retention period. Returns counts per "team:category"."""
    now = now or timezone.now()
    done: dict[str, int] = {}
    for team_id in Team.objects.values_list("pk", flat=True):
        for category, days in policies.retention_days(team_id=team_id).items():
            cutoff = now - timedelta(days=days)
            due = Reply.objects.filter(team_id=team_id, category=category, redacted_at__isnull=True,
                                       legal_hold=False, received_at__lt=cutoff)
            total = 0
            while True:
                ids = list(due.order_by("pk").values_list("pk", flat=True)[:BATCH])
                if not ids:
                    break
                with transaction.atomic():
                    count = _redact_ids(ids, now)
                    audit_record(actor=None, verb="reply.redacted", target_type="engage.reply", team=team_id,
                                 summary={"reason": "retention", "category": category or "unclassified",
                                          "days": days, "count": count, "first_id": ids[0], "last_id": ids[-1]})
                total += count
                if len(ids) < BATCH:
                    break
            if total:
                done[f"{team_id}:{category or 'unclassified'}"] = total
    stale = now - timedelta(days=REJECTED_KEEP_DAYS)
    RejectedInbound.objects.filter(at__lt=stale).delete()
    if votes := feedback_apply_retention(now=now):
        done["feedback"] = votes
    return done


# --- rights -------------------------------------------------------------------------------------

def _admin_team_ids(actor: User) -> set[int]:
    """The teams whose people's rights (access, erasure) the actor handles: their administrators'."""
    return policy_for(Reply).team_ids(actor, "administer")


def _by_author(actor: User, handle: str) -> tuple[str, QuerySet[Reply]]:
    teams = _admin_team_ids(actor)
    if not teams:
        raise NotAllowed(gettext("Only administrators can search replies by author."))
    key = author_key(sanitize_text(handle, max_length=200))
    if not key:
        raise InvalidInput(gettext("Give a handle or a phone number."),
                           fields={"handle": ["This field is required."]})
    return key, policy_for(Reply).restrict(Reply.objects.filter(author_key=key), teams)


def _subscriptions(actor: User, key: str) -> QuerySet[ListRecipient]:
    """The person's entries on the list channels of the actor's teams (SMS by number, email by address)."""
    teams = _admin_team_ids(actor)
    digests = {address_digest(a) for a in (normalise_address("sms", key), normalise_address("email", key)) if a}
    return policy_for(ListRecipient).restrict(ListRecipient.objects.filter(address_digest__in=digests), teams)


def _export(replies: Iterable[Reply]) -> list[dict[str, Any]]:
    rows = []
    for reply in replies:
        rows.append({
            "id": reply.pk,
            "received_at": reply.received_at.isoformat(),
            "source": reply.source,
            "channel": reply.channel.name if reply.channel_id else "Public form",
            "author_handle": reply.author_handle,
            "author_name": reply.author_name,
            "text": reply.text,
            "raw_text": reply.raw_text,
            "language": reply.language,
            "category": reply.category,
            "sentiment": reply.sentiment,
            "status": reply.status,
            "legal_hold": reply.legal_hold,
            "answers": [{"sent_at": a.sent_at.isoformat() if a.sent_at else None, "status": a.status,
                         "text": a.body} for a in reply.answers.all()],
            "notes": [{"at": n.created_at.isoformat(), "text": n.body} for n in reply.notes.all()],
        })
    return rows


def replies_subject_access(*, actor: User, handle: str) -> dict[str, Any]:
    """Everything stored about one person (by handle or phone number), for a subject-access request."""
    key, qs = _by_author(actor, handle)
    replies = list(qs.select_related("channel").prefetch_related("answers", "notes").order_by("received_at"))
    lists = list(_subscriptions(actor, key).select_related("channel").prefetch_related("segments").order_by("pk"))
    with transaction.atomic():
        audit_record(actor=actor, verb="reply.subject_access_exported", target_type="engage.reply",
                     summary={"author": key_digest(key), "count": len(replies), "ids": [r.pk for r in replies],
                              "list_entries": [r.pk for r in lists]})
    return {"handle": key, "count": len(replies), "generated_at": timezone.now().isoformat(),
            "replies": _export(replies),
            "lists": [{"channel": r.channel.name, "kind": r.channel.kind, "address": r.address,
                       "language": r.language, "segments": [s.name for s in r.segments.all()],
                       "consent_source": r.consent_source, "consented_at": r.consented_at.isoformat(),
                       "opted_out_at": r.opted_out_at.isoformat() if r.opted_out_at else None} for r in lists]}


@transaction.atomic
def replies_erase(*, actor: User, handle: str, reason: str = "") -> dict[str, int]:
    """Erase everything from one person now. Replies under legal hold are kept, and counted."""
    key, qs = _by_author(actor, handle)
    ids = list(qs.filter(redacted_at__isnull=True, legal_hold=False).values_list("pk", flat=True))
    held = qs.filter(redacted_at__isnull=True, legal_hold=True).count()
    erased = _redact_ids(ids, timezone.now())
    # Their entries on the teams' SMS and email lists go too: a list entry is no evidence to hold.
    listed = _subscriptions(actor, key)
    list_ids = list(listed.values_list("pk", flat=True))
    listed.delete()
    audit_record(actor=actor, verb="reply.erased", target_type="engage.reply",
                 summary={"author": key_digest(key), "erased": erased, "held": held, "ids": ids,
                          "list_entries": list_ids, "reason": sanitize_text(reason, max_length=300)})
    return {"erased": erased, "held": held, "list_entries": len(list_ids)}
