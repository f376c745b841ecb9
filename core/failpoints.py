"""Fault-injection points for the fault-tolerance tests, inert unless switched on.

``ENGAGE_FAILPOINTS="before_send=sleep:30,after_send=sleep:30"`` makes the named points
sleep, so a test can SIGKILL a worker at a known moment. In the test's own process,
:func:`failpoint_hook` runs a function at a point instead (e.g. to drop the database connection
exactly there). Unset (always, in production), a failpoint costs one dictionary lookup.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

_hooks: dict[str, Callable[[], None]] = {}


@lru_cache(maxsize=1)
def _points(raw: str) -> dict[str, float]:
    points: dict[str, float] = {}
    for item in raw.split(","):
        name, _, action = item.partition("=")
        kind, _, value = action.partition(":")
        if name.strip() and kind == "sleep":
            points[name.strip()] = float(value or 0)
    return points


@contextmanager
def failpoint_hook(name: str, action: Callable[[], None]) -> Iterator[None]:
    """For tests, in their own process: ``action()`` runs each time the point is reached, meanwhile."""
    _hooks[name] = action
    try:
        yield
    finally:
        _hooks.pop(name, None)


def failpoint(name: str) -> None:
    if _hooks and (hook := _hooks.get(name)):
        hook()
    raw = os.environ.get("ENGAGE_FAILPOINTS", "")
    if raw:
        delay = _points(raw).get(name)
        if delay:
            time.sleep(delay)
