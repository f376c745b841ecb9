"""DRF throttles keyed on the real client address (:func:`core.client_ip.client_ip`).

DRF's own ``get_ident`` believes ``X-Forwarded-For`` (or, with ``NUM_PROXIES = 0``, only
``REMOTE_ADDR``, which behind a reverse proxy is the proxy for everyone). These use the one
trusted-proxy rule of ``ENGAGE_TRUSTED_PROXIES`` instead.
"""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import ScopedRateThrottle

from core.client_ip import client_ip


class ClientAddressMixin:
    def get_ident(self, request: Any) -> str:
        return client_ip(request) or "unknown"


class ScopedClientRateThrottle(ClientAddressMixin, ScopedRateThrottle):
    """``ScopedRateThrottle`` (the view's ``throttle_scope``) per client address."""
