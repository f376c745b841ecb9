"""Scheduling, the delivery life cycle, the publishing pause and withdrawal.

A Delivery is one (variant, channel). Its status changes only by conditional update:

    pending --claim (tick)--> sending --in flight--> sent | pending (retry) | failed | unconfirmed
                                   \\--(pause, stale claim)--> pending

* The tick claims due rows with ``filter(status=PENDING).update(status=SENDING)`` and a
  fresh claim token; only the task carrying that token may send.
* Just before the platform call, the worker sets ``in_flight_since`` by conditional
  update, after re-checking the approval hash and the pause. Only one worker can do so.
* A row found SENDING and in flight after a crash is *unconfirmed*: never resent blindly.
  Platforms that honour the idempotency key make a retry safe, so those go back to pending.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts import permissions
from accounts.audit import audit_event, audit_record
from accounts.models import Membership, Notification, Role, User
from accounts.teams import parent_map, with_descendants
from campaigns.models import (
    Approval,
    Channel,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    MediaAsset,
    Message,
    MessageStatus,
    PublishingPause,
    Urgency,
    Variant,
)
from campaigns.services.content import approved_snapshot, content_hash
from campaigns.services.messages import lock_message
from campaigns.services.workflow import parse_schedule_time
from engage.common.errors import InvalidInput, NotAllowed, NotFound, WrongState
from engage.common.links import safe_external_url
from engage.common.onestatement import update_and_insert
from engage.common.pii import mask_pii

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = settings.ENGAGE_MAX_DELIVERY_ATTEMPTS
RETRY_BASE_SECONDS = settings.ENGAGE_RETRY_BASE_SECONDS
STALE_CLAIM = timedelta(minutes=5)


def _idempotent_kinds() -> frozenset[str]:
    """Channel kinds whose platform deduplicates on our idempotency key (a class attribute)."""
    from campaigns.adapters import KINDS, adapter_class

    return frozenset(k for k in KINDS if getattr(adapter_class(k), "honours_idempotency_key", False))


IDEMPOTENT_KINDS = _idempotent_kinds()
RESUME_REVIEW_AFTER = timedelta(minutes=settings.ENGAGE_RESUME_REVIEW_MINUTES)


# --- planning -------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlannedDelivery:
    variant: Variant | None
    channel: Channel


def plan_deliveries(message: Message) -> list[PlannedDelivery]:
    """One row per (variant, channel). The original goes on every channel of the message,
    except where a variant in the original's language names that channel explicitly (an
    SMS-short version replaces the original on SMS, for example)."""
    channels = list(message.channels.filter(is_active=True))
    plan: list[PlannedDelivery] = []
    replaced: set[int] = set()
    for variant in message.variants.prefetch_related("channels"):
        explicit = [c for c in variant.channels.all() if c in channels]
        targets = explicit or channels
        if explicit and variant.language == message.language:
            replaced.update(c.pk for c in explicit)
        plan.extend(PlannedDelivery(variant=variant, channel=c) for c in targets)
    plan[:0] = [PlannedDelivery(variant=None, channel=c) for c in channels if c.pk not in replaced]
    return plan


def _new_key() -> str:
    return f"engage-{uuid.uuid4().hex}"


@transaction.atomic
def message_schedule(*, actor: User, message: Message, scheduled_at: datetime | None) -> Message:
    message = lock_message(message.pk)
    if not permissions.can_view_team(actor, message.team_id):
        raise NotFound("No such message.")
    if not permissions.can_schedule(actor, message):
        raise NotAllowed("You cannot schedule messages of this team.")
    if message.status not in (MessageStatus.APPROVED, MessageStatus.SCHEDULED):
        raise WrongState(f"Only an approved message can be scheduled; this one is "
                         f"{message.get_status_display().lower()}.")
    if not message.approved_hash or message.approved_hash != content_hash(message):
        raise WrongState("The approved content differs from the current content.", code="not_approved")
    when = parse_schedule_time(scheduled_at)
    urgent = message.urgency == Urgency.EMERGENCY
    for item in plan_deliveries(message):
        lookup = {"message": message, "channel": item.channel, "variant": item.variant}
        delivery = Delivery.objects.filter(**lookup).first()
        if delivery is None:
            Delivery.objects.create(**lookup, idempotency_key=_new_key(), due_at=when, urgent=urgent)
        elif delivery.status in (DeliveryStatus.PENDING, DeliveryStatus.SKIPPED):
            Delivery.objects.filter(pk=delivery.pk, status=delivery.status).update(
                status=DeliveryStatus.PENDING, due_at=when, urgent=urgent, next_attempt_at=None, last_error="",
                needs_review=False)
    message.status = MessageStatus.SCHEDULED
    message.scheduled_at = when
    message.save(update_fields=["status", "scheduled_at", "updated_at"])
    audit_record(actor=actor, verb="message.scheduled", target=message,
                 summary={"scheduled_at": when.isoformat(), "content_hash": message.approved_hash})
    if when <= timezone.now() + timedelta(seconds=1):
        from campaigns.tasks import enqueue_tick

        transaction.on_commit(lambda: enqueue_tick(urgent=urgent))
    return message


# --- the pause ------------------------------------------------------------------------------

def paused_team_ids() -> tuple[bool, set[int]]:
    """(everything paused?, ids of paused teams including their sub-teams)."""
    pauses = set(PublishingPause.objects.filter(resumed_at__isnull=True).values_list("team_id", flat=True))
    if None in pauses:
        return True, set()
    if not pauses:
        return False, set()
    return False, with_descendants(pauses, parent_map())


def _any_pause():
    return PublishingPause.objects.filter(resumed_at__isnull=True)


def is_paused_for(message: Message, *, any_pause: bool | None = None) -> bool:
    """``any_pause``: whether any pause is in force, when the caller already asked the database."""
    if any_pause is None:
        any_pause = _any_pause().exists()
    if not any_pause:
        return False
    everything, teams = paused_team_ids()
    return everything or message.team_id in teams


def _pause_scope(actor: User, team: int | None, *, verb: str) -> int | None:
    """The team a pause or resume applies to; None only for a platform-wide one.

    A force is a tenant: a supervisor pauses and resumes their own force or its teams. Without a
    team, a platform operator means every force; anyone else means their own force (when they
    supervise exactly one at force level)."""
    if team is not None:
        if not permissions.can_pause_publishing(actor, team):
            raise NotAllowed(f"Only a supervisor of this team can {verb} its publishing.")
        return team
    if permissions.can_pause_everything(actor):
        return None
    forces = permissions.supervised_forces(actor)
    if len(forces) == 1:
        return forces[0]
    if forces:
        raise InvalidInput("Say which force or team this is for.", fields={"team": ["This field is required."]})
    raise NotAllowed(f"Only a force-level supervisor can {verb} their whole force, and only platform operators "
                     f"every force.")


@transaction.atomic
def publishing_pause(*, actor: User, reason: str, team: int | None = None) -> PublishingPause:
    """Pause ``team`` and the teams below it; without a team, see ``_pause_scope``."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give a reason for the pause.", fields={"reason": ["This field may not be blank."]})
    team = _pause_scope(actor, team, verb="pause")
    pause = PublishingPause.objects.create(team_id=team, reason=reason[:500], paused_by=actor)
    # Claimed rows of the paused teams that have not started their platform call go back to wait.
    claimed = Delivery.objects.filter(status=DeliveryStatus.SENDING, in_flight_since__isnull=True)
    if team is not None:
        claimed = claimed.filter(message__team_id__in=with_descendants({team}, parent_map()))
    claimed.update(status=DeliveryStatus.PENDING, claim_token="", claimed_at=None)
    audit_record(actor=actor, verb="publishing.paused", target=pause, team=team,
                 summary={"reason": reason, "scope": "platform" if team is None else "team"})
    return pause


