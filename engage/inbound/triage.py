"""Triage: status, assignment, corrections, notes, escalation, legal hold, bulk actions, and the
audited views and exports of personal data.

Another team's reply is "not found" (404), never "forbidden": its existence is not revealed.
Every change is one audit event; every reassignment, every opening of a reply's personal details
and every export is on the record (invariant 5).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import Role, User
from accounts.notify import notify
from accounts.policies import policy_for
from core.errors import InvalidInput, NotAllowed, NotFound
from core.sanitize import sanitize_text
from engage.inbound import policies
from engage.inbound.classify.category import CATEGORIES
from engage.models import ClassificationCorrection, Reply, ReplyNote, ReplyStatus

SENTIMENTS = ("positive", "neutral", "negative", "unknown")
MAX_BULK = 200
UNSET: Any = object()


def _lock(reply: Reply) -> Reply:
    if Reply.objects.select_for_update().filter(pk=reply.pk).first() is None:
        raise NotFound(gettext("No such reply."))
    return Reply.objects.select_related("team", "channel", "assignee").get(pk=reply.pk)


def _require(actor: User, reply: Reply) -> None:
    from engage.inbound.selectors import can_view_reply

    if not can_view_reply(actor, reply):
        raise NotFound(gettext("No such reply."))
    if not policy_for(Reply).may(actor, "triage", reply):
        raise NotAllowed(gettext("Only liaison officers and supervisors of this team triage replies."))


def _can_hold(actor: User, team_id: int) -> bool:
    return permissions.has_role(actor, team_id, {Role.SUPERVISOR, Role.ADMIN})


def _apply_status(reply: Reply, status: str, fields: list[str]) -> None:
    if status == reply.status:
        return
    reply.status = status
    fields.append("status")
    if status == ReplyStatus.CLOSED:
        reply.closed_at = timezone.now()
        fields.append("closed_at")
    elif reply.closed_at is not None:
        reply.closed_at = None
        fields.append("closed_at")


@transaction.atomic
def reply_update(
    *,
    actor: User,
    reply: Reply,
    status: str = UNSET,
    assignee: User | None = UNSET,
    category: str = UNSET,
    sentiment: str = UNSET,
    urgent: bool = UNSET,
    legal_hold: bool = UNSET,
) -> Reply:
    """Change what a triager may change. Category, sentiment and urgency changes are corrections
    of the classifier and are kept for the accuracy figure."""
    reply = _lock(reply)
    from engage.inbound.selectors import can_view_reply

    if not can_view_reply(actor, reply):
        raise NotFound(gettext("No such reply."))
    only_hold = all(v is UNSET for v in (status, assignee, category, sentiment, urgent))
    if not (only_hold and _can_hold(actor, reply.team_id)):
        _require(actor, reply)
    fields: list[str] = []
    changes: dict[str, Any] = {}
    previous_status = reply.status

    corrections: list[tuple[str, str, str]] = []
    if category is not UNSET and category != reply.category:
        if category not in CATEGORIES:
            raise InvalidInput(gettext("Unknown category."),
                               fields={"category": [f"Choose one of {', '.join(CATEGORIES)}."]})
        corrections.append(("category", reply.category, category))
        reply.category = category
        fields.append("category")
        minutes = policies.sla_minutes(team_id=reply.team_id, category=category, urgent=reply.urgent)
        reply.sla_due_at = reply.received_at + timedelta(minutes=minutes) if minutes else None
        reply.restricted = category in policies.restricted_categories(reply.team) and not reply.urgent
        fields += ["sla_due_at", "restricted"]
    if sentiment is not UNSET and sentiment != reply.sentiment:
        if sentiment not in SENTIMENTS:
            raise InvalidInput(gettext("Unknown sentiment."),
                               fields={"sentiment": [f"Choose one of {', '.join(SENTIMENTS)}."]})
        corrections.append(("sentiment", reply.sentiment, sentiment))
        reply.sentiment = sentiment
        fields.append("sentiment")
    if urgent is not UNSET and bool(urgent) != reply.urgent:
        corrections.append(("urgent", str(reply.urgent).lower(), str(bool(urgent)).lower()))
        reply.urgent = bool(urgent)
        minutes = policies.sla_minutes(team_id=reply.team_id, category=reply.category, urgent=reply.urgent)
        reply.sla_due_at = reply.received_at + timedelta(minutes=minutes) if minutes else None
        fields += ["urgent", "sla_due_at"]
    for field, old, new in corrections:
        ClassificationCorrection.objects.create(reply=reply, field=field, old_value=old or "", new_value=new,
                                                corrected_by=actor)
        changes[field] = {"from": old, "to": new}

    if assignee is not UNSET:
        new_id = assignee.pk if assignee is not None else None
        if new_id != reply.assignee_id:
            if assignee is not None and not policy_for(Reply).may(assignee, "triage", reply):
                raise InvalidInput(gettext("Assign replies to a liaison officer or supervisor of this team."),
                                   fields={"assignee": ["Not a triager of this team."]})
            audit_record(actor=actor, verb="reply.reassigned", target=reply, team=reply.team_id,
                         summary={"from": reply.assignee_id, "to": new_id})
            changes["assignee"] = {"from": reply.assignee_id, "to": new_id}
            reply.assignee = assignee
            fields.append("assignee")
            if assignee is not None and reply.status in (ReplyStatus.NEW, ReplyStatus.TRIAGED):
                _apply_status(reply, ReplyStatus.ASSIGNED, fields)
            elif assignee is None and reply.status == ReplyStatus.ASSIGNED:
                _apply_status(reply, ReplyStatus.TRIAGED, fields)
            if assignee is not None and assignee.pk != actor.pk:
                notify("reply_assigned", team=reply.team_id, also=assignee,
                       url=reverse("inbox:detail", kwargs={"pk": reply.pk}),
                       text=f"{actor.display_name} assigned reply {reply.pk} to you.")
    if status is not UNSET and status != reply.status:
        if status not in ReplyStatus.values:
            raise InvalidInput(gettext("Unknown status."),
                               fields={"status": [f"Choose one of {', '.join(ReplyStatus.values)}."]})
        if status == ReplyStatus.ASSIGNED and reply.assignee_id is None:
            raise InvalidInput(gettext("Choose who it is assigned to."),
                               fields={"assignee": ["Required for 'assigned'."]})
        _apply_status(reply, status, fields)
    if reply.status != previous_status:
        changes["status"] = {"from": previous_status, "to": reply.status}

    if legal_hold is not UNSET and bool(legal_hold) != reply.legal_hold:
        if not _can_hold(actor, reply.team_id):
            raise NotAllowed(gettext("Only a supervisor or administrator can place or lift a legal hold."))
        reply.legal_hold = bool(legal_hold)
        fields.append("legal_hold")
        changes["legal_hold"] = reply.legal_hold

    if fields:
        reply.save(update_fields=sorted(set(fields)) + ["updated_at"])
        audit_record(actor=actor, verb="reply.updated", target=reply, team=reply.team_id, summary=changes)
    return reply


@transaction.atomic
def reply_note_add(*, actor: User, reply: Reply, body: str) -> ReplyNote:
    reply = _lock(reply)
    _require(actor, reply)
    text = sanitize_text(body, max_length=5000)
    if not text:
        raise InvalidInput(gettext("Write the note."), fields={"body": ["This field may not be blank."]})
    note = ReplyNote.objects.create(reply=reply, author=actor, body=text)
    audit_record(actor=actor, verb="reply.note_added", target=reply, team=reply.team_id, summary={"note": note.pk})
    return note


@transaction.atomic
def reply_escalate(*, actor: User, reply: Reply, reason: str = "") -> Reply:
    """Hand a reply to the team's supervisors: status escalated and an alert for each of them."""
    reply = _lock(reply)
    _require(actor, reply)
    reason = sanitize_text(reason, max_length=500)
    fields: list[str] = []
    previous = reply.status
    _apply_status(reply, ReplyStatus.ESCALATED, fields)
    if fields:
        reply.save(update_fields=[*fields, "updated_at"])
    supervisors = notify("reply_escalated", team=reply.team_id, exclude=actor,
                         url=reverse("inbox:detail", kwargs={"pk": reply.pk}),
                         text=f"{actor.display_name} escalated reply {reply.pk} to you" + (f": {reason}" if reason else "."))
    note = ReplyNote.objects.create(reply=reply, author=actor, body=f"Escalated: {reason}") if reason else None
    # The reason is in the note (redacted with the reply), not in the append-only audit trail.
    audit_record(actor=actor, verb="reply.escalated", target=reply, team=reply.team_id,
                 summary={"from": previous, "note": note.pk if note else None, "notified": len(supervisors)})
    return reply


