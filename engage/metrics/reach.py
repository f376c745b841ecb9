"""Reach: what we sent, per channel, and what came back.

* **Deliveries** are the campaigns room's rows, one per (variant, channel) of a message, by
  status: sent, failed, withdrawn, unconfirmed, skipped, and still to go (pending or sending).
  In scope: deliveries on the teams' channels, narrowed by event, campaign and segment (the
  message's targets) and channel; the period applies to when it was sent (or due, if not sent).
* **Replies per post**: replies linked to a sent delivery on that channel (through the
  platform's reply-to id), over the deliveries sent. This is the one engagement figure we
  measure ourselves.
* **Views and shares per post** are not available: no adapter fetches platform statistics yet
  (:data:`PLATFORM_STATS_AVAILABLE`), and the figures say so rather than show zeros.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce

from campaigns.models import Channel, Delivery, DeliveryStatus
from engage.metrics.scope import Scope, by_message_and_channel
from engage.metrics.sql import ratio
from engage.models import Reply

PLATFORM_STATS_AVAILABLE = False
PLATFORM_STATS_NOTE = ("Views, shares and likes per post are not shown: Engage's platform adapters do not "
                       "fetch platform statistics yet.")
STATUSES = ("sent", "failed", "withdrawn", "unconfirmed", "skipped", "waiting")


def deliveries_in_scope(scope: Scope) -> QuerySet[Delivery]:
    """Deliveries on the channels of the teams in scope (so no join is needed without other filters)."""
    qs = by_message_and_channel(Delivery.objects.filter(channel__team_id__in=scope.team_ids), scope)
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


def deliveries_by_channel(scope: Scope, replies: QuerySet[Reply]) -> list[dict[str, Any]]:
    """Per channel: deliveries by status, and the replies that came back to them."""
    rows = list(deliveries_in_scope(scope).values("channel_id").annotate(**_status_counts()).order_by())
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
            "views": None, "shares": None,
        })
    return out


def delivery_totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    totals = {key: sum(r[key] for r in rows) for key in ("total", *STATUSES, "replies")}
    totals["success_rate"] = ratio(totals["sent"], totals["sent"] + totals["failed"] + totals["unconfirmed"])
    totals["platform_stats_available"] = PLATFORM_STATS_AVAILABLE
    totals["platform_stats_note"] = PLATFORM_STATS_NOTE
    return totals
