"""Enqueueing a task, by name, without letting a broker outage slow the request down.

Services never import a tasks module: they call :func:`enqueue_on_commit` (or :func:`enqueue`)
with the task's registered name, e.g. ``enqueue_on_commit("engage.process_reply", reply_id=7)``.
Tasks import services; services name tasks. So no import circle can form between them.

Celery's default publish path retries the connection for several seconds when the broker is
down. For inbound replies that is wasted time: the reply is already committed and the sweeper will
process it anyway. So this sends over a pooled connection that is (re)checked with one quick retry,
and after a failure stops trying for :data:`BACKOFF_SECONDS` in this process (a small circuit
breaker), logging once. The caller never sees an exception.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

BACKOFF_SECONDS = 15.0
_lock = threading.Lock()
_open_until = 0.0


def broker_backoff_reset() -> None:
    global _open_until
    with _lock:
        _open_until = 0.0


def send(task: Any, *, kwargs: dict[str, Any], queue: str | None = None, countdown: float | None = None) -> bool:
    """Enqueue ``task`` with ``kwargs`` (to run ``countdown`` seconds from now, if given); True if
    the broker took it, False otherwise."""
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
            if countdown:
                options["countdown"] = countdown
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


def task_named(name: str) -> Any:
    """The registered Celery task called ``name``; an unknown name is a programming error."""
    from celery import current_app

    tasks = current_app.tasks
    if name not in tasks:
        # A web process has not imported the tasks modules (a worker does at start): import the
        # ones the settings list (CELERY_IMPORTS). Not the loader's import_default_modules(): its
        # Django fix-up runs django.setup() again, which reconfigures logging in a live process.
        for module in current_app.conf.imports or ():
            importlib.import_module(module)
    try:
        return tasks[name]
    except KeyError:
        raise LookupError(f"no Celery task is registered as {name!r}") from None


def enqueue(task_name: str, *, queue: str | None = None, countdown: float | None = None, **kwargs: Any) -> bool:
    """Enqueue the task called ``task_name`` now; True if the broker took it. Never raises for a
    broker outage (see the module's note): the caller's periodic sweep must cover a lost message."""
    return send(task_named(task_name), kwargs=kwargs, queue=queue, countdown=countdown)


def enqueue_on_commit(task_name: str, *, queue: str | None = None, countdown: float | None = None,
                      **kwargs: Any) -> None:
    """Enqueue the task called ``task_name`` once the current transaction commits (at once
    outside one), so that a worker never starts on rows it cannot see yet."""
    task_named(task_name)  # an unknown name fails here, in the caller, not later in a callback

    def _send() -> None:
        if not enqueue(task_name, queue=queue, countdown=countdown, **kwargs):
            logger.info("Task %s %s not enqueued; its periodic sweep picks the work up.", task_name, kwargs)

    transaction.on_commit(_send)
