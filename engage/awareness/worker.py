"""The awareness worker, run by beat every minute (task ``awareness.run``).

On every run, for every approved watch: a watch whose window has ended is stopped (it never reads
again); a watch that is not approved, has no purpose, is outside its window or breaks a limit
(:meth:`~engage.awareness.models.Watch.runs_at`) is not read; the others are read (each Mastodon
instance's hashtag timeline and each feed, from its cursor), unless a source asked us to wait
(``Retry-After``). What was read goes through :func:`~engage.awareness.processing.posts_process`
and the spike checks. Then every post text past its retention is deleted, whatever its watch's state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.utils import timezone

from engage.awareness import services, spikes
from engage.awareness.models import Signal, Watch, WatchStatus
from engage.awareness.processing import posts_process
from platforms.signals import PublicPost, SourceFailed, SourceResult
from platforms.signals.feeds import read_feed
from platforms.signals.mastodon_tag import read_tag_timeline

logger = logging.getLogger(__name__)

Reader = Callable[[str, str], SourceResult]  # (source key, cursor) -> result


def _read(key: str, cursor: str) -> SourceResult:
    kind, _, rest = key.partition(":")
    if kind == "mastodon":
        instance, _, tag = rest.rpartition("#")
        return read_tag_timeline(instance=instance, hashtag=tag, since_id=cursor)
    return read_feed(url=rest, since=cursor)


def sources(watch: Watch) -> list[str]:
    keys = [f"mastodon:{instance}#{tag}" for instance in watch.instances for tag in watch.hashtags]
    return keys + [f"feed:{url}" for url in watch.feed_urls]


def watch_run(watch: Watch, *, now: datetime, reader: Reader = _read) -> dict[str, int]:
    """Read every source of one running watch once and process what came."""
    posts: list[PublicPost] = []
    cursors = dict(watch.cursors)
    waits: list[float] = []
    errors: list[str] = []
    for key in sources(watch):
        try:
            result = reader(key, cursors.get(key, ""))
        except SourceFailed as exc:
            errors.append(f"{key.split(':')[0]}: {exc}"[:150])
            if exc.retry_after:
                waits.append(exc.retry_after)
            continue
        posts.extend(result.posts)
        cursors[key] = result.cursor
        if result.retry_after:
            waits.append(result.retry_after)
    outcome = posts_process(watch=watch, posts=posts, now=now)
    spikes.volume_spike(watch, now)
    spikes.danger_spikes(watch, outcome.danger, now)
    watch.cursors, watch.last_run_at = cursors, now
    watch.next_run_at = now + timedelta(seconds=max(waits)) if waits else None
    watch.last_error = "; ".join(errors)[:300]
    watch.save(update_fields=["cursors", "last_run_at", "next_run_at", "last_error"])
    return {"read": len(posts), "counted": outcome.counted, "stored": outcome.stored}


def signals_purge(*, now: datetime) -> int:
    """Delete every post text past its retention: only the aggregates remain."""
    deleted, _ = Signal.objects.filter(delete_after__lte=now).delete()
    return deleted


def watches_run(*, now: datetime | None = None, reader: Reader = _read) -> dict[str, int]:
    now = now or timezone.now()
    summary = {"ran": 0, "ended": 0, "skipped": 0, "read": 0, "purged": 0}
    for watch in Watch.objects.filter(status=WatchStatus.APPROVED).select_related("event"):
        if now >= watch.window_end:
            services.watch_stop(actor=None, watch_id=watch.pk, reason="window ended")
            summary["ended"] += 1
            continue
        if not watch.runs_at(now) or (watch.next_run_at and watch.next_run_at > now):
            summary["skipped"] += 1
            continue
        try:
            summary["read"] += watch_run(watch, now=now, reader=reader)["read"]
            summary["ran"] += 1
        except Exception:  # noqa: BLE001 - one watch's failure must not stop the others
            logger.exception("Awareness watch %s failed", watch.pk)
    summary["purged"] = signals_purge(now=now)
    return summary
