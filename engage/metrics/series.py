"""Time series for charts: one point per hour or day, in the team's time zone, empty buckets
filled in, so a chart's x axis is the calendar and not only the busy hours.

Metrics: ``replies``, ``answered`` (replies needing an answer that got one, by when they were
*received*), ``response_rate``, ``median_response_seconds``, ``p90_response_seconds``,
``sentiment`` (counts per sentiment), ``categories`` (counts per category) and ``deliveries``
(sent, failed and withdrawn, by when they were sent or due). At most :data:`MAX_POINTS` points.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone
from django.utils.translation import gettext

from campaigns.models import DeliveryStatus
from core.errors import InvalidInput
from engage.metrics.reach import deliveries_in_scope
from engage.metrics.response import answered_q, needs_answer_q, response_times
from engage.metrics.scope import Scope, replies
from engage.metrics.sql import ratio
from engage.metrics.summary import choose_source, series_points
from engage.metrics.voice import SENTIMENTS, bucket, sentiment_series

METRICS = ("replies", "answered", "response_rate", "median_response_seconds", "p90_response_seconds", "sentiment",
           "categories", "deliveries")
MAX_POINTS = 2000


def step(interval: str) -> timedelta:
    return timedelta(hours=1) if interval == "hour" else timedelta(days=1)


def _floor(value: datetime, interval: str, tz: ZoneInfo) -> datetime:
    local = value.astimezone(tz)
    local = local.replace(minute=0, second=0, microsecond=0)
    if interval == "day":
        local = local.replace(hour=0)
    return local


def _advance(value: datetime, interval: str, tz: ZoneInfo) -> datetime:
    """The next bucket start; days step in local calendar days (23 or 25 hours at a DST change)."""
    if interval == "hour":
        return (value.astimezone(ZoneInfo("UTC")) + timedelta(hours=1)).astimezone(tz)
    following = (value.replace(tzinfo=None) + timedelta(days=1)).replace(hour=0)
    return following.replace(tzinfo=tz)


def fill(points: list[dict[str, Any]], *, interval: str, tz: ZoneInfo, start: datetime | None = None,
         end: datetime | None = None, empty: dict[str, Any]) -> list[dict[str, Any]]:
    """Every bucket from ``start`` (or the first point) to ``end`` (or the last point)."""
    if not points and (start is None or end is None):
        return []
    by_time = {p["t"].astimezone(ZoneInfo("UTC")): p for p in points}
    first = _floor(start if start is not None else min(p["t"] for p in points), interval, tz)
    last_source = end if end is not None else max(p["t"] for p in points)
    last = _floor(last_source, interval, tz)
    out: list[dict[str, Any]] = []
    current = first
    while current <= last:
        if len(out) >= MAX_POINTS:
            raise InvalidInput(f"More than {MAX_POINTS} points: choose a shorter period or interval=day.",
                               fields={"interval": ["Too many points for this period."]})
        key = current.astimezone(ZoneInfo("UTC"))
        out.append(by_time.get(key) or {"t": current, **empty})
        current = _advance(current, interval, tz)
    return out


def series(scope: Scope, *, metric: str, interval: str) -> dict[str, Any]:
    if metric not in METRICS:
        raise InvalidInput(gettext("Unknown metric."),
                           fields={"metric": [f"Choose one of {', '.join(METRICS)}."]})
    if interval not in ("hour", "day"):
        raise InvalidInput(gettext("Unknown interval."), fields={"interval": ["Choose hour or day."]})
    tz = scope.tz
    qs = replies(scope)
    start, end = scope.since, scope.until or (timezone.now() if scope.since else None)
    source, state = choose_source(scope, interval=interval) if metric != "deliveries" else ("live", None)
    if source == "summary":
        raw_points, keys = series_points(scope, metric=metric, interval=interval)
        zero: Any = 0 if metric in ("replies", "answered", "sentiment", "categories") else None
        points = fill(raw_points, interval=interval, tz=tz, start=start, end=end,
                      empty={k: zero for k in keys})
    elif metric == "sentiment":
        points = fill(sentiment_series(qs, interval=interval, tz=tz), interval=interval, tz=tz, start=start, end=end,
                      empty={k: 0 for k in SENTIMENTS})
        keys = list(SENTIMENTS)
    elif metric == "categories":
        rows = qs.annotate(_t=bucket(interval, tz)).values("_t", "category").annotate(n=Count("pk")).order_by("_t")
        raw: dict[datetime, dict[str, Any]] = {}
        keys = sorted({row["category"] or "unclassified" for row in rows})
        for row in rows:
            point = raw.setdefault(row["_t"], {"t": row["_t"], **{k: 0 for k in keys}})
            point[row["category"] or "unclassified"] += row["n"]
        points = fill(list(raw.values()), interval=interval, tz=tz, start=start, end=end, empty={k: 0 for k in keys})
    elif metric == "deliveries":
        rows = (deliveries_in_scope(scope).annotate(_t=Trunc(Coalesce("sent_at", "due_at"), interval, tzinfo=tz))
                .values("_t").annotate(sent=Count("pk", filter=Q(status=DeliveryStatus.SENT)),
                                       failed=Count("pk", filter=Q(status=DeliveryStatus.FAILED)),
                                       withdrawn=Count("pk", filter=Q(status=DeliveryStatus.WITHDRAWN)))
                .order_by("_t"))
        keys = ["sent", "failed", "withdrawn"]
        points = fill([{"t": r["_t"], **{k: r[k] for k in keys}} for r in rows], interval=interval, tz=tz,
                      start=start, end=end, empty={k: 0 for k in keys})
    else:
        group = bucket(interval, tz)
        rows = (qs.annotate(_t=group).values("_t")
                .annotate(replies=Count("pk"), needing=Count("pk", filter=needs_answer_q()),
                          answered=Count("pk", filter=needs_answer_q() & answered_q()))
                .order_by("_t"))
        times = response_times(qs, group=group) if metric.endswith("_seconds") else {}
        fraction = 0.5 if metric.startswith("median") else 0.9
        raw_points = []
        for row in rows:
            value: Any
            if metric == "replies":
                value = row["replies"]
            elif metric == "answered":
                value = row["answered"]
            elif metric == "response_rate":
                value = ratio(row["answered"], row["needing"])
            else:
                value = times.get(row["_t"], {}).get(fraction)
            raw_points.append({"t": row["_t"], "value": value})
        empty: Any = 0 if metric in ("replies", "answered") else None
        points = fill(raw_points, interval=interval, tz=tz, start=start, end=end, empty={"value": empty})
        keys = ["value"]
    return {
        "metric": metric, "interval": interval, "timezone": str(tz), "keys": keys,
        "filters": scope.as_dict(), "source": source,
        "as_of": (state.watermark if state is not None else timezone.now()).isoformat(),
        "points": [{**p, "t": p["t"].astimezone(tz).isoformat()} for p in points],
    }
