"""Asking for an early tick: scheduling or releasing a delivery asks the tick to run now rather
than at the next beat. One queued tick that has not started covers every request before it."""

from __future__ import annotations

import logging

from core.queue import task_named

logger = logging.getLogger(__name__)


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
            queue="urgent" if urgent else "default", retry=False)
    except Exception:  # noqa: BLE001 - the broker is down; the beat tick will claim the rows
        _tick_started(urgent)
        logger.warning("Could not enqueue an early tick; the next beat tick will pick the deliveries up.",
                       exc_info=True)
