"""Writing what must not be lost when the database drops the connection.

After a platform call the worker knows something only it knows: the post went out (with the
platform's id), or it did not. If the database drops the connection at that moment (a restart, a
failover, an administrator's ``pg_terminate_backend``, a proxy cutting idle clients) the write
fails, the task ends with an error, and the row stays in flight until the reaper makes it
*unconfirmed*, for a person to check by hand, although we knew the answer.

:func:`with_reconnect` runs such a write again on a fresh connection: it closes the broken one
and retries, a few times with a short backoff (about ten seconds in all, far less than the task's
time limit), and never anything else than the write itself (the platform is never called again). The steps
before a platform call are run the same way: nothing has left us yet, and their writes are
conditional on the claim.
The write must be safe to run twice: a conditional update, which finds nothing the second time
if the first one committed before the connection went. Where the caller can tell that the first
attempt did commit (it wrote a value it knows, such as a timestamp), ``committed`` says so and its
answer is returned instead of running the write again.

Only outside a transaction: inside one, the work before the write is lost with the connection and
cannot be redone here, so the error goes to the caller as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

logger = logging.getLogger(__name__)

T = TypeVar("T")

DELAYS: Sequence[float] = (0.05, 0.2, 0.5, 1.0, 2.0, 3.0, 4.0)  # ~11 s: a restart or a failover

LOST = (InterfaceError, OperationalError)  # psycopg's AdminShutdown, "server closed the connection", ...


def _drop(alias: str) -> None:
    conn = connections[alias]
    try:
        conn.close()
    except Exception:  # noqa: BLE001 - a broken connection may fail to close; it is discarded anyway
        conn.connection = None


def with_reconnect(write: Callable[[], T], *, what: str, committed: Callable[[], T | None] | None = None,
                   delays: Sequence[float] = DELAYS, using: str = DEFAULT_DB_ALIAS) -> T:
    """``write()``, run again on a new connection while the database connection is lost (see the
    module's note). ``committed()``, if given, is asked first after a failure, on the new
    connection: a result other than None means the failed attempt had committed, and is returned.
    The last error is raised when every attempt failed."""
    for attempt, delay in enumerate((*delays, None)):
        try:
            if attempt and committed is not None:
                found = committed()
                if found is not None:
                    logger.warning("The database connection was lost while %s, after the write committed: "
                                   "nothing to do again.", what)
                    return found
            result = write()
        except LOST:
            if connections[using].in_atomic_block or delay is None:
                raise
            logger.warning("The database connection was lost while %s; reconnecting (attempt %d).",
                           what, attempt + 1, exc_info=attempt == 0)
            _drop(using)
            time.sleep(delay)
            continue
        if attempt:
            logger.warning("Done: %s, after reconnecting to the database.", what)
        return result
    raise AssertionError("unreachable")  # pragma: no cover - the last attempt returns or raises
