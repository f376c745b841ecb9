"""Enqueueing a task without letting a broker outage slow the request down.

Celery's default publish path retries the connection for several seconds when the broker is
down. For inbound replies that is wasted time: the reply is already committed and the sweeper will
process it anyway. So this sends over a pooled connection that is (re)checked with one quick retry,
and after a failure stops trying for :data:`BACKOFF_SECONDS` in this process (a small circuit
breaker), logging once. The caller never sees an exception.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

logger = logging.getLogger(__name__)

BACKOFF_SECONDS = 15.0
_lock = threading.Lock()
_open_until = 0.0


def broker_backoff_reset() -> None:
    global _open_until
    with _lock:
        _open_until = 0.0


def send(task: Any, *, kwargs: dict[str, Any], queue: str | None = None) -> bool:
    """Enqueue ``task`` with ``kwargs``; True if the broker took it, False otherwise."""
    global _open_until
    now = time.monotonic()
    if now < _open_until:
        return False
    try:
        with task.app.pool.acquire(block=True, timeout=1) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, timeout=2)
            options: dict[str, Any] = {"kwargs": kwargs, "retry": False, "connection": connection}
            if queue:
                options["queue"] = queue
            task.apply_async(**options)
        return True
    except Exception:  # noqa: BLE001 - broker down: the sweeper does the work from the database
        with _lock:
            first = _open_until <= now
            _open_until = time.monotonic() + BACKOFF_SECONDS
        if first:
            logger.warning("The broker is unavailable; not enqueueing for %.0f s (the sweeper works from the "
                           "database meanwhile).", BACKOFF_SECONDS, exc_info=True)
        return False