@transaction.atomic
def publishing_resume(*, actor: User, reason: str = "", team: int | None = None,
                      restore_report_seen: bool = False) -> int:
    """Lift the pause on ``team`` (see ``_pause_scope``). Deliveries of the teams it covered that are
    more than RESUME_REVIEW_AFTER overdue wait for review. A pause placed by a restore is lifted only
    by someone who says they have read its report (``restore_report_seen``, from the Publishing page)."""
    team = _pause_scope(actor, team, verb="resume")
    pauses = PublishingPause.objects.filter(resumed_at__isnull=True, team_id=team)
    if not pauses.exists():
        if team is not None and _any_pause().filter(team__isnull=True).exists():
            raise WrongState("Publishing is paused on the whole platform; only a platform operator can resume it.")
        raise WrongState("Publishing is not paused here.")
    restored = list(pauses.filter(restore_report__isnull=False).values_list("restore_report__pk", flat=True))
    if restored and not restore_report_seen:
        raise WrongState("This force was restored from a backup and comes up paused. Read the restore report on "
                         "the Publishing page, then resume there, ticking that you have read it.")
    now = timezone.now()
    count = pauses.update(resumed_at=now, resumed_by=actor)
    overdue = Delivery.objects.filter(status=DeliveryStatus.PENDING, due_at__lt=now - RESUME_REVIEW_AFTER,
                                      urgent=False)
    if team is not None:
        overdue = overdue.filter(message__team_id__in=with_descendants({team}, parent_map()))
    held = overdue.update(needs_review=True)
    audit_record(actor=actor, verb="publishing.resumed", target_type="campaigns.publishingpause", team=team,
                 summary={"reason": reason, "pauses": count, "held_for_review": held,
                          "scope": "platform" if team is None else "team", "restore_reports": restored})
    return held


