"""The delivery life cycle: claim, begin, finish, skip, reap and settle.

A Delivery is one (variant, channel). Its status changes only by conditional update:

    pending --claim (tick)--> sending --in flight--> sent | pending (retry) | failed | unconfirmed
                                   \\--(pause, stale claim)--> pending

* The tick claims due rows with ``filter(status=PENDING).update(status=SENDING)`` and a
  fresh claim token; only the task carrying that token may send (:func:`deliveries_claim_due`).
* Just before the platform call, the worker sets ``in_flight_since`` by conditional
  update, after re-checking the approval hash and the pause (:func:`delivery_begin`). Only one
  worker can do so.
* The outcome is recorded by conditional update with its attempt row and audit row
  (:func:`delivery_finish`); backoff and attempts come from settings.
* A row found SENDING and in flight after a crash is *unconfirmed*: never resent blindly
  (:func:`deliveries_reap_stale`). Platforms that honour the idempotency key make a retry
  safe, so those go back to pending.
* A message's status follows its deliveries (:func:`message_settle`).
"""

from __future__ import annotations

import functools
import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime

from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.audit import audit_event, audit_record
from accounts.notify import notify
from accounts.onestatement import update_and_insert
from accounts.policies import policy_for
from campaigns.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    MediaAsset,
    Message,
    MessageStatus,
    Urgency,
)
from campaigns.publishing.outbound import (
    claim,
    finished_guard,
    held_by_pause,
    outcome_values,
    reap_stale,
    release_claim,
)
from campaigns.publishing.pause import _any_pause, paused_team_ids
from campaigns.services.content import approved_snapshot, content_hash
from core.dbretry import with_reconnect
from core.links import safe_external_url
from core.pii import mask_pii
from core.queue import enqueue_on_commit

logger = logging.getLogger(__name__)



# --- claim ---------------------------------------------------------------------------------------

def _due(now: datetime):
    return Delivery.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        status=DeliveryStatus.PENDING,
        due_at__lte=now,
        needs_review=False,
        message__status__in=[MessageStatus.SCHEDULED, MessageStatus.PUBLISHING],
    )


def deliveries_claim_due(*, limit: int = 500, urgent_only: bool = False) -> list[tuple[int, str, bool]]:
    """Claim due deliveries. Returns (delivery id, claim token, urgent) for each claimed row."""
    now = timezone.now()
    everything, paused = paused_team_ids()
    due = _due(now)
    if urgent_only:
        due = due.filter(urgent=True)
    if everything:
        due = due.filter(urgent=True, message__pause_override_by__isnull=False)
    elif paused:
        due = due.exclude(policy_for(Delivery).team_condition(paused) & Q(message__pause_override_by__isnull=True))
    with transaction.atomic():
        # Lock the delivery rows only ("of self"). The filter joins the message; a lock on every
        # joined table would make two ticks skip each other's *message* rows, and PostgreSQL keeps
        # the delivery lock it took before skipping, so a due row could be skipped by both.
        rows = list(due.order_by("-urgent", "due_at", "id")
                    .select_for_update(skip_locked=True, of=("self",))
                    .values_list("id", "urgent", "message_id")[:limit])
        if not rows:
            return []
        # One statement claims the batch, under one fresh token: a task needs the row's id *and*
        # this claim's token, and a new claim of the row gets a new token.
        ids = [delivery_id for delivery_id, _, _ in rows]
        token, n = claim(Delivery.objects.filter(pk__in=ids), now=now)
        if n != len(rows):  # not expected under the row locks; re-read what this claim holds
            ours = set(Delivery.objects.filter(pk__in=ids, claim_token=token).values_list("id", flat=True))
            rows = [row for row in rows if row[0] in ours]
        claimed = [(delivery_id, token, urgent) for delivery_id, urgent, _ in rows]
        message_ids = {m for _, _, m in rows}
        Message.objects.filter(pk__in=message_ids, status=MessageStatus.SCHEDULED).update(
            status=MessageStatus.PUBLISHING)
    _verify_content_ahead(message_ids)
    return claimed


