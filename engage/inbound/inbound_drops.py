"""Inbound items we acknowledge but do not store: counted per channel, reason and day.

A platform may send us things that are not citizens' replies: a bot's message, our own channel
post, a sticker, an MMS without text. We answer 2xx (the platform must not retry them) and do not
store them, but never silently: each one is counted here, and the channel page shows the counts,
the reason and when it was last seen to the team's administrators.

The API is one function::

    from engage.inbound.inbound_drops import record_drop

    record_drop(channel=channel, reason="telegram.bot", detail="message from a bot")

``reason`` is a short stable code, ``<platform>.<why>`` (see :data:`REASONS` for the ones in use
and their sentences; an unknown code is still counted, and shown as the code itself). ``detail``
is a few words for the administrators, never the item's text (it may be personal data). A parser
in ``platforms/<p>/inbound.py`` returns what it ignored as ``Parsed.ignored``; :func:`record_ignored`
records all of them at once.

Counting is one conditional ``UPDATE ... SET count = count + n`` (an ``F()`` expression) on the
(channel, reason, day) row, and an insert when there is none yet; two workers racing on the insert
meet the unique constraint and the loser adds its count to the winner's row. So counts are exact
under concurrency, on SQLite and PostgreSQL. Recording never raises: a failure to count is logged,
and the platform still gets its 2xx.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Max, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from campaigns.models import Channel
from engage.models import InboundDrop
from platforms.inbound import Ignored

logger = logging.getLogger(__name__)

__all__ = ["REASONS", "DropSummary", "drops_for_channels", "reason_label", "record_drop", "record_ignored"]

# Every reason code in use, with the sentence the channel page shows for it (in the desk's language).
REASONS: dict[str, str] = {
    "telegram.not_a_message": gettext_noop(
        "Telegram update that is not a message (a reaction, a button press, a member change)"),
    "telegram.no_text": gettext_noop("Telegram message without text or caption (a sticker, a photo alone)"),
    "telegram.bot": gettext_noop("Telegram message from a bot"),
    "telegram.automatic_forward": gettext_noop(
        "Our channel post as Telegram copied it into the discussion group"),
    "telegram.own_channel": gettext_noop("A post made by our own Telegram channel (staff, not a citizen)"),
    "sms.no_text": gettext_noop("SMS or MMS without text"),
    "mastodon.type_not_handled": gettext_noop("Mastodon notification that is not a mention or a quote"),
    "mastodon.no_status": gettext_noop(
        "Mastodon mention or quote without its post (deleted, or hidden from us)"),
    "mastodon.no_text": gettext_noop("Mastodon mention or quote without text (images only)"),
    "mastodon.unreadable": gettext_noop("Mastodon notification not shaped as Mastodon documents it"),
    "mastodon.too_long": gettext_noop("Mastodon post longer than a reply may be"),
}


def reason_label(reason: str) -> str:
    """The sentence for ``reason``, in the active language (the desk's); an unknown code as it is."""
    return gettext(REASONS[reason]) if reason in REASONS else reason  # noqa: INT001


def record_drop(*, channel: Channel | int, reason: str, detail: str = "", count: int = 1,
                at: datetime | None = None) -> None:
    """Count ``count`` ignored inbound items of ``channel`` for ``reason`` (today, UTC).

    Safe to call from any number of processes at once; never raises (a failure is logged).
    """
    if count <= 0:
        return
    channel_id = channel if isinstance(channel, int) else channel.pk
    now = at or timezone.now()
    day = now.astimezone(UTC).date() if timezone.is_aware(now) else now.date()
    reason, detail = reason[:60], detail[:200]
    rows = InboundDrop.objects.filter(channel_id=channel_id, reason=reason, day=day)
    try:
        with transaction.atomic():
            if rows.update(count=F("count") + count, last_seen_at=now, last_detail=detail):
                return
            try:
                with transaction.atomic():
                    InboundDrop.objects.create(channel_id=channel_id, reason=reason, day=day, count=count,
                                               first_seen_at=now, last_seen_at=now, last_detail=detail)
            except IntegrityError:  # another worker inserted the row first: add to it
                rows.update(count=F("count") + count, last_seen_at=now, last_detail=detail)
    except DatabaseError:
        logger.warning("Could not count an ignored inbound item (%s) on channel %s", reason, channel_id,
                       exc_info=True)


def record_ignored(*, channel: Channel | int, ignored: Iterable[Ignored], at: datetime | None = None) -> int:
    """Record every item a parser ignored (``Parsed.ignored``); returns how many."""
    total = 0
    for item in ignored:
        record_drop(channel=channel, reason=item.reason, detail=item.detail, at=at)
        total += 1
    return total


@dataclass(frozen=True)
class DropSummary:
    channel_id: int
    reason: str
    label: str
    count: int
    first_seen_at: datetime
    last_seen_at: datetime


def drops_for_channels(channel_ids: Iterable[int], *, days: int = 30,
                       today: date | None = None) -> dict[int, list[DropSummary]]:
    """Per channel, the ignored items of the last ``days`` days by reason, most recent first."""
    ids = list(channel_ids)
    if not ids:
        return {}
    since = (today or timezone.now().date()) - timedelta(days=days - 1)
    rows = (InboundDrop.objects.filter(channel_id__in=ids, day__gte=since)
            .values("channel_id", "reason")
            .annotate(total=Sum("count"), first=Min("first_seen_at"), last=Max("last_seen_at"))
            .order_by("channel_id", "-last"))
    result: dict[int, list[DropSummary]] = {}
    for row in rows:
        result.setdefault(row["channel_id"], []).append(DropSummary(
            channel_id=row["channel_id"], reason=row["reason"], label=reason_label(row["reason"]),
            count=row["total"], first_seen_at=row["first"], last_seen_at=row["last"]))
    return result
