"""Settling an unconfirmed answer to a citizen by asking its platform: the send engine's
reconciliation (``campaigns.publishing.reconcile``, where the rules are written once), over answers.

Run by the sweeper after its reaper (``engage.inbound.sweeper``). Found: the answer is sent, and its
reply answered, as if the engine had recorded it. Absent: pending again, and the ordinary send path
re-checks the pause, the approval and the hourly cap before it goes out with a new attempt. Unknown:
unconfirmed, for a person (the inbox shows the platform's last answer), asked again after a backoff.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from campaigns.publishing.reconcile import (
    ask,
    audit_summary,
    decision_values,
    lookup_candidates,
    lookup_query,
    offering_channel_ids,
    reconcile,
)
from engage.inbound.answer_sending import (
    _approved_words,
    _notify_not_sent,
    _rows,
    answer_adapter,
    answer_payload,
    answer_record_sent,
)
from engage.inbound.answers import answer_route
from engage.models import AnswerStatus, ReplyAnswer
from platforms.base import LookupResult

logger = logging.getLogger(__name__)


def _lookup(answer: ReplyAnswer, now: datetime) -> LookupResult:
    """Ask the answer's platform, with the payload built as sending builds it: the approved words."""
    try:
        route = answer_route(answer.reply)
        if route is None:
            return LookupResult("unknown", "This reply can no longer be answered on its channel: nothing to ask.")
        adapter = answer_adapter(route)
        payload, _ = answer_payload(answer, route, _approved_words(answer) or answer.body, adapter)
    except Exception as exc:  # noqa: BLE001 - nothing to ask with: a person decides
        logger.warning("Could not prepare the look-up for answer %s", answer.pk, exc_info=True)
        return LookupResult("unknown", f"Could not prepare the look-up: {type(exc).__name__}.")
    return ask(adapter, lookup_query(answer, payload, now=now))


def _record(answer: ReplyAnswer, token: str, result: LookupResult, now: datetime) -> str:
    status, values = decision_values(result, attempts=answer.attempts, asks=answer.lookup_asks, now=now)
    reply = answer.reply
    summary = {"answer": answer.pk, "channel": answer.channel.kind if answer.channel else "",
               **audit_summary(result, status=status, asks=answer.lookup_asks)}
    with transaction.atomic():
        if status == AnswerStatus.SENT:
            done = answer_record_sent(answer.pk, external_id=result.external_id, lookup_token=token,
                                      lookup_answer=values["lookup_answer"], sent_at=now)
        else:
            done = bool(_rows(answer.pk).filter(status=AnswerStatus.UNCONFIRMED, lookup_token=token).update(**values))
        if not done:
            return ""  # a person resolved it meanwhile
        audit_record(actor=None, verb="reply.answer_looked_up", target=reply, team=reply.team_id, summary=summary)
        if status == AnswerStatus.FAILED:
            _notify_not_sent(answer, values["last_error"])
    return status


def answers_reconcile(*, now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Ask the platform about each unconfirmed answer whose channel can be asked, and settle it."""
    now = now or timezone.now()
    channel_ids = offering_channel_ids()
    if not channel_ids:
        return {}
    candidates = list(lookup_candidates(
        ReplyAnswer.objects.select_related("reply__channel", "reply__team", "message", "template", "channel"),
        now=now, channel_ids=channel_ids).order_by("lookup_next_at", "id")[:limit])
    return reconcile(candidates, now=now, lookup=_lookup, record=_record, rows_of=_rows)