@transaction.atomic
def delivery_release(*, actor: User, delivery: Delivery, send: bool) -> Delivery:
    """From the review-before-sending list: send now, or skip."""
    if not permissions.can_pause_publishing(actor, delivery.message.team_id):
        raise NotAllowed("Only a supervisor can release held deliveries.")
    if send:
        n = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING, needs_review=True).update(
            needs_review=False, due_at=timezone.now())
    else:
        n = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING, needs_review=True).update(
            needs_review=False, status=DeliveryStatus.SKIPPED, last_error="Skipped after review")
    if n != 1:
        raise WrongState("This delivery is not waiting for review.")
    audit_record(actor=actor, verb="delivery.released" if send else "delivery.skipped", target=delivery,
                 team=delivery.message.team_id)
    delivery.refresh_from_db()
    if send:
        from campaigns.tasks import enqueue_tick

        transaction.on_commit(lambda: enqueue_tick(urgent=False))
    return delivery


@transaction.atomic
def emergency_pause_override(*, actor: User, message: Message) -> Message:
    """A second supervisor confirms that an emergency message may leave during a pause."""
    message = lock_message(message.pk)
    if message.urgency != Urgency.EMERGENCY:
        raise WrongState("Only emergency messages can go out during a pause.")
    # The two-person rule: nobody who wrote any version of it, nor anyone whose approval stands.
    approvers = {message.approved_by_id, *Approval.objects.filter(message=message, voided_at__isnull=True)
                 .values_list("approver_id", flat=True)}
    if (not permissions.can_pause_publishing(actor, message.team_id) or actor.pk in approvers
            or permissions.wrote_part_of(actor, message)):
        raise NotAllowed("A second supervisor, who neither wrote nor approved it, must confirm.")
    message.pause_override_by = actor
    message.pause_override_at = timezone.now()
    message.save(update_fields=["pause_override_by", "pause_override_at", "updated_at"])
    audit_record(actor=actor, verb="publishing.emergency_override", target=message)
    from campaigns.tasks import enqueue_tick

    transaction.on_commit(lambda: enqueue_tick(urgent=True))
    return message


# --- the tick: claim due rows ---------------------------------------------------------------

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
        due = due.exclude(Q(message__team_id__in=paused) & Q(message__pause_override_by__isnull=True))
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
        token = uuid.uuid4().hex
        ids = [delivery_id for delivery_id, _, _ in rows]
        n = Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.SENDING, claim_token=token, claimed_at=now)
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
    return bool(Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING, claim_token=token,
                                        in_flight_since__isnull=True)
                .update(status=DeliveryStatus.PENDING, claim_token="", claimed_at=None))


