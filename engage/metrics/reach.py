"""Reach: what we sent, per channel, and what came back.

* **Deliveries** are the campaigns room's rows, one per (variant, channel) of a message, by
  status: sent, failed, withdrawn, unconfirmed, skipped, and still to go (pending or sending).
  In scope: deliveries on the teams' channels, narrowed by event, campaign and segment (the
  message's targets) and channel; the period applies to when it was sent (or due, if not sent).
* **Replies per post**: replies linked to a sent delivery on that channel (through the
  platform's reply-to id), over the deliveries sent. This is the one engagement figure we
  measure ourselves.
* **Views, shares, replies and likes on the platforms** (``views``, ``shares``,
  ``platform_replies``, ``likes``): sums of the figures the platforms gave for the deliveries
  in scope, fetched by ``campaigns.services.stats`` every 15 minutes for 14 days after
  posting. ``None`` means "not given by the platform" (Mastodon counts no views; Telegram, SMS,
  email, partner webhooks and the public pages give no figures) or not fetched yet, never a
  made-up zero; ``posts_measured`` says on how many posts the figures rest, and
  ``stats_given`` which figures the channel's platform gives at all.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext, gettext_noop, ngettext

from accounts.policies import policy_for
from campaigns.models import Channel, Delivery, DeliveryStatus
from engage.metrics.scope import Scope, by_message_and_channel
from engage.metrics.sql import ratio
from engage.models import Reply
from platforms import adapter_class

STATUSES = ("sent", "failed", "withdrawn", "unconfirmed", "skipped", "waiting")
# Figure key in the rows -> Delivery field it sums, and the PostStats name the adapters use.
PLATFORM_FIGURES = {"views": ("stats_views", "views"), "shares": ("stats_shares", "shares"),
                    "platform_replies": ("stats_replies", "replies"), "likes": ("stats_likes", "likes")}
NO_FIGURES_NOTE = gettext_noop("Views, shares, replies and likes come from Mastodon (no views), X and Facebook, "
                               "fetched every 15 minutes for 14 days after posting; Telegram, SMS, email, partner "
                               "webhooks and the public pages do not give them.")


def deliveries_in_scope(scope: Scope) -> QuerySet[Delivery]:
    """Deliveries on the channels of the teams in scope (so no join is needed without other filters)."""
    on_channels = policy_for(Channel).restrict(Delivery.objects.all(), scope.team_ids, via="channel")
    qs = by_message_and_channel(on_channels, scope)
    if scope.since is not None or scope.until is not None:
        qs = qs.annotate(_when=Coalesce("sent_at", "due_at"))
        if scope.since is not None:
            qs = qs.filter(_when__gte=scope.since)
        if scope.until is not None:
            qs = qs.filter(_when__lt=scope.until)
    return qs


def _status_counts() -> dict[str, Count]:
    return {
        "total": Count("pk"),
        "sent": Count("pk", filter=Q(status=DeliveryStatus.SENT)),
        "failed": Count("pk", filter=Q(status=DeliveryStatus.FAILED)),
        "withdrawn": Count("pk", filter=Q(status=DeliveryStatus.WITHDRAWN)),
        "unconfirmed": Count("pk", filter=Q(status=DeliveryStatus.UNCONFIRMED)),
        "skipped": Count("pk", filter=Q(status=DeliveryStatus.SKIPPED)),
        "waiting": Count("pk", filter=Q(status__in=(DeliveryStatus.PENDING, DeliveryStatus.SENDING))),
    }


def _stats_sums() -> dict[str, Any]:
    sums: dict[str, Any] = {key: Sum(field) for key, (field, _name) in PLATFORM_FIGURES.items()}
    sums["posts_measured"] = Count("pk", filter=Q(stats_fetched_at__isnull=False))
    sums["stats_fetched_at"] = Max("stats_fetched_at")
    return sums


def figures_given(kind: str) -> frozenset[str]:
    """Row keys of the figures this kind of channel's platform gives."""
    try:
        given = getattr(adapter_class(kind), "stats_figures", frozenset())
    except Exception:  # noqa: BLE001 - an unknown kind gives nothing
        return frozenset()
    return frozenset(key for key, (_field, name) in PLATFORM_FIGURES.items() if name in given)


