"""The publishing tasks: thin, they take ids, load and call one service of the package.

No per-message beat entries: one periodic ``tick`` claims due deliveries and enqueues a
``deliver`` per row (urgent ones on the urgent queue). The task names are fixed strings: the
beat (engage/schedule.py) and the services (``core.queue``) enqueue them by name.
"""

from __future__ import annotations

import logging

from celery import Celery, current_app, shared_task
from django.core.cache import cache

from campaigns.publishing.lifecycle import deliveries_claim_due, deliveries_reap_stale, delivery_unclaim
from campaigns.publishing.reconcile import deliveries_reconcile
from campaigns.publishing.schedule import _tick_started
from campaigns.publishing.send import delivery_send
from campaigns.publishing.withdraw import delivery_take_down, take_downs_outstanding
from core.queue import enqueue

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


# A take-down the reaper enqueued again is not enqueued once more for this long (it may be
# waiting behind a queue of deliveries); after that, a post still up is asked for again.
TAKE_DOWN_AGAIN_SECONDS = 600


def take_downs_again() -> int:
    """Enqueue a take-down for each withdrawn message's post still up (``take_downs_outstanding``),
    at most once per ``TAKE_DOWN_AGAIN_SECONDS`` each; how many were enqueued."""
    again = 0
    for delivery_id in take_downs_outstanding():
        if cache.add(f"engage:take-down-again:{delivery_id}", 1, timeout=TAKE_DOWN_AGAIN_SECONDS):
            again += enqueue("campaigns.take_down", delivery_id=delivery_id)
    return again


@shared_task(name="campaigns.reap", ignore_result=True)
def reap() -> dict[str, int]:
    reaped = {**deliveries_reap_stale(), "take_downs": take_downs_again()}
    if reaped.get("unconfirmed"):  # ask the platforms that can answer now, not at the next beat
        # (a lost message costs nothing: the beat's reconcile asks within a minute)
        reaped["reconcile_enqueued"] = int(enqueue("campaigns.reconcile"))
    return reaped


@shared_task(name="campaigns.reconcile", ignore_result=True)
def reconcile() -> dict[str, int]:
    """Ask the platforms that can answer whether unconfirmed deliveries went out (``reconcile``)."""
    return deliveries_reconcile()


@shared_task(name="campaigns.take_down", ignore_result=True, acks_late=True)
def take_down(*, delivery_id: int) -> None:
    delivery_take_down(delivery_id=delivery_id)
