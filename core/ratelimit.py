"""Fixed-window counters per client address, in the shared cache (the public form, feedback votes).

The address is hashed before it becomes a cache key, and nothing else about the visitor is kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from core.client_ip import client_ip


def over_limit(request: HttpRequest, *, prefix: str, limits: Iterable[tuple[int, int, str]]) -> bool:
    """Count this request against each ``(window seconds, allowed, name)`` limit; True when any is passed.

    The client is :func:`core.client_ip.client_ip` (``X-Forwarded-For`` only from a trusted proxy).
    """
    return count_over_limit(ident=client_ip(request) or "unknown", prefix=prefix, limits=limits)


def count_over_limit(*, ident: str, prefix: str, limits: Iterable[tuple[int, int, str]]) -> bool:
    """Count one event for ``ident`` (hashed before use) against each limit; True when any is passed."""
    hashed = hashlib.sha256(ident.encode()).hexdigest()[:24]
    now = int(timezone.now().timestamp())
    limited = False
    for window, limit, name in limits:
        key = f"engage:{prefix}:{name}:{hashed}:{now // window}"
        if cache.add(key, 1, timeout=window + 5):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=window + 5)
                count = 1
        limited = limited or count > limit
    return limited