def _verify_content_ahead(message_ids: set[int]) -> None:
    """Recompute each claimed message's content hash once, here, so that its deliveries' workers
    find the verification in the shared cache instead of each recomputing it at the same moment
    (a message's deliveries sit next to each other in the queue). A message that does not match
    is left alone: its workers recompute, find the difference and skip."""
    try:
        # The snapshot's related rows for the whole batch in five queries, not four per message.
        messages = (Message.objects.filter(pk__in=message_ids, approved_hash__gt="")
                    .prefetch_related("media", "variants__channels", "channels", "segments"))
        for message in messages:
            _content_matches_approval(message)
    except Exception:  # noqa: BLE001 - only a head start: the claimed rows must still be enqueued
        logger.warning("Could not verify claimed messages ahead of their workers.", exc_info=True)


def delivery_unclaim(*, delivery_id: int, token: str) -> bool:
    """The task could not be enqueued (broker down): put the row back so the next tick retries."""
    return bool(release_claim(Delivery.objects.filter(pk=delivery_id), token=token))


# --- reap ----------------------------------------------------------------------------------------

def deliveries_reap_stale(*, now: datetime | None = None) -> dict[str, int]:
    """Recover from crashes (``outbound.reap_stale``): stale claims go back to pending; stale in-flight
    rows become unconfirmed, or pending again where the platform deduplicates on our key."""
    now = now or timezone.now()
    reaped = reap_stale(Delivery.objects.select_related("message", "channel"), now=now,
                        kind_of=lambda delivery: delivery.channel.kind,
                        finish=lambda delivery, outcome, error: _finish(delivery=delivery, token=None, outcome=outcome,
                                                                        error=error))
    # A worker that stopped between recording a delivery's outcome and updating its message
    # leaves the message "publishing" with nothing left open: settle it here.
    deliveries = Delivery.objects.filter(message_id=OuterRef("pk"))
    open_rows = deliveries.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING])
    outcomes = deliveries.filter(status__in=[DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.UNCONFIRMED])
    settled = list(Message.objects.filter(Exists(outcomes), status=MessageStatus.PUBLISHING)
                   .exclude(Exists(open_rows)).values_list("pk", flat=True)[:500])
    for message_id in settled:
        message_settle(message_id)
    return {**reaped, "settled": len(settled)}


# --- begin ---------------------------------------------------------------------------------------

_VERIFIED: dict[str, float] = {}
_VERIFIED_SECONDS = 30.0


def _content_matches_approval(message: Message) -> bool:
    """The content about to go out is the content approved.

    Every delivery compares the stored content hash (kept by the services on every edit) with
    the approved one. The hash is also recomputed from the rows themselves, so that a write
    that bypassed the services is caught too: the first time any worker sends a given version
    of a message, and again whenever the last recompute is more than 30 seconds old. The time
    of the last recompute is shared through the cache (Redis in production), so a message's
    five deliveries on five worker processes cost one recompute, not five (five queries each,
    half the cost of a send).
    """
    if message.content_hash != message.approved_hash:
        return False
    key = (f"engage:verified:{message.pk}:{message.version}:{message.approved_hash}:"
           f"{message.updated_at.timestamp() if message.updated_at else ''}")
    now = time.time()
    if _VERIFIED.get(key, 0.0) > now:
        return True
    from django.core.cache import cache

    try:
        until = cache.get(key)
    except Exception:  # noqa: BLE001 - no cache: recompute
        until = None
    if isinstance(until, float) and now < until <= now + _VERIFIED_SECONDS:
        _VERIFIED[key] = until
        return True
    if content_hash(message) != message.approved_hash:
        return False
    if len(_VERIFIED) > 10_000:
        _VERIFIED.clear()
    _VERIFIED[key] = until = now + _VERIFIED_SECONDS
    try:
        cache.set(key, until, _VERIFIED_SECONDS)
    except Exception:  # noqa: BLE001 - the next delivery recomputes
        logger.warning("Could not share a content verification.", exc_info=True)
    return True