def deliveries_reap_stale(*, now: datetime | None = None) -> dict[str, int]:
    """Recover from crashes: stale claims go back to pending; stale in-flight rows become unconfirmed."""
    now = now or timezone.now()
    back = Delivery.objects.filter(status=DeliveryStatus.SENDING, in_flight_since__isnull=True,
                                   claimed_at__lt=now - STALE_CLAIM).update(
        status=DeliveryStatus.PENDING, claim_token="", claimed_at=None)
    limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    stale = list(Delivery.objects.filter(status=DeliveryStatus.SENDING, in_flight_since__lt=now - limit)
                 .select_related("message", "channel"))
    unconfirmed = retried = 0
    for delivery in stale:
        if delivery.channel.kind in IDEMPOTENT_KINDS:
            # The platform deduplicates on our idempotency key: sending again is safe.
            retried += _finish(delivery=delivery, token=None, outcome="transient",
                               error="The worker stopped during the platform call; retrying with the same key.")
        else:
            unconfirmed += _finish(delivery=delivery, token=None, outcome="unconfirmed",
                                   error="The worker stopped during the platform call: check before reposting.")
    # A worker that stopped between recording a delivery's outcome and updating its message
    # leaves the message "publishing" with nothing left open: settle it here.
    deliveries = Delivery.objects.filter(message_id=OuterRef("pk"))
    open_rows = deliveries.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING])
    outcomes = deliveries.filter(status__in=[DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.UNCONFIRMED])
    settled = list(Message.objects.filter(Exists(outcomes), status=MessageStatus.PUBLISHING)
                   .exclude(Exists(open_rows)).values_list("pk", flat=True)[:500])
    for message_id in settled:
        _refresh_message_status(message_id)
    return {"released": back, "unconfirmed": unconfirmed, "retried": retried, "settled": len(settled)}


# --- the send -------------------------------------------------------------------------------

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
    if (is_paused_for(message, any_pause=delivery.any_pause)
            and not (message.urgency == Urgency.EMERGENCY and message.pause_override_by_id)):
        Delivery.objects.filter(pk=delivery_id, claim_token=token, in_flight_since__isnull=True).update(
            status=DeliveryStatus.PENDING, claim_token="", claimed_at=None)
        return None
    now = timezone.now()
    if _mark_in_flight(delivery_id=delivery_id, token=token, approved_hash=message.approved_hash, now=now) != 1:
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
    _refresh_message_status(delivery.message_id)


