"""Everything the dashboard shows, in one call with a fixed number of queries (about twenty,
whatever the number of replies): the headline figures, the four charts' data, the equity
tables and reach. The after-action report (``engage.metrics.reports``) starts from the same data.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from engage.metrics import equity, reach, response, summary, voice
from engage.metrics.helpfulness import helpfulness
from engage.metrics.scope import Scope, phase_expression, replies
from engage.metrics.series import fill
from engage.metrics.sql import ratio

HOURLY_UP_TO = timedelta(days=4)


def choose_interval(scope: Scope, now: datetime) -> str:
    """Hours for an event or a period of up to four days, days otherwise."""
    if scope.since is not None:
        return "hour" if (scope.until or now) - scope.since <= HOURLY_UP_TO else "day"
    if scope.event is not None:
        end = scope.event.ends_at or now
        return "hour" if end - scope.event.starts_at <= timedelta(days=2) else "day"
    return "day"


def phase_bands(scope: Scope) -> list[dict[str, Any]]:
    """The event's phases as time ranges, for shading charts (open ends are None)."""
    event = scope.event
    if event is None:
        return []
    return [
        {"phase": "before", "label": "Before", "start": None, "end": event.starts_at},
        {"phase": "during", "label": "During", "start": event.starts_at, "end": event.ends_at},
        *([{"phase": "after", "label": "After", "start": event.ends_at, "end": None}] if event.ends_at else []),
    ]


def sentiment_by_phase(qs: Any) -> list[dict[str, Any]]:
    rows = (qs.annotate(_phase=phase_expression()).values("_phase", "sentiment").annotate(n=Count("pk"))
            .order_by())
    table: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = table.setdefault(row["_phase"], {"phase": row["_phase"], **{k: 0 for k in voice.SENTIMENTS}})
        entry[row["sentiment"] or "unclassified"] = entry.get(row["sentiment"] or "unclassified", 0) + row["n"]
    order = ("before", "during", "after", "none")
    out = []
    for phase in order:
        if phase in table:
            entry = table[phase]
            total = sum(entry[k] for k in voice.SENTIMENTS)
            entry["label"] = {"none": "No event"}.get(phase, phase.capitalize())
            entry["replies"] = total
            entry["net"] = ratio(entry["positive"] - entry["negative"], total)
            out.append(entry)
    return out


def dashboard(scope: Scope, *, interval: str | None = None, now: datetime | None = None,
              source: str | None = None) -> dict[str, Any]:
    """``source``: ``live`` or ``summary`` to force one (tests, the bench); by default
    :func:`engage.metrics.summary.choose_source` decides."""
    now = now or timezone.now()
    qs = replies(scope)
    interval = interval or choose_interval(scope, now)
    if source is None:
        source, state = summary.choose_source(scope, interval=interval)
    else:
        state = summary.summary_state() if source == "summary" else None
    if source == "summary":
        grain = summary.grain_for(scope, interval)
        headline = summary.response_summary(scope, grain)
        sums = headline.pop("_sums")
        distribution = summary.distribution(sums)
        corrections = summary.corrections(sums)
        categories = summary.categories(scope, grain)
        sentiment_points = summary.sentiment_series(scope, grain, interval=interval)
        segments = summary.response_by(scope, grain, "segment", headline)
        languages = summary.response_by(scope, grain, "language", headline)
    else:
        headline = response.response_summary(qs, now=now)
        distribution = response.response_distribution(qs)
        corrections = voice.corrections_share(qs)
        categories = voice.volume_by_category(qs)
        sentiment_points = voice.sentiment_series(qs, interval=interval, tz=scope.tz)
        segments = equity.response_by(qs, "segment", headline, now=now)
        languages = equity.response_by(qs, "language", headline, now=now)
    start = scope.since
    end = scope.until or (now if scope.since is not None else None)
    sentiment_points = fill(sentiment_points, interval=interval, tz=scope.tz, start=start, end=end,
                            empty={k: 0 for k in voice.SENTIMENTS})
    channels = reach.deliveries_by_channel(scope, qs)
    return {
        "scope": scope,
        "filters": scope.as_dict(),
        "described": scope.describe(),
        "computed_at": now,
        "source": source,
        "as_of": state.watermark if state is not None and source == "summary" else now,
        "interval": interval,
        "summary": headline,
        "distribution": distribution,
        "backlog": response.backlog_by_age(replies(scope, period=False), now=now),
        "categories": categories,
        "sentiment": {"interval": interval, "points": sentiment_points,
                      "totals": {k: sum(p[k] for p in sentiment_points) for k in voice.SENTIMENTS},
                      "bands": phase_bands(scope)},
        "corrections": corrections,
        "segments": segments,
        "languages": languages,
        "flags": equity.flags(segments) + equity.flags(languages),
        "thresholds": equity.thresholds(),
        "channels": channels,
        "reach": reach.delivery_totals(channels),
        "rumours": voice.rumour_summary(scope),
        "corrections_published": voice.corrections_published(scope),
        "helpfulness": helpfulness(scope),
    }