@transaction.atomic
def replies_bulk(*, actor: User, replies: Sequence[Reply], action: str, assignee: User | None = None,
                 status: str = "") -> int:
    """Apply one action to many replies: assign (to someone, or to me), set a status, close."""
    if not replies:
        raise InvalidInput(gettext("Choose at least one reply."),
                           fields={"ids": ["Choose at least one reply."]})
    if len(replies) > MAX_BULK:
        raise InvalidInput(gettext("At most %(max)s replies at a time.") % {"max": MAX_BULK},
                           fields={"ids": ["Too many."]})
    done = 0
    for reply in replies:
        if action == "assign":
            reply_update(actor=actor, reply=reply, assignee=assignee)
        elif action == "unassign":
            reply_update(actor=actor, reply=reply, assignee=None)
        elif action == "status":
            reply_update(actor=actor, reply=reply, status=status)
        elif action == "close":
            reply_update(actor=actor, reply=reply, status=ReplyStatus.CLOSED)
        else:
            raise InvalidInput(gettext("Unknown bulk action."),
                               fields={"action": ["Choose assign, unassign, status or close."]})
        done += 1
    return done


@transaction.atomic
def reply_reveal_personal_data(*, actor: User, reply: Reply, purpose: str = "") -> Reply:
    """Who wrote it and what exactly they sent, for those allowed to see it; always on the record."""
    from engage.inbound.selectors import can_view_reply

    if not can_view_reply(actor, reply):
        raise NotFound(gettext("No such reply."))
    if not permissions.can_view_personal_data(actor, reply.team_id):
        raise NotAllowed(gettext("You may not see the personal details of replies."))
    audit_record(actor=actor, verb="reply.personal_data_viewed", target=reply, team=reply.team_id,
                 summary={"fields": ["author_handle", "author_name", "text", "raw_text"],
                          "purpose": sanitize_text(purpose, max_length=200)})
    return reply