@dataclass(frozen=True)
class SendPermit:
    """A delivery marked in flight by this worker, loaded with its message, channel and variant."""

    delivery: Delivery
    snapshot: dict | None = None  # the approved version's content: the only source of the payload


_SENDABLE = (MessageStatus.SCHEDULED, MessageStatus.PUBLISHING)


def delivery_begin(*, delivery_id: int, token: str) -> SendPermit | None:
    """Re-check everything and mark the row in flight. None means: do not send.

    No transaction on the way to sending: one query loads the row, its message, channel and
    variant, whether any pause is in force and whether the message has images (most have none:
    then the payload needs no media query); the approved version's snapshot, which the payload is
    built from (one query per message and process: it never changes); one conditional update marks
    it in flight, and only
    if the message is, at that instant, still sendable with the hash just checked. A pause
    pressed in between releases the claim (a new token), so the update finds nothing.
    """
    rows = (Delivery.objects.select_related("message", "channel", "variant")
            .annotate(any_pause=Exists(_any_pause()),
                      has_media=Exists(MediaAsset.objects.filter(message_id=OuterRef("message_id"))))
            .filter(pk=delivery_id, status=DeliveryStatus.SENDING, claim_token=token, in_flight_since__isnull=True)
            .order_by())  # no default ordering: it would join the team just to sort one row
    try:
        loaded = list(rows[:1])
    except (InterfaceError, OperationalError):
        # The database dropped this worker's connection since its last task (a restart, a
        # failover; engage/celery.py skips the health check for a connection used moments ago).
        # Nothing has been written or sent: reconnect once and read again.
        if connection.in_atomic_block:
            raise
        logger.warning("Database connection lost before delivery %s; reconnecting once.", delivery_id)
        connection.close()
        loaded = list(rows[:1])
    delivery = loaded[0] if loaded else None
    if delivery is None:
        return None  # a stale, duplicate or released task message
    message = delivery.message
    reason = ""
    if message.status not in _SENDABLE:
        reason = f"Message is {message.status}"
    elif not message.approved_hash or not _content_matches_approval(message):
        reason = "Content differs from what was approved"
    snapshot = None if reason else approved_snapshot(message)
    if snapshot is None and not reason:
        reason = "There is no approved version of this content"
    if reason:
        _skip(delivery, token, reason)
        return None
    if held_by_pause(message.team_id, any_pause=delivery.any_pause,
                     overridden=message.urgency == Urgency.EMERGENCY and bool(message.pause_override_by_id)):
        release_claim(Delivery.objects.filter(pk=delivery_id), token=token)
        return None
    now = timezone.now()
    # A connection lost on this write may have lost only the answer: then the row carries our `now`.
    marked = with_reconnect(
        lambda: _mark_in_flight(delivery_id=delivery_id, token=token, approved_hash=message.approved_hash, now=now),
        what=f"marking delivery {delivery_id} in flight",
        committed=lambda: Delivery.objects.filter(pk=delivery_id, claim_token=token, in_flight_since=now).count() or None)
    if marked != 1:
        # Released or taken by another task; or, if the claim is still ours, the message was edited,
        # withdrawn or un-approved in the instant since the check.
        _skip(delivery, token, "The message changed just before sending")
        return None
    delivery.attempts += 1
    delivery.in_flight_since = now
    return SendPermit(delivery=delivery, snapshot=snapshot)


# The two statements every delivery runs that Django would compile anew each time (a third of a
# send's Python time): written once per process from the models' table and column names.


