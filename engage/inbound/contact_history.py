"""A reply's contact history: the same person's earlier replies, and the answers they were sent.

Only where the platform identifies the person: a reply on a channel whose platform proves who sent
it (a Telegram chat, a Mastodon account, an SMS number: ``answers.PROVEN_SENDER_SOURCES``), matched
on the same channel, the same source and the same author key (``identity.author_key``). A typed
address on the public form proves nothing, so it has no history. The earlier replies are those the
viewer may see (their team and its units, the restricted queue only with its permission) of the same
team as the reply: never another team's, never another force's. Their text is masked as in the
inbox list.

Linking a person's replies is processing of personal data, so every view that shows any history is
on the record (``reply.contact_history_viewed``, with the ids shown and a keyed digest of the
author key, never the key).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, Q

from accounts.audit import audit_record
from core.errors import NotFound
from core.pii import mask_pii
from engage.inbound.answers import PROVEN_SENDER_SOURCES
from engage.inbound.identity import key_digest
from engage.models import Reply, ReplyAnswer

MAX_SHOWN = 20


@dataclass
class ContactHistory:
    identified: bool  # whether the platform identifies the person at all
    entries: list[dict[str, Any]] = field(default_factory=list)
    more: bool = False  # more earlier replies than shown


def identifies_sender(reply: Reply) -> bool:
    return bool(reply.channel_id and reply.author_key and reply.source in PROVEN_SENDER_SOURCES
                and reply.redacted_at is None)


def earlier_replies(user: Any, reply: Reply):
    """The same person's earlier replies on the same channel that ``user`` may see, newest first."""
    from engage.inbound.selectors import visible_replies

    return (visible_replies(user)
            .filter(team_id=reply.team_id, channel_id=reply.channel_id, source=reply.source,
                    author_key=reply.author_key, redacted_at__isnull=True)
            .filter(Q(received_at__lt=reply.received_at) | Q(received_at=reply.received_at, pk__lt=reply.pk))
            .exclude(pk=reply.pk)
            .prefetch_related(Prefetch("answers", queryset=ReplyAnswer.objects.select_related("created_by")
                                       .order_by("created_at", "id")))
            .order_by("-received_at", "-id"))


@transaction.atomic
def reply_contact_history(*, actor: Any, reply: Reply, limit: int = MAX_SHOWN) -> ContactHistory:
    """The history the reply's page shows ``actor``; recorded in the audit trail whenever it shows any."""
    from engage.inbound.selectors import can_view_reply

    if not can_view_reply(actor, reply):
        raise NotFound("No such reply.")
    if not identifies_sender(reply):
        return ContactHistory(identified=False)
    rows = list(earlier_replies(actor, reply)[:limit + 1])
    more, rows = len(rows) > limit, rows[:limit]
    if not rows:
        return ContactHistory(identified=True)
    audit_record(actor=actor, verb="reply.contact_history_viewed", target=reply, team=reply.team_id,
                 summary={"replies": [r.pk for r in rows], "author": key_digest(reply.author_key),
                          "channel": reply.channel_id})
    entries = [{"reply": r, "text": r.text_masked if r.processed_at else mask_pii(r.text),
                "answers": list(r.answers.all())} for r in rows]
    return ContactHistory(identified=True, entries=entries, more=more)
