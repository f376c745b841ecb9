"""DRF throttles keyed on the real client address (:func:`core.client_ip.client_ip`).

DRF's own ``get_ident`` believes ``X-Forwarded-For`` (or, with ``NUM_PROXIES = 0``, only
``REMOTE_ADDR``, which behind a reverse proxy is the proxy for everyone). These use the one
trusted-proxy rule of ``ENGAGE_TRUSTED_PROXIES`` instead.

While the shared cache (Redis) is unreachable they count in this process's own
:data:`core.ratelimit.FALLBACK` rather than answering 500 (as :mod:`core.ratelimit` does).
"""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import ScopedRateThrottle

from core.client_ip import client_ip
from core.ratelimit import FALLBACK, cache_unavailable


class ClientAddressMixin:
    def get_ident(self, request: Any) -> str:
        return client_ip(request) or "unknown"


class ScopedClientRateThrottle(ClientAddressMixin, ScopedRateThrottle):
    """``ScopedRateThrottle`` (the view's ``throttle_scope``) per client address."""

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:  # noqa: BLE001 - the cache (Redis) is down: count in this process, never a 500
            cache_unavailable(f"API throttles ({getattr(view, 'throttle_scope', '')})")
            self.cache = FALLBACK
            return super().allow_request(request, view)