def _col(model, field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


@functools.cache
def _in_flight_sql() -> str:
    """Mark in flight only if still claimed by this task and, at this instant, the message is
    sendable with the hash just checked."""
    d, m = Delivery, Message
    table = connection.ops.quote_name(d._meta.db_table)
    return (f"UPDATE {table} SET {_col(d, 'in_flight_since')} = %s, {_col(d, 'attempts')} = "  # noqa: S608
            f"{_col(d, 'attempts')} + 1 WHERE {_col(d, 'id')} = %s AND {_col(d, 'status')} = %s AND "
            f"{_col(d, 'claim_token')} = %s AND {_col(d, 'in_flight_since')} IS NULL AND EXISTS (SELECT 1 "
            f"FROM {connection.ops.quote_name(m._meta.db_table)} m WHERE m.{_col(m, 'id')} = "
            f"{table}.{_col(d, 'message')} AND m.{_col(m, 'status')} IN (%s, %s) "
            f"AND m.{_col(m, 'approved_hash')} = %s AND m.{_col(m, 'content_hash')} = %s)")


@functools.cache
def _status_counts_sql() -> str:
    d = Delivery
    return (f"SELECT {_col(d, 'status')}, COUNT(*) FROM {connection.ops.quote_name(d._meta.db_table)} "  # noqa: S608
            f"WHERE {_col(d, 'message')} = %s GROUP BY {_col(d, 'status')}")


def _mark_in_flight(*, delivery_id: int, token: str, approved_hash: str, now: datetime) -> int:
    with connection.cursor() as cursor:
        cursor.execute(_in_flight_sql(), [
            connection.ops.adapt_datetimefield_value(now), delivery_id, DeliveryStatus.SENDING, token,
            *_SENDABLE, approved_hash, approved_hash])
        return cursor.rowcount


# --- skip, finish, settle ------------------------------------------------------------------------

def _skip(delivery: Delivery, token: str, reason: str, *, in_flight: bool = False) -> None:
    with transaction.atomic():
        n = Delivery.objects.filter(pk=delivery.pk, claim_token=token, status=DeliveryStatus.SENDING,
                                    in_flight_since__isnull=not in_flight).update(
            status=DeliveryStatus.SKIPPED, last_error=reason, claim_token="", in_flight_since=None)
        if n != 1:
            return
        DeliveryAttempt.objects.create(delivery=delivery, outcome="skipped", error=reason,
                                       finished_at=timezone.now())
        audit_record(actor=None, verb="delivery.skipped", target=delivery, team=delivery.message.team_id,
                     summary={"reason": reason})
    message_settle(delivery.message_id)


def _finish(
    *,
    delivery: Delivery,
    token: str | None,
    outcome: str,
    error: str = "",
    http_status: int | None = None,
    external_id: str = "",
    external_url: str = "",
    retry_after: float | None = None,
) -> int:
    """Record the outcome of an in-flight attempt, by conditional update. ``delivery`` carries the
    attempt count and start time as marked in flight, and its message.

    The update, the attempt row and the audit row stand or fall together: one statement on
    PostgreSQL (``accounts.onestatement``), a transaction elsewhere. The message's status is
    worked out after that, not inside it: two of a message's deliveries finishing at once would
    otherwise each count the other as still sending (neither sees the other's uncommitted row)
    and the message would stay "publishing". After its own commit, the last one to commit sees
    every other outcome (and the reaper settles a message whose worker stopped in between)."""
    now = timezone.now()
    guard = finished_guard(Delivery.objects.filter(pk=delivery.pk), token=token)
    error = error[:500]
    external_url = safe_external_url(external_url)  # a platform's answer: a link only if plain http(s)
    outcome, values = outcome_values(outcome=outcome, attempts=delivery.attempts, now=now, error=error,
                                     external_id=external_id, external_url=external_url, retry_after=retry_after,
                                     started_at=delivery.in_flight_since)
    alert = outcome in ("failed", "unconfirmed")

    def record() -> int:
        records = [
            DeliveryAttempt(delivery_id=delivery.pk, started_at=delivery.in_flight_since or now, finished_at=now,
                            outcome=outcome, http_status=http_status, error=error),
            audit_event(actor=None, verb=f"delivery.{outcome}", target=delivery, team=delivery.message.team_id,
                        summary={"channel": delivery.channel.kind, "http_status": http_status,
                                 # a list send's error can name a recipient: never an address in the audit
                                 "error": mask_pii(error) if error else "",
                                 "external_id": external_id}),
        ]
        with transaction.atomic() if alert else nullcontext():
            n = update_and_insert(guard, values, records)
            if n == 1 and alert:
                _alert_failure(delivery, outcome, error)
        return n

    # The platform has answered: a dropped database connection must not lose that answer. Written
    # again on a new connection; if the lost attempt had committed, its attempt row says so.
    n = with_reconnect(record, what=f"recording delivery {delivery.pk}'s outcome ({outcome})",
                       committed=lambda: DeliveryAttempt.objects.filter(
                           delivery_id=delivery.pk, finished_at=now, outcome=outcome).count() or None)
    if n != 1:
        return 0  # finished by someone else (the reaper, or a withdrawal)
    with_reconnect(lambda: message_settle(delivery.message_id), what=f"settling message {delivery.message_id}")
    return n


def delivery_skip_in_flight(*, permit: SendPermit, token: str, reason: str) -> None:
    """Nothing was sent and nothing will be (a list variant that reaches nobody): skipped, not failed."""
    _skip(permit.delivery, token, reason, in_flight=True)


def delivery_finish(*, permit: SendPermit, token: str, outcome: str, **kwargs: object) -> int:
    return _finish(delivery=permit.delivery, token=token, outcome=outcome, **kwargs)  # type: ignore[arg-type]


def _alert_failure(delivery: Delivery, outcome: str, error: str) -> None:
    message = delivery.message
    text = (f"Delivery to {delivery.channel.name} {'failed' if outcome == 'failed' else 'is unconfirmed'}: "
            f"{error[:200]}")
    # The team's supervisors hear of each delivery; its author hears once, of the whole message, when
    # it settles (``campaigns.services.alerts.alert_settled``): one email each, never two.
    notify(f"delivery_{outcome}", team=message.team_id, text=text,
           url=f"/desk/messages/{message.pk}/#delivery-{delivery.pk}")


def message_settle(message_id: int) -> None:
    """The message's status follows its deliveries, once none is pending or sending: published
    (all sent), partially published (some sent, some failed or unconfirmed) or failed (none sent).
    (Two plain statements: one conditional UPDATE with the counts as subqueries costs more to
    compile in Django than the round trip it saves; the first is written once, ``_status_counts_sql``.)"""
    with connection.cursor() as cursor:
        cursor.execute(_status_counts_sql(), [message_id])
        counts = dict(cursor.fetchall())
    open_states = counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0)
    sent = counts.get(DeliveryStatus.SENT, 0)
    problems = counts.get(DeliveryStatus.FAILED, 0) + counts.get(DeliveryStatus.UNCONFIRMED, 0)
    if open_states:
        return
    if sent and not problems:
        new = MessageStatus.PUBLISHED
    elif sent:
        new = MessageStatus.PARTIALLY_PUBLISHED
    elif problems:
        new = MessageStatus.FAILED
    else:
        return
    now = timezone.now()
    settling = Message.objects.filter(pk=message_id, status__in=[
        MessageStatus.SCHEDULED, MessageStatus.PUBLISHING, MessageStatus.PARTIALLY_PUBLISHED, MessageStatus.FAILED])
    # One statement on the send path; the author is told (campaigns/services/alerts.py) by a task after
    # the commit, and only when the status changed (a settled message settled again is not news).
    if settling.exclude(status=new).update(status=new, published_at=now if sent else None):
        enqueue_on_commit("campaigns.message_settled_alert", message_id=message_id, status=new)
    else:
        settling.update(status=new, published_at=now if sent else None)
