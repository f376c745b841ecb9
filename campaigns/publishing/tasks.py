"""The publishing tasks: thin, they take ids, load and call one service of the package.

No per-message beat entries: one periodic ``tick`` claims due deliveries and enqueues a
``deliver`` per row (urgent ones on the urgent queue). The task names are fixed strings: the
beat (engage/schedule.py) and the services (``core.queue``) enqueue them by name.
"""

from __future__ import annotations

import logging

from celery import Celery, current_app, shared_task

from campaigns.publishing.lifecycle import deliveries_claim_due, deliveries_reap_stale, delivery_unclaim
from campaigns.publishing.reconcile import deliveries_reconcile
from campaigns.publishing.schedule import _tick_started
from campaigns.publishing.send import delivery_send
from campaigns.publishing.withdraw import delivery_take_down

logger = logging.getLogger(__name__)


def dispatch_claimed(claimed: list[tuple[int, str, bool]], *, app: Celery | None = None) -> int:
    """Enqueue one deliver task per claimed row. A row whose task cannot be enqueued (the broker is
    down) goes straight back to pending, so the next tick retries it: nothing is stuck in sending."""
    sender = app or current_app
    sent = 0
    for delivery_id, token, urgent in claimed:
        try:
            sender.send_task("campaigns.deliver_urgent" if urgent else "campaigns.deliver",
                             kwargs={"delivery_id": delivery_id, "token": token},
                             queue="urgent" if urgent else "default", retry=False)
            sent += 1
        except Exception:  # noqa: BLE001 - broker down: put the row back for the next tick
            logger.warning("Broker unavailable; delivery %s goes back to pending.", delivery_id)
            delivery_unclaim(delivery_id=delivery_id, token=token)
    return sent


@shared_task(name="campaigns.tick", ignore_result=True)
def tick() -> int:
    _tick_started(urgent=False)
    return dispatch_claimed(deliveries_claim_due())


@shared_task(name="campaigns.tick_urgent", ignore_result=True)
def tick_urgent() -> int:
    _tick_started(urgent=True)
    return dispatch_claimed(deliveries_claim_due(urgent_only=True))


@shared_task(name="campaigns.deliver", ignore_result=True, acks_late=True)
def deliver(*, delivery_id: int, token: str) -> str:
    return delivery_send(delivery_id=delivery_id, token=token)


@shared_task(name="campaigns.deliver_urgent", ignore_result=True, acks_late=True)
def deliver_urgent(*, delivery_id: int, token: str) -> str:
    return delivery_send(delivery_id=delivery_id, token=token)


@shared_task(name="campaigns.reap", ignore_result=True)
def reap() -> dict[str, int]:
    reaped = deliveries_reap_stale()
    if reaped.get("unconfirmed"):  # ask the platforms that can answer now, not at the next beat
        try:
            current_app.send_task("campaigns.reconcile", retry=False)
        except Exception:  # noqa: BLE001 - broker down: the beat's reconcile asks within a minute
            logger.warning("Could not enqueue a reconciliation after the reaper.", exc_info=True)
    return reaped


@shared_task(name="campaigns.reconcile", ignore_result=True)
def reconcile() -> dict[str, int]:
    """Ask the platforms that can answer whether unconfirmed deliveries went out (``reconcile``)."""
    return deliveries_reconcile()


@shared_task(name="campaigns.take_down", ignore_result=True, acks_late=True)
def take_down(*, delivery_id: int) -> None:
    delivery_take_down(delivery_id=delivery_id)
