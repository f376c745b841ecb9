"""Platform statistics of our posts: views, shares, replies and likes, where the platform gives them.

The periodic ``campaigns.fetch_stats`` task (every 15 minutes) asks the platforms for the
figures of deliveries sent in the last ``ENGAGE_STATS_DAYS`` days (14) and stores them on the
delivery (``stats_views``, ``stats_shares``, ``stats_replies``, ``stats_likes``,
``stats_fetched_at``). What each platform gives:

==========  =====  ===============  =======  ===========
platform    views  shares           replies  likes
==========  =====  ===============  =======  ===========
Mastodon    no     boosts           yes      favourites
X           yes    reposts+quotes   yes      likes
Facebook    yes*   shares           yes      reactions
==========  =====  ===============  =======  ===========

(*) Facebook views come from Page insights and need the ``read_insights`` permission.
Telegram's Bot API, SMS, email, partner webhooks and the public pages give none: their
deliveries are never asked, and their figures stay None ("not given by the platform").

Limits: at most ``ENGAGE_STATS_MAX_POSTS`` posts a run (500), the ones fetched longest ago
first; a post is not asked again within ``ENGAGE_STATS_MIN_MINUTES`` (15) of its last fetch. A
rate limit (429, or Graph's rate-limit codes) or any other error stops that channel for this
run, and a ``Retry-After`` keeps it out of later runs until that time has passed; the other
channels carry on. A post the platform no longer has keeps the figures it had.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import F, Q
from django.utils import timezone

from campaigns.models import Channel, ChannelHealth, Delivery, DeliveryStatus
from campaigns.publishing.send import adapter_for
from platforms import KINDS, adapter_class
from platforms.base import AdapterError, TransientError

logger = logging.getLogger(__name__)

SLACK = timedelta(seconds=60)  # a run that starts a little early still refetches what the last run fetched


def stats_kinds() -> tuple[str, ...]:
    """Channel kinds whose platform gives post statistics."""
    return tuple(kind for kind in KINDS if getattr(adapter_class(kind), "supports_stats", False))


def _backoff_key(channel_id: int) -> str:
    return f"campaigns:stats:backoff:{channel_id}"


def deliveries_due_for_stats(*, now: datetime, days: int, min_minutes: int, limit: int) -> list[tuple[int, int, str]]:
    """(delivery id, channel id, external id) of sent posts whose figures are due, oldest fetch first."""
    stale = now - timedelta(minutes=min_minutes) + SLACK
    return list(
        Delivery.objects.filter(
            status=DeliveryStatus.SENT, sent_at__gte=now - timedelta(days=days),
            channel__is_active=True, channel__kind__in=stats_kinds())
        .exclude(external_id="")
        .exclude(channel__health=ChannelHealth.AUTH_EXPIRED)
        .filter(Q(stats_fetched_at__isnull=True) | Q(stats_fetched_at__lte=stale))
        .order_by(F("stats_fetched_at").asc(nulls_first=True), "-sent_at", "pk")
        .values_list("pk", "channel_id", "external_id")[:limit])


def deliveries_fetch_stats(*, now: datetime | None = None) -> dict[str, int]:
    """Fetch and store the figures of the posts that are due. Returns what happened, in counts."""
    now = now or timezone.now()
    due = deliveries_due_for_stats(
        now=now, days=settings.ENGAGE_STATS_DAYS, min_minutes=settings.ENGAGE_STATS_MIN_MINUTES,
        limit=settings.ENGAGE_STATS_MAX_POSTS)
    by_channel: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for delivery_id, channel_id, external_id in due:
        by_channel[channel_id].append((delivery_id, external_id))
    counts = {"posts": 0, "gone": 0, "channels": 0, "rate_limited": 0, "errors": 0, "backing_off": 0}
    channels = Channel.objects.in_bulk(list(by_channel))
    for channel_id, posts in by_channel.items():
        if cache.get(_backoff_key(channel_id)):
            counts["backing_off"] += 1
            continue
        counts["channels"] += 1
        try:
            _fetch_channel(channels[channel_id], posts, now=now, counts=counts)
        except Exception:  # noqa: BLE001 - one channel's surprise must not cost the others their figures
            counts["errors"] += 1
            logger.exception("Fetching post statistics failed for channel %s", channel_id)
    logger.info("post statistics: %s", counts)
    return counts


def _fetch_channel(channel: Channel, posts: list[tuple[int, str]], *, now: datetime, counts: dict[str, int]) -> None:
    try:
        adapter = adapter_for(channel)
    except AdapterError as exc:
        counts["errors"] += 1
        logger.warning("No post statistics for channel %s: %s", channel.pk, exc.detail)
        return
    size = max(1, int(getattr(adapter, "stats_batch_size", 1)))
    for start in range(0, len(posts), size):
        batch = posts[start:start + size]
        try:
            found = adapter.stats_many([external_id for _pk, external_id in batch])
        except TransientError as exc:
            if exc.http_status == 429 or exc.retry_after is not None:
                counts["rate_limited"] += 1
            else:
                counts["errors"] += 1
            if exc.retry_after:
                cache.set(_backoff_key(channel.pk), True, timeout=max(1, math.ceil(exc.retry_after)))
            logger.warning("Post statistics for channel %s stop for this run: %s", channel.pk, exc.detail)
            return
        except AdapterError as exc:
            counts["errors"] += 1
            logger.warning("Post statistics for channel %s stop for this run: %s", channel.pk, exc.detail)
            return
        measured, gone = [], []
        for delivery_id, external_id in batch:
            figures = found.get(external_id)
            if figures is None:  # a post the platform no longer has keeps the figures it had
                gone.append(delivery_id)
                continue
            measured.append(Delivery(pk=delivery_id, stats_views=figures.views, stats_shares=figures.shares,
                                     stats_replies=figures.replies, stats_likes=figures.likes, stats_fetched_at=now))
        # One statement per batch for the figures, one for the posts that are gone (not one per post).
        Delivery.objects.bulk_update(measured, [*STATS_FIELDS, "stats_fetched_at"])
        Delivery.objects.filter(pk__in=gone).update(stats_fetched_at=now)
        counts["posts"] += len(measured)
        counts["gone"] += len(gone)


STATS_FIELDS = ("stats_views", "stats_shares", "stats_replies", "stats_likes")
