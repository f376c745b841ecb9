"""The Celery app: one queue for routine work, one for urgent work, exactly one beat.

Database connections in workers follow the same rule as in web requests: Django's
``close_old_connections`` runs before and after each task, so a connection lives for
``CONN_MAX_AGE`` (60 s on PostgreSQL, none on SQLite), and one left broken or inside a
transaction by a task is closed. Celery's own Django fix-up would instead close every
connection around every task (``CELERY_DB_REUSE_MAX`` unset): a new PostgreSQL connection per
delivery, a third of a send's time in the publishing burst.

Django's health check (``CONN_HEALTH_CHECKS``, a ``SELECT 1`` before the first query of each
task) is skipped for a connection that finished the previous task cleanly less than
``RECHECK_SECONDS`` ago: back-to-back deliveries do not pay a round trip each to learn that
the connection they just used still works. A connection idle for longer is checked as usual.
"""

import logging
import os
import time

from celery import Celery
from celery.signals import beat_init, celeryd_after_setup, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engage.settings")

logger = logging.getLogger(__name__)
app = Celery("engage")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The tasks modules are listed in settings (CELERY_IMPORTS): a worker imports them at start, and
# core.queue imports them in a web process the first time it enqueues a task by name.

RECHECK_SECONDS = 5.0
_finished_cleanly: dict[str, float] = {}  # connection alias -> when a task last left it usable


def _eager(sender) -> bool:
    return bool(getattr(getattr(sender, "request", None), "is_eager", False))


@task_prerun.connect
def _before_task(sender=None, **kwargs) -> None:
    if _eager(sender):
        return  # run in the caller's process and transaction (tests, eager mode)
    from django.db import close_old_connections, connections

    close_old_connections()
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and now - _finished_cleanly.get(conn.alias, -RECHECK_SECONDS) < RECHECK_SECONDS:
            conn.health_check_done = True


@task_postrun.connect
def _after_task(sender=None, **kwargs) -> None:
    if _eager(sender):
        return
    from django.db import close_old_connections, connections

    close_old_connections()  # closes a connection that is broken, mid-transaction or past its age
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and not conn.errors_occurred and conn.get_autocommit():
            _finished_cleanly[conn.alias] = now
        else:
            _finished_cleanly.pop(conn.alias, None)


STARTUP_CHECK_DELAY = 5.0  # seconds: let the workers (and, in the demo, the sandbox) come up first


@beat_init.connect
def _check_channels_at_start(sender=None, **kwargs) -> None:
    """Check every channel's health when the platform starts (exactly one beat runs), not only
    30 minutes later at the periodic task's first turn."""
    app.send_task("campaigns.check_channels", countdown=STARTUP_CHECK_DELAY)


def missing_tick_queue(consumed: set[str], tick_queue: str) -> bool:
    """A worker that does routine work (``default``) but not the ticks: if no other worker
    consumes ``ticks``, nothing claims the routine deliveries (an upgrade from ``-Q urgent,default``)."""
    return "default" in consumed and tick_queue not in consumed


@celeryd_after_setup.connect
def _warn_without_tick_queue(sender=None, instance=None, **kwargs) -> None:
    from django.conf import settings

    consumed = set(getattr(getattr(instance, "app", app).amqp.queues, "consume_from", None) or ())
    if missing_tick_queue(consumed, settings.ENGAGE_TICK_QUEUE):
        logger.warning("This worker consumes %s but not %r: routine deliveries are claimed only if another worker "
                       "consumes it (start workers with -Q %s).", ",".join(sorted(consumed)),
                       settings.ENGAGE_TICK_QUEUE, settings.ENGAGE_WORKER_QUEUES)
