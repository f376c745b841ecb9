"""Scheduling: which deliveries a message has, when they are due, and asking the tick to claim them.

A Delivery is one (variant, channel) of an approved message (:func:`plan_deliveries`). Scheduling
creates the rows, pending, with a fixed idempotency key each; the tick (:mod:`.lifecycle`) claims
them when due. A person may put a failed delivery back on schedule (:func:`delivery_retry`) or say
what became of an unconfirmed one (:func:`delivery_resolve_unconfirmed`).

Scheduling or releasing a delivery asks the tick to run now rather than at the next beat
(:func:`enqueue_tick`). One queued tick that has not started covers every request before it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import User
from campaigns.models import Channel, Delivery, DeliveryStatus, Message, MessageStatus, Urgency, Variant
from campaigns.services.content import content_hash
from campaigns.services.messages import lock_message
from campaigns.services.workflow import parse_schedule_time
from core.errors import InvalidInput, NotAllowed, NotFound, WrongState
from core.links import safe_external_url
from core.queue import task_named

logger = logging.getLogger(__name__)


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
        raise NotFound(gettext("No such message."))
    if not permissions.can_schedule(actor, message):
        raise NotAllowed(gettext("You cannot schedule messages of this team."))
    if message.status not in (MessageStatus.APPROVED, MessageStatus.SCHEDULED):
        raise WrongState(gettext("Only an approved message can be scheduled; this one is %(status)s.") % {
            "status": gettext(message.get_status_display()).lower()})  # noqa: INT001 - DESK_LABELS
    if not message.approved_hash or message.approved_hash != content_hash(message):
        raise WrongState(gettext("The approved content differs from the current content."),
                         code="not_approved")
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
        transaction.on_commit(lambda: enqueue_tick(urgent=urgent))
    return message


@transaction.atomic
def delivery_retry(*, actor: User, delivery: Delivery) -> Delivery:
    """One-click retry of a failed delivery. An unconfirmed one needs ``confirmed_not_posted``."""
    if not permissions.can_schedule(actor, delivery.message):
        raise NotAllowed(gettext("You cannot retry deliveries of this team."))
    n = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING, next_attempt_at=None, due_at=timezone.now(), attempts=0)
    if n != 1:
        raise WrongState(gettext("Only a failed delivery can be retried."))
    Message.objects.filter(pk=delivery.message_id, status__in=[MessageStatus.FAILED,
                                                               MessageStatus.PARTIALLY_PUBLISHED]).update(
        status=MessageStatus.PUBLISHING)
    audit_record(actor=actor, verb="delivery.retried", target=delivery, team=delivery.message.team_id)
    transaction.on_commit(lambda: enqueue_tick(urgent=delivery.urgent))
    delivery.refresh_from_db()
    return delivery


@transaction.atomic
def delivery_resolve_unconfirmed(*, actor: User, delivery: Delivery, posted: bool, external_url: str = "") -> Delivery:
    """A person checked the platform: it was posted (sent) or it was not (send again)."""
    from campaigns.publishing.lifecycle import (
        message_settle,  # lifecycle imports the pause, which imports this
    )

    if not permissions.can_schedule(actor, delivery.message):
        raise NotAllowed(gettext("You cannot resolve deliveries of this team."))
    if external_url and not safe_external_url(external_url):
        raise InvalidInput(gettext("The post's address must be an http(s) URL."),
                           fields={"external_url": ["Not an http(s) URL."]})
    if posted:
        n = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.UNCONFIRMED).update(
            status=DeliveryStatus.SENT, sent_at=timezone.now(), external_url=external_url[:500])
    else:
        n = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.UNCONFIRMED).update(
            status=DeliveryStatus.PENDING, due_at=timezone.now(), next_attempt_at=None)
        Message.objects.filter(pk=delivery.message_id).exclude(status=MessageStatus.WITHDRAWN).update(
            status=MessageStatus.PUBLISHING)
    if n != 1:
        raise WrongState(gettext("This delivery is not unconfirmed."))
    audit_record(actor=actor, verb="delivery.reconciled", target=delivery, team=delivery.message.team_id,
                 summary={"posted": posted})
    message_settle(delivery.message_id)
    delivery.refresh_from_db()
    return delivery


# --- asking for an early tick ------------------------------------------------------------------

# Set while an early tick waits in the queue; the tick clears it as it starts, before claiming.
TICK_PENDING_KEY = {False: "engage:tick:pending", True: "engage:tick:pending:urgent"}
TICK_PENDING_SECONDS = 10


def _tick_already_pending(urgent: bool) -> bool:
    """True when an early tick is queued and has not started: it will claim these rows too, as
    they were committed before this call. Scheduling 1,000 messages then costs one tick, not
    1,000. If the flag outlives a lost tick message, the beat's tick (every few seconds) and
    the flag's expiry bound the delay."""
    from django.core.cache import cache

    try:
        return not cache.add(TICK_PENDING_KEY[urgent], 1, TICK_PENDING_SECONDS)
    except Exception:  # noqa: BLE001 - no cache: ask anyway
        return False


def _tick_started(urgent: bool) -> None:
    from django.core.cache import cache

    try:
        cache.delete(TICK_PENDING_KEY[urgent])
    except Exception:  # noqa: BLE001 - the flag expires by itself
        logger.warning("Could not clear the pending-tick flag.", exc_info=True)


def enqueue_tick(*, urgent: bool) -> None:
    """Ask for a tick now rather than at the next beat. Losing this message is harmless."""
    if _tick_already_pending(urgent):
        return
    try:
        task_named("campaigns.tick_urgent" if urgent else "campaigns.tick").apply_async(
            queue="urgent" if urgent else settings.ENGAGE_TICK_QUEUE, retry=False)
    except Exception:  # noqa: BLE001 - the broker is down; the beat tick will claim the rows
        _tick_started(urgent)
        logger.warning("Could not enqueue an early tick; the next beat tick will pick the deliveries up.",
                       exc_info=True)
