"""Fixed-window counters per client address, in the shared cache (the public form, feedback votes,
the cap on recorded webhook refusals).

The address is hashed before it becomes a cache key, and nothing else about the visitor is kept.

While the shared cache (Redis) is unreachable the counting goes on in :data:`FALLBACK`, a small
counter of this process's own, instead of answering 500 or letting everyone through: each worker
process then enforces the same limits on what it sees itself (so a client may get up to the limit
once per worker), and the log says so at most once a minute (docs/security.md, "Rate limits").
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest
from django.utils import timezone

from core.client_ip import client_ip

logger = logging.getLogger(__name__)

# Per process; bounded (the oldest third is dropped when full, which only forgets some counts).
FALLBACK = LocMemCache("engage-ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000, "CULL_FREQUENCY": 3}})

_logged: dict[str, float] = {}
_logged_lock = threading.Lock()


def cache_unavailable(what: str) -> None:
    """Say in the log, at most once a minute for each ``what``, that the shared cache is unreachable
    and ``what`` is counted per process meanwhile."""
    now = time.monotonic()
    with _logged_lock:
        if now - _logged.get(what, -1e9) < 60:
            return
        _logged[what] = now
    logger.warning("The cache is unavailable: %s counted by each worker process on its own meanwhile.", what,
                   exc_info=True)


def over_limit(request: HttpRequest, *, prefix: str, limits: Iterable[tuple[int, int, str]]) -> bool:
    """Count this request against each ``(window seconds, allowed, name)`` limit; True when any is passed.

    The client is :func:`core.client_ip.client_ip` (``X-Forwarded-For`` only from a trusted proxy).
    """
    return count_over_limit(ident=client_ip(request) or "unknown", prefix=prefix, limits=limits)


def count_over_limit(*, ident: str, prefix: str, limits: Iterable[tuple[int, int, str]]) -> bool:
    """Count one event for ``ident`` (hashed before use) against each limit; True when any is passed.
    In :data:`FALLBACK` while the shared cache is unreachable (the module's note)."""
    limits = list(limits)
    try:
        return _count(cache, ident=ident, prefix=prefix, limits=limits)
    except Exception:  # noqa: BLE001 - the cache (Redis) is down: count in this process, never a 500
        cache_unavailable(f"rate limits ({prefix})")
        return _count(FALLBACK, ident=ident, prefix=prefix, limits=limits)


def _count(store: Any, *, ident: str, prefix: str, limits: list[tuple[int, int, str]]) -> bool:
    hashed = hashlib.sha256(ident.encode()).hexdigest()[:24]
    now = int(timezone.now().timestamp())
    limited = False
    for window, limit, name in limits:
        key = f"engage:{prefix}:{name}:{hashed}:{now // window}"
        if store.add(key, 1, timeout=window + 5):
            count = 1
        else:
            try:
                count = store.incr(key)
            except ValueError:  # expired between add and incr
                store.set(key, 1, timeout=window + 5)
                count = 1
        limited = limited or count > limit
    return limited