def _backoff(attempts: int, retry_after: float | None) -> timedelta:
    base = min(RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0)), 900)
    return timedelta(seconds=max(base, retry_after or 0))


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
    PostgreSQL (``engage.common.onestatement``), a transaction elsewhere. The message's status is
    worked out after that, not inside it: two of a message's deliveries finishing at once would
    otherwise each count the other as still sending (neither sees the other's uncommitted row)
    and the message would stay "publishing". After its own commit, the last one to commit sees
    every other outcome (and the reaper settles a message whose worker stopped in between)."""
    now = timezone.now()
    guard = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING, in_flight_since__isnull=False)
    if token is not None:
        guard = guard.filter(claim_token=token)
    error = error[:500]
    external_url = safe_external_url(external_url)  # a platform's answer: a link only if plain http(s)
    done = {"in_flight_since": None, "claim_token": ""}
    if outcome == "sent":
        values = {"status": DeliveryStatus.SENT, "sent_at": now, "external_id": external_id[:200],
                  "external_url": external_url[:500], "last_error": "", **done}
    elif outcome == "transient" and delivery.attempts < MAX_ATTEMPTS:
        values = {"status": DeliveryStatus.PENDING, "last_error": error, "claimed_at": None,
                  "next_attempt_at": now + _backoff(delivery.attempts, retry_after), **done}
    elif outcome == "unconfirmed":
        values = {"status": DeliveryStatus.UNCONFIRMED, "last_error": error, "external_id": external_id[:200],
                  "external_url": external_url[:500], **done}
    else:
        outcome = "failed"
        values = {"status": DeliveryStatus.FAILED, "last_error": error, **done}
    records = [
        DeliveryAttempt(delivery_id=delivery.pk, started_at=delivery.in_flight_since or now, finished_at=now,
                        outcome=outcome, http_status=http_status, error=error),
        audit_event(actor=None, verb=f"delivery.{outcome}", target=delivery, team=delivery.message.team_id,
                    summary={"channel": delivery.channel.kind, "http_status": http_status,
                             # a list send's error can name a recipient: never an address in the audit
                             "error": mask_pii(error) if error else "",
                             "external_id": external_id}),
    ]
    alert = outcome in ("failed", "unconfirmed")
    with transaction.atomic() if alert else nullcontext():
        n = update_and_insert(guard, values, records)
        if n == 1 and alert:
            _alert_failure(delivery, outcome, error)
    if n != 1:
        return 0  # finished by someone else (the reaper, or a withdrawal)
    _refresh_message_status(delivery.message_id)
    return n


def delivery_skip_in_flight(*, permit: SendPermit, token: str, reason: str) -> None:
    """Nothing was sent and nothing will be (a list variant that reaches nobody): skipped, not failed."""
    _skip(permit.delivery, token, reason, in_flight=True)


def delivery_finish(*, permit: SendPermit, token: str, outcome: str, **kwargs: object) -> int:
    return _finish(delivery=permit.delivery, token=token, outcome=outcome, **kwargs)  # type: ignore[arg-type]


def _alert_failure(delivery: Delivery, outcome: str, error: str) -> None:
    message = delivery.message
    supervisors = Membership.objects.filter(team_id=message.team_id, role=Role.SUPERVISOR).values_list(
        "user_id", flat=True)
    recipients = {message.author_id, *supervisors}
    text = (f"Delivery to {delivery.channel.name} {'failed' if outcome == 'failed' else 'is unconfirmed'}: "
            f"{error[:200]}")
    url = f"/desk/messages/{message.pk}/#delivery-{delivery.pk}"
    Notification.objects.bulk_create(
        [Notification(user_id=uid, kind=f"delivery_{outcome}", text=text, url=url) for uid in recipients])
    from campaigns.tasks import email_alert

    ids = sorted(recipients)
    transaction.on_commit(lambda: email_alert.delay(user_ids=ids, subject="Engage: delivery problem",
                                                    text=text, url=url))


def _refresh_message_status(message_id: int) -> None:
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
    Message.objects.filter(pk=message_id, status__in=[MessageStatus.SCHEDULED, MessageStatus.PUBLISHING,
                                                      MessageStatus.PARTIALLY_PUBLISHED, MessageStatus.FAILED]
                           ).update(status=new, published_at=now if sent else None)


@transaction.atomic
def delivery_retry(*, actor: User, delivery: Delivery) -> Delivery:
    """One-click retry of a failed delivery. An unconfirmed one needs ``confirmed_not_posted``."""
    if not permissions.can_schedule(actor, delivery.message):
        raise NotAllowed("You cannot retry deliveries of this team.")
    n = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING, next_attempt_at=None, due_at=timezone.now(), attempts=0)
    if n != 1:
        raise WrongState("Only a failed delivery can be retried.")
    Message.objects.filter(pk=delivery.message_id, status__in=[MessageStatus.FAILED,
                                                               MessageStatus.PARTIALLY_PUBLISHED]).update(
        status=MessageStatus.PUBLISHING)
    audit_record(actor=actor, verb="delivery.retried", target=delivery, team=delivery.message.team_id)
    from campaigns.tasks import enqueue_tick

    transaction.on_commit(lambda: enqueue_tick(urgent=delivery.urgent))
    delivery.refresh_from_db()
    return delivery


@transaction.atomic
def delivery_resolve_unconfirmed(*, actor: User, delivery: Delivery, posted: bool, external_url: str = "") -> Delivery:
    """A person checked the platform: it was posted (sent) or it was not (send again)."""
    if not permissions.can_schedule(actor, delivery.message):
        raise NotAllowed("You cannot resolve deliveries of this team.")
    if external_url and not safe_external_url(external_url):
        raise InvalidInput("The post's address must be an http(s) URL.", fields={"external_url": ["Not an http(s) URL."]})
    if posted:
        n = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.UNCONFIRMED).update(
            status=DeliveryStatus.SENT, sent_at=timezone.now(), external_url=external_url[:500])
    else:
        n = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.UNCONFIRMED).update(
            status=DeliveryStatus.PENDING, due_at=timezone.now(), next_attempt_at=None)
        Message.objects.filter(pk=delivery.message_id).exclude(status=MessageStatus.WITHDRAWN).update(
            status=MessageStatus.PUBLISHING)
    if n != 1:
        raise WrongState("This delivery is not unconfirmed.")
    audit_record(actor=actor, verb="delivery.reconciled", target=delivery, team=delivery.message.team_id,
                 summary={"posted": posted})
    _refresh_message_status(delivery.message_id)
    delivery.refresh_from_db()
    return delivery


# --- withdrawal -----------------------------------------------------------------------------

@transaction.atomic
def message_withdraw(*, actor: User, message: Message, reason: str = "", confirmation: str = "") -> Message:
    """Stop anything not yet sent; take down what was posted where the platform allows.

    A withdrawal needs a reason (400 without one), kept in the audit trail and the history with
    ``confirmation``: what the person confirmed (the page's sentence; "api" for an API call)."""
    message = lock_message(message.pk)
    if not permissions.can_view_team(actor, message.team_id):
        raise NotFound("No such message.")
    if not permissions.can_withdraw(actor, message):
        raise NotAllowed("Only a supervisor of this team can withdraw messages.")
    if message.status in (MessageStatus.DRAFT, MessageStatus.IN_REVIEW, MessageStatus.CHANGES_REQUESTED,
                          MessageStatus.WITHDRAWN):
        raise WrongState(f"A message that is {message.get_status_display().lower()} cannot be withdrawn.")
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput("Say why the message is withdrawn: the reason is kept in its history.",
                           code="reason_required", fields={"reason": ["This field may not be blank."]})
    now = timezone.now()
    stopped = Delivery.objects.filter(message=message).filter(
        Q(status=DeliveryStatus.PENDING) | Q(status=DeliveryStatus.SENDING, in_flight_since__isnull=True)
    ).update(status=DeliveryStatus.WITHDRAWN, claim_token="", last_error="Withdrawn before sending")
    to_take_down = list(Delivery.objects.filter(message=message, status=DeliveryStatus.SENT).values_list("id",
                                                                                                      flat=True))
    # A platform call under way is left alone (its worker records what the platform did). If the
    # post went out, it comes down like the others: a take-down once the call has surely ended (it
    # acts on a sent delivery only), at no cost to every send.
    in_flight = list(Delivery.objects.filter(message=message, status=DeliveryStatus.SENDING,
                                             in_flight_since__isnull=False).values_list("id", flat=True))
    message.status = MessageStatus.WITHDRAWN
    message.withdrawn_at = now
    message.save(update_fields=["status", "withdrawn_at", "updated_at"])
    audit_record(actor=actor, verb="message.withdrawn", target=message,
                 summary={"reason": reason[:500], "confirmation": (confirmation or "")[:300], "stopped": stopped,
                          "to_take_down": len(to_take_down)})
    from campaigns.tasks import take_down

    for delivery_id in to_take_down:
        transaction.on_commit(lambda d=delivery_id: take_down.delay(delivery_id=d))
    ended = settings.CELERY_TASK_TIME_LIMIT + 60
    for delivery_id in in_flight:
        transaction.on_commit(lambda d=delivery_id: take_down.apply_async(kwargs={"delivery_id": d}, countdown=ended))
    return message


# How long a platform lets us delete a post through its API (absent: no limit we know of).
# Telegram: "A message can only be deleted if it was sent less than 48 hours ago" (Bot API
# 10.1, deleteMessage); docs/platforms.md.
DELETE_WINDOWS: dict[str, timedelta] = {"telegram": timedelta(hours=48)}


def delete_window_passed(delivery: Delivery, *, now: datetime | None = None) -> bool:
    """Whether ``delivery``'s post is too old for its platform to let us delete it."""
    window = DELETE_WINDOWS.get(delivery.channel.kind)
    if window is None or delivery.status != DeliveryStatus.SENT or delivery.sent_at is None:
        return False
    return delivery.sent_at <= (now or timezone.now()) - window


@transaction.atomic
def delivery_mark_removed_by_hand(*, actor: User, delivery: Delivery) -> Delivery:
    """A person removed a withdrawn message's post by hand (the platform would not let us):
    the delivery becomes withdrawn, and who said so is on the audit trail."""
    if not permissions.can_withdraw(actor, delivery.message):
        raise NotAllowed("Only a supervisor of this team can say a post was removed by hand.")
    n = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENT, manual_takedown=True).update(
        status=DeliveryStatus.WITHDRAWN, manual_takedown=False, last_error="Removed by hand")
    if n != 1:
        raise WrongState("Only a post waiting to be removed by hand can be marked as handled.")
    audit_record(actor=actor, verb="delivery.removed_by_hand", target=delivery, team=delivery.message.team_id,
                 summary={"channel": delivery.channel_id, "external_id": delivery.external_id[:200]})
    delivery.refresh_from_db()
    return delivery


def delivery_taken_down(*, delivery_id: int, manual: bool, error: str = "") -> None:
    with transaction.atomic():
        if manual:
            Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENT).update(
                manual_takedown=True, last_error=error[:500] or "Delete this post by hand")
        else:
            Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENT).update(
                status=DeliveryStatus.WITHDRAWN, manual_takedown=False, last_error="")
        delivery = Delivery.objects.select_related("message").get(pk=delivery_id)
        audit_record(actor=None, verb="delivery.taken_down" if not manual else "delivery.manual_takedown",
                     target=delivery, team=delivery.message.team_id, summary={"error": error[:200]})