EXPORT_COLUMNS = ["id", "received_at", "source", "channel", "language", "category", "sentiment", "urgent", "status",
                  "assignee", "first_response_at", "text_masked"]


def replies_export_csv(*, actor: User, replies: Iterable[Reply], filters: dict[str, str]) -> str:
    """The inbox as CSV, with personal data masked. The export goes on the record first."""
    from engage.inbound.selectors import inbox_team_ids, restricted_team_ids

    if not (inbox_team_ids(actor) or restricted_team_ids(actor)):
        raise NotAllowed(gettext("The inbox is for liaison officers, supervisors and administrators."))
    rows = list(replies)
    with transaction.atomic():
        audit_record(actor=actor, verb="reply.exported", target_type="engage.reply",
                     summary={"filters": filters, "rows": len(rows), "ids": [r.pk for r in rows[:1000]]})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for reply in rows:
        writer.writerow([
            reply.pk, reply.received_at.isoformat(), reply.source, reply.channel.name if reply.channel_id else "",
            reply.language, reply.category, reply.sentiment, reply.urgent, reply.status,
            reply.assignee.email if reply.assignee_id else "",
            reply.first_response_at.isoformat() if reply.first_response_at else "",
            _csv_safe(reply.text_masked or ""),
        ])
    return buffer.getvalue()


def _csv_safe(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
