"""Settling an unconfirmed row by asking its platform, instead of a person: the one send engine's
reconciliation, written once for both kinds of row (a message's ``Delivery`` here, an answer to a
citizen in ``engage.inbound.answer_reconcile``).

An *unconfirmed* row is one whose platform call may or may not have gone through. Where its channel's
adapter can be asked (``lookup_offered(config)``: the partner webhook with ``status_lookup``, and the
platforms whose API can answer), the reconciler asks, at most ``LOOKUP_MAX_ASKS`` times:

* **found**: the platform has it. The row is sent, with the platform's id. It is never sent again.
* **absent**: the platform answered, for the whole window, that it has not got it. The row is pending
  again and goes out with a new attempt through the ordinary send path: the attempt limit and backoff,
  the pause and the approval re-check apply as to any send (it fails if its attempts are used up).
* **unknown**: the platform cannot tell (or did not answer). The row stays unconfirmed for a person,
  and is asked again after a backoff (``lookup_backoff``), until the asks are used up.

Every decision is audited (``delivery.looked_up`` / ``reply.answer_looked_up``) with what the platform
answered: its state, its fixed sentence (``LookupResult.detail``), the HTTP status and its id; never a
text or a recipient. Each ask is claimed first, under a fresh token, by conditional update on the row
(unconfirmed, the asks counted so far, due): two reconcilers never ask about (nor resend) one row twice.
Each decision is written by conditional update on the row still being unconfirmed under that token, so
a person pressing "it went out" or "send again" at the same moment and the reconciler cannot both act.
A list send some of whose recipients have it (``PARTLY_DELIVERED``) is left for a person.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from accounts.audit import audit_record
from campaigns.models import Channel, Delivery, DeliveryStatus, Message, MessageStatus
from campaigns.publishing.outbound import FAILED, PARTLY_DELIVERED, PENDING, SENT, UNCONFIRMED, outcome_values
from core.pii import mask_pii
from platforms.base import AdapterError, LookupQuery, LookupResult, Payload

logger = logging.getLogger(__name__)

LOOKUP_MAX_ASKS = 6  # then a person decides (about 1 + 2 + 4 + 8 + 16 minutes of asking)
LOOKUP_FIRST_BACKOFF = timedelta(minutes=1)
LOOKUP_MAX_BACKOFF = timedelta(hours=1)
WINDOW_SKEW = timedelta(minutes=1)  # the platform's clock may be behind ours

# What each answer makes of the row, for the audit trail and the counts.
DECISIONS = {"found": "sent", "absent": "send again", "unknown": "left for a person"}


def lookup_backoff(asks: int) -> timedelta:
    """How long after its ``asks``-th ask a row is asked again."""
    return min(LOOKUP_FIRST_BACKOFF * (2 ** max(asks - 1, 0)), LOOKUP_MAX_BACKOFF)


def offering_channel_ids(kinds: Iterable[str] | None = None) -> list[int]:
    """The channels whose platform can be asked whether a post went out (their adapter class says so
    for their config). Channels are few: read once per run."""
    from platforms import KINDS, adapter_class

    rows = Channel.objects.filter(kind__in=list(kinds or KINDS)).values_list("pk", "kind", "config")
    return [pk for pk, kind, config in rows if adapter_class(kind).lookup_offered(config or {})]


def can_be_asked(channel: Channel | None) -> bool:
    """Whether the reconciler asks this channel's platform about unconfirmed rows (for the pages)."""
    from platforms import KINDS, adapter_class

    return channel is not None and channel.kind in KINDS and adapter_class(channel.kind).lookup_offered(
        channel.config or {})


def lookup_candidates(rows: QuerySet, *, now: datetime, channel_ids: list[int]) -> QuerySet:
    """Unconfirmed rows on a channel that can be asked, due to be asked, not used up, not partial."""
    return (rows.filter(status=UNCONFIRMED, channel_id__in=channel_ids, lookup_asks__lt=LOOKUP_MAX_ASKS)
            .filter(Q(lookup_next_at__isnull=True) | Q(lookup_next_at__lte=now))
            .exclude(last_error__startswith=PARTLY_DELIVERED))


