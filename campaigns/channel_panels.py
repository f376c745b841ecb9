"""Sections that higher floors add to the channel page, per channel.

The channel page (``campaigns/views/admin_pages.py``, ``templates/campaigns/channels.html``)
belongs to this app, but some of what it shows belongs to a floor above: how a channel's inbound
side is doing (the webhook URL to give each platform, the last item received, what was ignored)
is ``engage``'s. Rather than import upwards, ``engage`` registers a provider when it starts
(``EngageConfig.ready``)::

    register(provider)

A provider is called as ``provider(user=..., channels=[...], request=...)`` and returns a
``{channel_id: {"template": "<template>", ...context}}`` mapping; the page includes each template
under its channel with the context as ``panel``. Providers decide who sees what.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Provider = Callable[..., dict[int, dict[str, Any]]]
_providers: list[Provider] = []


def register(provider: Provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def panels_for(*, user: Any, channels: Iterable[Any], request: Any) -> dict[int, list[dict[str, Any]]]:
    """Every provider's panels, per channel id."""
    listed = list(channels)
    result: dict[int, list[dict[str, Any]]] = {}
    for provider in _providers:
        for channel_id, panel in provider(user=user, channels=listed, request=request).items():
            result.setdefault(channel_id, []).append(panel)
    return result