def deliveries_by_channel(scope: Scope, replies: QuerySet[Reply]) -> list[dict[str, Any]]:
    """Per channel: deliveries by status, and the replies that came back to them."""
    rows = list(deliveries_in_scope(scope).values("channel_id").annotate(**_status_counts(), **_stats_sums())
                .order_by())
    channels = {c.pk: c for c in Channel.objects.filter(pk__in=[row["channel_id"] for row in rows])}
    for row in rows:
        row["channel__name"] = channels[row["channel_id"]].name
        row["channel__kind"] = channels[row["channel_id"]].kind
    rows.sort(key=lambda row: (row["channel__name"], row["channel_id"]))
    linked = dict(replies.filter(delivery__isnull=False).values("delivery__channel_id")
                  .annotate(n=Count("pk")).order_by().values_list("delivery__channel_id", "n"))
    out = []
    for row in rows:
        replies_linked = linked.get(row["channel_id"], 0)
        out.append({
            "channel_id": row["channel_id"], "channel": row["channel__name"], "kind": row["channel__kind"],
            **{key: row[key] for key in ("total", *STATUSES)},
            "success_rate": ratio(row["sent"], row["sent"] + row["failed"] + row["unconfirmed"]),
            "replies": replies_linked,
            "replies_per_post": ratio(replies_linked, row["sent"], 2),
            **_platform_figures(row),
        })
    return out


def _platform_figures(row: dict[str, Any]) -> dict[str, Any]:
    given = figures_given(row["channel__kind"])
    figures: dict[str, Any] = {key: (row[key] if key in given else None) for key in PLATFORM_FIGURES}
    figures.update(posts_measured=row["posts_measured"], stats_fetched_at=row["stats_fetched_at"],
                   stats_given=sorted(given))
    return figures


def _total(rows: list[dict[str, Any]], key: str) -> int | None:
    known = [r[key] for r in rows if r.get(key) is not None]
    return sum(known) if known else None


def platform_stats_note(totals: dict[str, Any]) -> str:
    """One sentence for the dashboard and the report: the platform figures, or why there are none."""
    """In the active language: the desk's on the dashboard, English in the after-action report and the API."""
    note = gettext(NO_FIGURES_NOTE)  # noqa: INT001
    if not totals["posts_measured"]:
        return gettext("No figures from the platforms yet.") + " " + note
    words = {"views": gettext("%(count)s views"), "shares": gettext("%(count)s shares"),
             "platform_replies": gettext("%(count)s replies"), "likes": gettext("%(count)s likes")}
    parts = [words[key] % {"count": f"{totals[key]:,}"} for key in words if totals[key] is not None]
    listed = (gettext("%(list)s and %(last)s") % {"list": ", ".join(parts[:-1]), "last": parts[-1]}
              if len(parts) > 1 else "".join(parts))
    posts = totals["posts_measured"]
    return ngettext("On the platforms, %(posts)s post measured: %(figures)s.",
                    "On the platforms, %(posts)s posts measured: %(figures)s.", posts) % {
        "posts": f"{posts:,}", "figures": listed or gettext("no figures given")} + " " + note


def delivery_totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    totals: dict[str, Any] = {key: sum(r[key] for r in rows) for key in ("total", *STATUSES, "replies")}
    totals["success_rate"] = ratio(totals["sent"], totals["sent"] + totals["failed"] + totals["unconfirmed"])
    for key in PLATFORM_FIGURES:
        totals[key] = _total(rows, key)
    totals["posts_measured"] = sum(r.get("posts_measured", 0) for r in rows)
    totals["platform_stats_available"] = totals["posts_measured"] > 0
    totals["platform_stats_note"] = platform_stats_note(totals)
    return totals
