"""Fault-injection points for the fault-tolerance tests, inert unless switched on.

``ENGAGE_FAILPOINTS="before_send=sleep:30,after_send=sleep:30"`` makes the named points
sleep, so a test can SIGKILL a worker at a known moment. Unset (always, in production), a
failpoint costs one dictionary lookup.
"""

from __future__ import annotations

import os
import time
from functools import lru_cache


@lru_cache(maxsize=1)
def _points(raw: str) -> dict[str, float]:
    points: dict[str, float] = {}
    for item in raw.split(","):
        name, _, action = item.partition("=")
        kind, _, value = action.partition(":")
        if name.strip() and kind == "sleep":
            points[name.strip()] = float(value or 0)
    return points


def failpoint(name: str) -> None:
    raw = os.environ.get("ENGAGE_FAILPOINTS", "")
    if raw:
        delay = _points(raw).get(name)
        if delay:
            time.sleep(delay)
