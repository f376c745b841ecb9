"""The platform's own news pages and feeds (Atom, CAP) as a channel.

Publishing there is not an HTTP call: the message becomes public when the delivery service
records this variant as published, and the news pages and feeds read that record. Adapters
do not write to the database, so this adapter only computes what the result is:
``external_id`` is the idempotency key (one per variant and channel), ``external_url`` is
``<site_url>/news/<message_id>/`` with ``message_id`` from ``payload.metadata``.

It is idempotent by construction (``honours_idempotency_key``). ``withdraw`` is a no-op
here: the service hides a withdrawn message from the pages and feeds when it records the
withdrawal. ``check`` is always ok.

Config: ``site_url`` (default ``settings.ENGAGE_SITE_URL``).
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings

from platforms.base import HealthResult, Payload, PermanentError, PublishResult
from platforms.common import AdapterBase


class PublicAdapter(AdapterBase):
    kind = "public"
    supports_withdraw = True
    honours_idempotency_key = True
    can_lookup = False

    @property
    def _site_url(self) -> str:
        return str(self.config.get("site_url") or getattr(settings, "ENGAGE_SITE_URL", "")).rstrip("/")

    def publish(self, payload: Payload, *, idempotency_key: str) -> PublishResult:
        message_id = str(payload.metadata.get("message_id", "")).strip()
        if not message_id:
            raise PermanentError("public: payload.metadata has no message_id")
        return PublishResult(
            external_id=idempotency_key,
            external_url=f"{self._site_url}/news/{quote(message_id, safe='')}/",
            detail="recorded as public; the news pages and feeds show it once the delivery is saved",
        )

    def withdraw(self, external_id: str) -> None:
        """Nothing to do here: the service hides the message when it records the withdrawal."""

    def check(self) -> HealthResult:
        return HealthResult(state="ok", detail="the platform's own pages")
