"""The channel page's inbound section, for the team's administrators.

Per channel that takes replies: the exact URL to give the platform (and how), when the last item
arrived, and what was ignored and why (``engage.inbound.inbound_drops``). Registered on the
channel page by ``EngageConfig.ready`` (``campaigns.channel_panels``). Reads only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Max
from django.urls import reverse

from accounts.policies import policy_for
from campaigns.models import Channel, ChannelKind
from engage.inbound.inbound_drops import drops_for_channels
from engage.models import InboundCursor, Reply
from platforms.telegram.inbound import TELEGRAM_MESSAGE_KEYS

TEMPLATE = "engage/_channel_inbound.html"
# What our Telegram parser reads: the allowed_updates to set.
TELEGRAM_ALLOWED_UPDATES = json.dumps(list(TELEGRAM_MESSAGE_KEYS), separators=(",", ":"))
WEBHOOK_KINDS = (ChannelKind.TELEGRAM, ChannelKind.SMS, ChannelKind.WEBHOOK)
INBOUND_KINDS = (*WEBHOOK_KINDS, ChannelKind.MASTODON)


@dataclass(frozen=True)
class WebhookSetup:
    url: str  # the exact URL to give the platform
    where: str  # where it goes, in the platform's words
    configured: bool = True  # SMS: whether config inbound_url pins it (signatures are checked against it)
    computed_url: str = ""  # SMS: the URL as this server would see it without inbound_url


def site_base(request: Any) -> str:
    """``ENGAGE_SITE_URL`` (what platforms reach us at), else this request's scheme and host."""
    return settings.ENGAGE_SITE_URL or request.build_absolute_uri("/").rstrip("/")


def inbound_webhook_url(channel: Channel, request: Any) -> str:
    return site_base(request) + reverse("api-inbound", kwargs={"channel_id": str(channel.pk)})


def webhook_setup(channel: Channel, request: Any) -> WebhookSetup | None:
    """What to tell the platform: None for channels that take no webhook."""
    url = inbound_webhook_url(channel, request)
    if channel.kind == ChannelKind.TELEGRAM:
        return WebhookSetup(url=url, where="setWebhook")
    if channel.kind == ChannelKind.SMS:
        pinned = str((channel.config or {}).get("inbound_url") or "")
        return WebhookSetup(url=pinned or url, where="Twilio", configured=bool(pinned), computed_url=url)
    if channel.kind == ChannelKind.WEBHOOK:
        return WebhookSetup(url=url, where="partner")
    return None


def inbound_panels(*, user: Any, channels: list[Channel], request: Any) -> dict[int, dict[str, Any]]:
    """``{channel_id: panel}`` for the channels that take replies, of teams ``user`` administers."""
    shown = [c for c in channels if c.kind in INBOUND_KINDS and policy_for(Channel).may(user, "administer", c)]
    if not shown:
        return {}
    ids = [c.pk for c in shown]
    last = dict(Reply.objects.filter(channel_id__in=ids).values("channel_id").annotate(at=Max("created_at"))
                .values_list("channel_id", "at"))
    polls = {c.channel_id: c for c in InboundCursor.objects.filter(channel_id__in=ids)}
    drops = drops_for_channels(ids)

    def last_seen(channel_id: int) -> Any:
        """The last item of any kind: a stored reply or one left out."""
        times = [t for t in (last.get(channel_id), *(d.last_seen_at for d in drops.get(channel_id, []))) if t]
        return max(times) if times else None

    return {
        c.pk: {
            "template": TEMPLATE,
            "channel": c,
            "setup": webhook_setup(c, request),
            "telegram_allowed_updates": TELEGRAM_ALLOWED_UPDATES,
            "last_received_at": last.get(c.pk),
            "last_seen_at": last_seen(c.pk),
            "poll": polls.get(c.pk),
            "drops": drops.get(c.pk, []),
            "dropped_total": sum(d.count for d in drops.get(c.pk, [])),
        }
        for c in shown
    }