def lookup_claim(rows: QuerySet, *, asks: int, now: datetime) -> str | None:
    """Claim one row (``rows`` is it, by pk) for one ask, under a fresh token; None if another
    reconciler (or a person) got there first. The next ask is due after the backoff either way."""
    token = uuid.uuid4().hex
    claimed = (rows.filter(status=UNCONFIRMED, lookup_asks=asks)
               .filter(Q(lookup_next_at__isnull=True) | Q(lookup_next_at__lte=now))
               .update(lookup_token=token, lookup_at=now, lookup_asks=asks + 1,
                       lookup_next_at=now + lookup_backoff(asks + 1)))
    return token if claimed == 1 else None


def lookup_query(row: Model, payload: Payload, *, now: datetime) -> LookupQuery:
    """The window: from when its last call began (or, not known, when it was claimed or made) to now."""
    began = getattr(row, "last_attempt_at", None) or getattr(row, "claimed_at", None) or row.created_at
    return LookupQuery(idempotency_key=row.idempotency_key, payload=payload, sent_after=began - WINDOW_SKEW,
                       sent_before=now)


def ask(adapter: Any, query: LookupQuery) -> LookupResult:
    """The platform's answer; an adapter error, or anything unexpected, means it cannot tell."""
    try:
        result = adapter.lookup(query)
    except AdapterError as exc:
        return LookupResult("unknown", f"The platform could not tell: {exc.detail}", http_status=exc.http_status)
    except Exception:  # noqa: BLE001 - a look-up that breaks leaves the row for a person, as before
        logger.exception("The look-up for %s failed", query.idempotency_key)
        return LookupResult("unknown", "The look-up failed unexpectedly.")
    if result.state not in DECISIONS or (result.state == "found" and not result.external_id):
        return LookupResult("unknown", "The platform's answer could not be read.", http_status=result.http_status)
    return result


def decision_values(result: LookupResult, *, attempts: int, asks: int, now: datetime) -> tuple[str, dict[str, Any]]:
    """The row's new status and values for the platform's answer (see the module's docstring)."""
    answered = {"lookup_token": "", "lookup_answer": mask_pii(result.detail)[:300]}
    if result.state == "found":
        return SENT, {"status": SENT, "sent_at": now, "external_id": result.external_id[:200],
                      "external_url": result.external_url[:500], "last_error": "", "lookup_next_at": None,
                      **answered}
    if result.state == "absent":
        _, values = outcome_values(outcome="transient", attempts=attempts, now=now,
                                   error="The platform answered that it did not receive it: sending again.")
        if values["status"] != PENDING:
            values["last_error"] = "The platform did not receive it and its attempts are used up."
        return values["status"], {**values, "lookup_asks": 0, "lookup_next_at": None, **answered}
    if asks >= LOOKUP_MAX_ASKS:
        answered["lookup_answer"] = f"{answered['lookup_answer']} Asked {asks} times: a person decides."[:300]
    return UNCONFIRMED, answered


def audit_summary(result: LookupResult, *, status: str, asks: int) -> dict[str, Any]:
    """What the audit row keeps: the platform's state, sentence, status and id; the decision. No text."""
    decision = status if status in ("failed", "withdrawn") else DECISIONS[result.state]
    return {"platform_answer": result.state, "detail": mask_pii(result.detail)[:300],
            "http_status": result.http_status, "external_id": result.external_id[:200],
            "decision": decision, "status": status, "ask": asks}


