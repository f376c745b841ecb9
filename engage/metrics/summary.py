"""The metrics summary table (:class:`engage.models.MetricsRollup`): reading it.

**Why.** Every figure can be computed live from the replies (``engage.metrics.response`` and
friends), exactly, and that is what happens for small scopes. With a million replies a live
dashboard takes seconds, so large scopes read the summary instead: counts per hour and per day.

**When the summary is read** (:func:`choose_source`): it has been built at least once, the
filters are ones it is keyed by (team, event, campaign, phase, channel, segment, language,
period), and the scope holds more than ``ENGAGE_METRICS_LIVE_MAX`` replies (5,000 by default;
for a segment or language filter, the scope without them, since live such a filter reads all
those replies); otherwise the figures are computed live. Every result says which
(``source``: ``live`` or ``summary``, with ``as_of``).

**Segments.** Each row keeps the set of segments of the answered message (``",3,7,"``), so a
reply is in exactly one row per dimension whatever its segments: the team's totals never count
it twice. A segment filter keeps the rows whose set holds the segment (each of its replies once,
as the live ``EXISTS`` filter); the per-segment table adds each set's sums to each of its
segments (a reply to a message aimed at two segments counts for both, as live).

**Languages.** A language filter reads the language rows of that language (``value`` is the
language), which hold every measure but the volume per category; that one comes from the rows
of both (:data:`MetricsRollup.LANGUAGE_CATEGORY`, ``value`` ``"<language>|<category>"``), read
only under a language filter (:func:`category_rows`). Each dimension's rows count every reply
once, and reads filter by dimension (the indexes lead with team or event, grain, dimension).

**What differs when it is.** Counts are exact, as of the last refresh (a minute at most, with the
periodic task). Periods are whole hours: a reply at 10:40 counts for a period starting at
10:30. Whole days inside the period are read from the day rows, the hours at either end from
the hour rows (:func:`grain_for`; hours only for hourly charts). Percentiles of the
time to first response are interpolated within the bands of
:data:`engage.models.metrics.RESPONSE_BANDS`, assuming the answers in a band are spread evenly;
each answer is placed inside its band and percentiles interpolate between ranks as
``percentile_cont`` does, so the estimate lies between the bands of the two answers either side
of it (with many answers, within one band; a band's top is at most 1.5x its bottom between 2
minutes and 5 days).

**Refresh**: :mod:`engage.metrics.rollup` fills the table (:func:`~engage.metrics.rollup.summary_refresh`,
every minute from the beat, and a full rebuild nightly); this module reads it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F, Max, Q, QuerySet, Sum
from django.db.models.functions import Left, Trunc

from engage.metrics.localday import day_start, next_local_day, whole_hour_offsets
from engage.metrics.response import shape_counts
from engage.metrics.rollup import COUNT_FIELDS, summary_state
from engage.metrics.scope import Scope
from engage.models import MetricsRollup, MetricsRollupState
from engage.models.metrics import BAND_FIELDS, RESPONSE_BANDS

GRAIN_MIXED = "dh"  # read whole days from day rows, the rest from hour rows (never stored)


def live_max() -> int:
    return int(getattr(settings, "ENGAGE_METRICS_LIVE_MAX", 5000))


def _aligned_to_days(moment: datetime | None, zone: ZoneInfo) -> bool:
    if moment is None:
        return True
    local = moment.astimezone(zone)
    return (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)


def grain_for(scope: Scope, interval: str = "day") -> str:
    """Days when the period is whole days (or open) and charts are daily; for daily charts of a
    period that starts or ends inside a day, the whole days inside it plus the hours at either
    end (:data:`GRAIN_MIXED`); hours otherwise."""
    if interval != "day":
        return MetricsRollup.GRAIN_HOUR
    if _aligned_to_days(scope.since, scope.tz) and _aligned_to_days(scope.until, scope.tz):
        return MetricsRollup.GRAIN_DAY
    return GRAIN_MIXED if whole_hour_offsets(str(scope.tz)) else MetricsRollup.GRAIN_HOUR


def _period_q(scope: Scope, grain: str) -> Q:
    """The rows of the period: its hours (from the hour holding ``since``), its days, or for
    :data:`GRAIN_MIXED` the day rows of the whole days inside it and the hour rows of the rest
    (the two never overlap, so their sums are the period's)."""
    start = (scope.since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
             if scope.since is not None else None)
    if grain != GRAIN_MIXED:
        q = Q(grain=grain)
        if start is not None:
            q &= Q(period_start__gte=start)
        if scope.until is not None:
            q &= Q(period_start__lt=scope.until)
        return q
    first = None if scope.since is None else (
        scope.since if _aligned_to_days(scope.since, scope.tz)
        else next_local_day(scope.since, str(scope.tz)))
    last = None if scope.until is None else day_start(scope.until, str(scope.tz))
    if first is not None and last is not None and first >= last:  # no whole day inside
        return _period_q(scope, MetricsRollup.GRAIN_HOUR)
    days = Q(grain=MetricsRollup.GRAIN_DAY)
    if first is not None:
        days &= Q(period_start__gte=first)
    if last is not None:
        days &= Q(period_start__lt=last)
    if start is not None and start < first:
        days |= Q(grain=MetricsRollup.GRAIN_HOUR, period_start__gte=start, period_start__lt=first)
    if last is not None and last < scope.until:
        days |= Q(grain=MetricsRollup.GRAIN_HOUR, period_start__gte=last, period_start__lt=scope.until)
    return days


def rows(scope: Scope, dimension: str, grain: str) -> QuerySet[MetricsRollup]:
    """The rows of ``dimension`` in the scope: each of its replies in exactly one of them. Under a
    language filter the category rows cannot be narrowed to the language, so the language rows
    of that language stand for them (group them by anything but ``value``; for the volume per
    category, :func:`category_rows`)."""
    if scope.language:
        if dimension == MetricsRollup.LANGUAGE_CATEGORY:
            # A prefix test narrows the rows; category_rows keeps the exact language (see there).
            qs = (MetricsRollup.objects.filter(_period_q(scope, grain), team_id__in=scope.team_ids,
                                               dimension=dimension)
                  .alias(_lang=Left("value", len(scope.language) + 1)).filter(_lang=f"{scope.language}|"))
        else:
            qs = MetricsRollup.objects.filter(_period_q(scope, grain), team_id__in=scope.team_ids,
                                              dimension=MetricsRollup.LANGUAGE, value=scope.language)
        return _filtered(qs, scope)
    qs = MetricsRollup.objects.filter(_period_q(scope, grain), team_id__in=scope.team_ids, dimension=dimension)
    return _filtered(qs, scope)


def category_rows(scope: Scope, grain: str) -> tuple[QuerySet[MetricsRollup], Callable[[str], str | None]]:
    """The rows to group by ``value`` for the volume per category, and how to read the category
    from a ``value`` (``None``: not the scope's language, skip the group). Under a language filter
    these are the rows of both: ``"<language>|<category>"``, whose language is all before the last
    ``|`` (categories are fixed keys, without one); so a language holding ``|`` is never taken
    for another."""
    if not scope.language:
        return rows(scope, MetricsRollup.CATEGORY, grain), lambda value: value

    def category(value: str) -> str | None:
        language, _, key = value.rpartition("|")
        return key if language == scope.language else None

    return rows(scope, MetricsRollup.LANGUAGE_CATEGORY, grain), category


def _filtered(qs: QuerySet[MetricsRollup], scope: Scope) -> QuerySet[MetricsRollup]:
    if scope.event is not None:
        qs = qs.filter(event_id=scope.event.pk)
    if scope.campaign is not None:
        qs = qs.filter(campaign_id=scope.campaign.pk)
    if scope.channel is not None:
        qs = qs.filter(channel_id=scope.channel.pk)
    if scope.phase:
        qs = qs.filter(phase=scope.phase)
    if scope.segment is not None:
        qs = qs.filter(segments__contains=f",{scope.segment.pk},")
    return qs


def choose_source(scope: Scope, *, interval: str = "day") -> tuple[str, MetricsRollupState | None]:
    """``("summary", state)`` when the summary can and should answer, else ``("live", None)``."""
    state = summary_state()
    if state is None:
        return "live", None
    # Live, a segment filter is an EXISTS over every reply of the rest of the scope, and a language
    # filter a test of each of them (no index leads with the language): count those.
    broader = dataclasses.replace(scope, segment=None, language="")
    total = rows(broader, MetricsRollup.CATEGORY, grain_for(scope, interval)).aggregate(n=Sum("replies"))["n"] or 0
    return ("summary", state) if total > live_max() else ("live", None)


def _sums() -> dict[str, Any]:
    sums: dict[str, Any] = {name: Sum(name) for name in (*COUNT_FIELDS, *BAND_FIELDS)}
    sums["rt_sum"] = Sum("rt_sum")
    sums["rt_max"] = Max("rt_max")
    return sums


def band_percentiles(row: dict[str, Any], fractions: tuple[float, ...] = (0.5, 0.9)) -> dict[float, float | None]:
    """Percentiles from the band counts. Each answer's time is placed inside its band (the ``count``
    answers of a band spread evenly across it), and a percentile interpolates between the two ranks
    either side of ``fraction * (n - 1)``, as ``percentile_cont`` does with the exact times. So the
    estimate lies between the bands of those two answers: with many answers, within one band."""
    counts = [int(row.get(name) or 0) for name in BAND_FIELDS]
    total = sum(counts)
    top = float(row.get("rt_max") or 0.0)
    lowers = (0, *RESPONSE_BANDS)
    uppers: tuple[float, ...] = (*RESPONSE_BANDS, max(top, RESPONSE_BANDS[-1]))

    def at_rank(rank: int) -> float:
        seen = 0
        for count, low, high in zip(counts, lowers, uppers, strict=True):
            if count and seen + count > rank:
                value = low + (high - low) * (rank - seen + 0.5) / count
                return min(value, top) if top else value
            seen += count
        return top

    out: dict[float, float | None] = {}
    for fraction in fractions:
        if total == 0:
            out[fraction] = None
            continue
        position = fraction * (total - 1)
        low = int(position)
        first = at_rank(low)
        second = at_rank(min(low + 1, total - 1))
        out[fraction] = round(first + (second - first) * (position - low), 3)
    return out


def _shaped(row: dict[str, Any]) -> dict[str, Any]:
    counts = {key: int(row.get(key) or 0) for key in COUNT_FIELDS}
    counts["needing_answer"] = counts.pop("needing")
    return shape_counts(counts)


def response_summary(scope: Scope, grain: str) -> dict[str, Any]:
    """The live ``response_summary`` shape, plus ``_sums`` (every column summed) for the rest."""
    row = rows(scope, MetricsRollup.CATEGORY, grain).aggregate(**_sums())
    out = _shaped(row)
    times = band_percentiles(row)
    out["time_to_first_response"] = {"median_seconds": times[0.5], "p90_seconds": times[0.9],
                                     "count": int(row.get("answered_needing") or 0)}
    out["_sums"] = row
    return out


def distribution(sums: dict[str, Any]) -> list[dict[str, Any]]:
    from engage.metrics.response import RESPONSE_BUCKETS

    lowers = (0, *RESPONSE_BANDS)
    out = []
    for key, label, low, high in RESPONSE_BUCKETS:
        n = sum(int(sums.get(name) or 0) for name, band_low in zip(BAND_FIELDS, lowers, strict=True)
                if band_low >= low and (high is None or band_low < high))
        out.append({"key": key, "label": label, "from_seconds": low, "to_seconds": high, "replies": n})
    return out


def corrections(sums: dict[str, Any]) -> dict[str, Any]:
    from engage.metrics.sql import ratio

    processed = int(sums.get("processed") or 0)
    category, sentiment = int(sums.get("corrected_category") or 0), int(sums.get("corrected_sentiment") or 0)
    return {"processed": processed, "category_corrected": category, "category_share": ratio(category, processed),
            "sentiment_corrected": sentiment, "sentiment_share": ratio(sentiment, processed),
            "category_accuracy": None if not processed else round(1 - category / processed, 4)}


def sentiment_totals(sums: dict[str, Any]) -> dict[str, int]:
    return {"positive": int(sums.get("positive") or 0), "neutral": int(sums.get("neutral") or 0),
            "negative": int(sums.get("negative") or 0), "unknown": int(sums.get("sentiment_unknown") or 0),
            "unclassified": int(sums.get("sentiment_unclassified") or 0)}


def categories(scope: Scope, grain: str) -> list[dict[str, Any]]:
    from engage.metrics.response import NO_ANSWER_CATEGORIES
    from engage.metrics.voice import CATEGORY_LABELS, CATEGORY_ORDER

    source, category = category_rows(scope, grain)
    data = source.values("value").annotate(replies=Sum("replies"), answered=Sum("answered")).order_by()
    by_key: dict[str, dict[str, int]] = {}
    for row in data:
        key = category(row["value"])
        if key is not None:
            total = by_key.setdefault(key or "unclassified", {"replies": 0, "answered": 0})
            total["replies"] += int(row["replies"] or 0)
            total["answered"] += int(row["answered"] or 0)
    ordered = [k for k in CATEGORY_ORDER if k in by_key] + sorted(k for k in by_key if k not in CATEGORY_ORDER)
    return [{"category": key, "label": CATEGORY_LABELS.get(key, key.replace("_", " ").capitalize()),
             "replies": int(by_key[key]["replies"]), "answered": int(by_key[key]["answered"]),
             "needs_answer": key not in NO_ANSWER_CATEGORIES}
            for key in ordered]


def sentiment_series(scope: Scope, grain: str, *, interval: str) -> list[dict[str, Any]]:
    period: Any = F("period_start")
    if not (grain == MetricsRollup.GRAIN_DAY or interval == "hour"):
        period = Trunc("period_start", "day", tzinfo=scope.tz)
    data = (rows(scope, MetricsRollup.CATEGORY, grain).annotate(_t=period).values("_t")
            .annotate(positive=Sum("positive"), neutral=Sum("neutral"), negative=Sum("negative"),
                      unknown=Sum("sentiment_unknown"), unclassified=Sum("sentiment_unclassified"))
            .order_by("_t"))
    return [{"t": row["_t"].astimezone(scope.tz), **{k: int(row[k] or 0) for k in ("positive", "neutral", "negative", "unknown",
                                                              "unclassified")}} for row in data]


def response_by(scope: Scope, grain: str, dimension: str, overall: dict[str, Any]) -> list[dict[str, Any]]:
    from engage.metrics.equity import build_rows

    if dimension == "segment":
        source, field = MetricsRollup.CATEGORY, "segments"
    elif dimension == "language":
        source, field = MetricsRollup.LANGUAGE, "value"
    elif dimension == "phase":
        source, field = MetricsRollup.CATEGORY, "phase"
    elif dimension == "channel":
        source, field = MetricsRollup.CATEGORY, "channel_id"
    else:
        raise ValueError(f"Unknown dimension {dimension!r}")
    data = rows(scope, source, grain).values(field).annotate(**_sums()).order_by()
    if dimension == "segment":
        data = _per_segment(data)
    groups = []
    for row in data:
        key = row[field]
        times = band_percentiles(row)
        groups.append((key, _shaped(row), times[0.5], times[0.9]))
    return build_rows(dimension, groups, overall)


def _per_segment(data: Any) -> list[dict[str, Any]]:
    """Rows per segment set -> rows per segment (``None``: no segment): each set's sums added to
    each of its segments, so a reply counts once for each segment its message targeted."""
    out: dict[int | None, dict[str, Any]] = {}
    for row in data:
        members = [int(pk) for pk in (row["segments"] or "").strip(",").split(",") if pk] or [None]
        for key in members:
            total = out.setdefault(key, {"segments": key})
            for name, value in row.items():
                if name == "segments" or value is None:
                    continue
                if name == "rt_max":
                    total[name] = max(total.get(name) or 0.0, value)
                else:
                    total[name] = (total.get(name) or 0) + value
    return list(out.values())


def sentiment_by_phase(scope: Scope, grain: str) -> list[dict[str, Any]]:
    from engage.metrics.sql import ratio

    data = (rows(scope, MetricsRollup.CATEGORY, grain).values("phase")
            .annotate(positive=Sum("positive"), neutral=Sum("neutral"), negative=Sum("negative"),
                      unknown=Sum("sentiment_unknown"), unclassified=Sum("sentiment_unclassified")).order_by())
    by_phase = {row["phase"]: row for row in data}
    out = []
    for phase in ("before", "during", "after", "none"):
        if phase in by_phase:
            row = {k: int(by_phase[phase][k] or 0) for k in ("positive", "neutral", "negative", "unknown",
                                                             "unclassified")}
            total = sum(row.values())
            out.append({"phase": phase, "label": {"none": "No event"}.get(phase, phase.capitalize()), **row,
                        "replies": total, "net": ratio(row["positive"] - row["negative"], total)})
    return out


def series_points(scope: Scope, *, metric: str, interval: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The points of :func:`engage.metrics.series.series` from the summary (not ``deliveries``)."""
    from engage.metrics.sql import ratio

    grain = grain_for(scope, interval)
    period: Any = F("period_start")
    if not (grain == MetricsRollup.GRAIN_DAY or interval == "hour"):
        period = Trunc("period_start", "day", tzinfo=scope.tz)
    base = rows(scope, MetricsRollup.CATEGORY, grain).annotate(_t=period)
    if metric == "categories":
        source, category = category_rows(scope, grain)
        data = [(row["_t"], category(row["value"]), int(row["n"] or 0))
                for row in source.annotate(_t=period).values("_t", "value").annotate(n=Sum("replies")).order_by("_t")]
        data = [(t, key or "unclassified", n) for t, key, n in data if key is not None]
        keys = sorted({key for _, key, _ in data})
        points: dict[Any, dict[str, Any]] = {}
        for t, key, n in data:
            point = points.setdefault(t, {"t": t, **{k: 0 for k in keys}})
            point[key] += n
        return list(points.values()), keys
    if metric == "sentiment":
        return sentiment_series(scope, grain, interval=interval), ["positive", "neutral", "negative", "unknown",
                                                                   "unclassified"]
    data = base.values("_t").annotate(**_sums()).order_by("_t")
    out = []
    for row in data:
        if metric == "replies":
            value: Any = int(row["replies"] or 0)
        elif metric == "answered":
            value = int(row["answered_needing"] or 0)
        elif metric == "response_rate":
            value = ratio(int(row["answered_needing"] or 0), int(row["needing"] or 0))
        else:
            value = band_percentiles(row, (0.5, 0.9))[0.5 if metric.startswith("median") else 0.9]
        out.append({"t": row["_t"], "value": value})
    return out, ["value"]
