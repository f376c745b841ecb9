"""Platform adapters: one module per platform behind one protocol (see ``base``).

``get_adapter(kind, config=..., secrets=...)`` is the only way the rest of the code makes
one, so the delivery service never imports a platform module directly.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import httpx

from platforms.base import (
    Adapter,
    AdapterError,
    AuthExpiredError,
    HealthResult,
    LookupQuery,
    LookupResult,
    MediaItem,
    PartialDeliveryError,
    Payload,
    PermanentError,
    PostStats,
    PublishResult,
    TransientError,
    UnconfirmedError,
)

_REGISTRY: dict[str, str] = {
    "mastodon": "platforms.mastodon.adapter:MastodonAdapter",
    "telegram": "platforms.telegram.adapter:TelegramAdapter",
    "x": "platforms.x.adapter:XAdapter",
    "facebook": "platforms.facebook.adapter:FacebookAdapter",
    "sms": "platforms.sms.adapter:SmsAdapter",
    "email": "platforms.email.adapter:EmailAdapter",
    "webhook": "platforms.webhook.adapter:WebhookAdapter",
    "public": "platforms.public.adapter:PublicAdapter",
}

KINDS: tuple[str, ...] = tuple(_REGISTRY)


def adapter_class(kind: str) -> type:
    try:
        target = _REGISTRY[kind]
    except KeyError:
        raise PermanentError(f"unknown channel kind {kind!r}") from None
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def get_adapter(
    kind: str,
    *,
    config: Mapping[str, Any],
    secrets: Mapping[str, str],
    http: httpx.Client | None = None,
) -> Adapter:
    """An adapter for one channel. Pass ``http`` to share a client (and its pool)."""
    return adapter_class(kind)(config=config, secrets=secrets, http=http)


__all__ = [
    "KINDS",
    "Adapter",
    "AdapterError",
    "AuthExpiredError",
    "HealthResult",
    "LookupQuery",
    "LookupResult",
    "MediaItem",
    "PartialDeliveryError",
    "Payload",
    "PermanentError",
    "PostStats",
    "PublishResult",
    "TransientError",
    "UnconfirmedError",
    "adapter_class",
    "get_adapter",
]