def reconcile(candidates: list[Model], *, now: datetime, lookup: Callable[[Model, datetime], LookupResult],
              record: Callable[[Model, str, LookupResult, datetime], str], rows_of: Callable[[int], QuerySet],
              ) -> dict[str, int]:
    """Claim, ask and record each candidate row; counts of each resulting status (and "skipped":
    another reconciler or a person had it)."""
    counts: dict[str, int] = {}
    for row in candidates:
        token = lookup_claim(rows_of(row.pk), asks=row.lookup_asks, now=now)
        if token is None:
            counts["skipped"] = counts.get("skipped", 0) + 1
            continue
        row.lookup_asks += 1
        status = record(row, token, lookup(row, now), timezone.now()) or "skipped"
        counts[status] = counts.get(status, 0) + 1
    return counts


# --- deliveries ---------------------------------------------------------------------------------

def _delivery_rows(pk: int) -> QuerySet:
    return Delivery.objects.filter(pk=pk)


def _delivery_lookup(delivery: Delivery, now: datetime) -> LookupResult:
    """Ask the delivery's platform, with the payload built as sending builds it: from the approved snapshot."""
    from campaigns.publishing.send import adapter_for, build_payload
    from campaigns.services.targeting import delivery_recipients

    try:
        adapter = adapter_for(delivery.channel)
        payload = build_payload(delivery)
        recipients = delivery_recipients(delivery)
    except Exception as exc:  # noqa: BLE001 - nothing to ask with: a person decides
        logger.warning("Could not prepare the look-up for delivery %s", delivery.pk, exc_info=True)
        return LookupResult("unknown", f"Could not prepare the look-up: {type(exc).__name__}.")
    if recipients:
        payload = replace(payload, recipients=recipients)
    return ask(adapter, lookup_query(delivery, payload, now=now))


def _delivery_record(delivery: Delivery, token: str, result: LookupResult, now: datetime) -> str:
    from campaigns.publishing.lifecycle import message_settle
    from campaigns.publishing.schedule import enqueue_tick

    status, values = decision_values(result, attempts=delivery.attempts, asks=delivery.lookup_asks, now=now)
    with transaction.atomic():
        # The message's row lock, as a withdrawal takes it: a withdrawal before this sees the row
        # pending (and withdraws it); one after it, here, means nothing is sent again.
        withdrawn = Message.objects.select_for_update().filter(
            pk=delivery.message_id, status=MessageStatus.WITHDRAWN).exists()
        if withdrawn and status in (PENDING, FAILED):
            status = values["status"] = DeliveryStatus.WITHDRAWN
            values.update(last_error="Withdrawn, and the platform never received it: nothing to take down.",
                          next_attempt_at=None)
        if not _delivery_rows(delivery.pk).filter(status=UNCONFIRMED, lookup_token=token).update(**values):
            return ""  # a person resolved it meanwhile
        audit_record(actor=None, verb="delivery.looked_up", target=delivery, team=delivery.message.team_id,
                     summary={"channel": delivery.channel.kind,
                              **audit_summary(result, status=status, asks=delivery.lookup_asks)})
        if status == PENDING:  # out again: its message is publishing until it settles
            Message.objects.filter(pk=delivery.message_id, status__in=[
                MessageStatus.PARTIALLY_PUBLISHED, MessageStatus.FAILED]).update(status=MessageStatus.PUBLISHING)
            transaction.on_commit(lambda: enqueue_tick(urgent=delivery.urgent))
    if status != UNCONFIRMED:
        message_settle(delivery.message_id)
    return status


def deliveries_reconcile(*, now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Ask the platform about each unconfirmed delivery whose channel can be asked, and settle it. A
    withdrawn message's delivery found is sent, and the reaper takes it down (``take_downs_outstanding``);
    absent, it is withdrawn: never sent again."""
    now = now or timezone.now()
    channel_ids = offering_channel_ids()
    if not channel_ids:
        return {}
    candidates = list(lookup_candidates(Delivery.objects.select_related("message", "channel", "variant"),
                                        now=now, channel_ids=channel_ids)
                      .order_by("lookup_next_at", "id")[:limit])
    return reconcile(candidates, now=now, lookup=_delivery_lookup, record=_delivery_record, rows_of=_delivery_rows)
