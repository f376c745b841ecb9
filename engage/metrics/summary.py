"""The metrics summary table (:class:`engage.models.MetricsRollup`): filling it and reading it.

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

**Refresh** (:func:`summary_refresh`, every minute from the beat, and a full rebuild nightly):
the hours touched since the last refresh are recomputed, delete-and-insert in one transaction,
with ``INSERT ... SELECT ... GROUP BY`` in the database (nothing goes through Python row by
row; a reply's segment set is a correlated ``string_agg`` / ``group_concat`` subquery). Touched
means a reply stored or updated (``updated_at``), a correction made, an event's times changed,
or an SLA clock that ran out unanswered, since the last refresh less two minutes (for
transactions that committed late). A deleted reply (erasure), or a change to the segments of a
message already answered, leaves its hours stale until the nightly rebuild.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    CharField,
    Count,
    DateTimeField,
    F,
    FloatField,
    Func,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce, Concat, Left, Trunc
from django.utils import timezone

from accounts.models import Team
from campaigns.models import Message
from engage.metrics.response import answered_q, needs_answer_q, response_seconds, shape_counts, sla_conditions
from engage.metrics.scope import Scope, phase_expression
from engage.models import ClassificationCorrection, MetricsRollup, MetricsRollupState, Reply
from engage.models.metrics import BAND_FIELDS, RESPONSE_BANDS

STATE = "replies"
SLACK = timedelta(minutes=2)
STUCK_AFTER = timedelta(minutes=15)
GRAIN_MIXED = "dh"  # read whole days from day rows, the rest from hour rows (never stored)
DIMENSIONS = (MetricsRollup.CATEGORY, MetricsRollup.LANGUAGE, MetricsRollup.LANGUAGE_CATEGORY)
COUNT_FIELDS = ("replies", "needing", "answered", "answered_needing", "urgent", "processed", "corrected_category",
                "corrected_sentiment", "sla_met", "sla_missed", "sla_pending", "positive", "neutral", "negative",
                "sentiment_unknown", "sentiment_unclassified")
KEY_FIELDS = ("team_id", "grain", "period_start", "dimension", "value", "campaign_id", "event_id", "phase",
              "channel_id", "segments")


def live_max() -> int:
    return int(getattr(settings, "ENGAGE_METRICS_LIVE_MAX", 5000))


# --- the local day, computed in the database ------------------------------------------------------

def _sqlite_day_start(value: str | None, zone: str) -> str | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
    local = moment.astimezone(ZoneInfo(zone))
    midnight = datetime(local.year, local.month, local.day, tzinfo=ZoneInfo(zone))
    return midnight.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


class LocalDayStart(Func):
    """The UTC instant of the local midnight that starts ``expression``'s day in ``zone``."""

    output_field = DateTimeField()

    def __init__(self, expression: Any, zone: str) -> None:
        super().__init__(expression, Value(zone))

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        expr, zone = self.source_expressions
        expr_sql, expr_params = compiler.compile(expr)
        zone_sql, zone_params = compiler.compile(zone)
        return (f"(DATE_TRUNC('day', {expr_sql} AT TIME ZONE {zone_sql}) AT TIME ZONE {zone_sql})",
                [*expr_params, *zone_params, *zone_params])

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return self.as_sql(compiler, connection, function="engage_day_start", **extra)


def _prepare_connection() -> None:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.create_function("engage_day_start", 2, _sqlite_day_start, deterministic=True)


# --- filling ---------------------------------------------------------------------------------------

def _measures(now: datetime) -> dict[str, Any]:
    needs, answered = needs_answer_q(), answered_q()
    timed = needs & answered
    # An uncorrelated IN (a hashed sub-plan on PostgreSQL): corrections are few, replies many.
    corrected = {field: Q(pk__in=ClassificationCorrection.objects.filter(field=field).values("reply_id"))
                 for field in ("category", "sentiment")}
    sla = sla_conditions(now)
    measures: dict[str, Any] = {
        "replies": Count("pk"),
        "needing": Count("pk", filter=needs),
        "answered": Count("pk", filter=answered),
        "answered_needing": Count("pk", filter=timed),
        "urgent": Count("pk", filter=Q(urgent=True)),
        "processed": Count("pk", filter=Q(processed_at__isnull=False)),
        "corrected_category": Count("pk", filter=corrected["category"]),
        "corrected_sentiment": Count("pk", filter=corrected["sentiment"]),
        "sla_met": Count("pk", filter=sla["sla_met"]),
        "sla_missed": Count("pk", filter=sla["sla_missed"]),
        "sla_pending": Count("pk", filter=sla["sla_pending"]),
        "positive": Count("pk", filter=Q(sentiment="positive")),
        "neutral": Count("pk", filter=Q(sentiment="neutral")),
        "negative": Count("pk", filter=Q(sentiment="negative")),
        "sentiment_unknown": Count("pk", filter=Q(sentiment="unknown")),
        "sentiment_unclassified": Count("pk", filter=Q(sentiment="")),
        "rt_sum": Coalesce(Sum("_rt", filter=timed), Value(0.0), output_field=FloatField()),
        "rt_max": Max("_rt", filter=timed),
    }
    lower = 0
    for name, upper in zip(BAND_FIELDS, (*RESPONSE_BANDS, None), strict=True):
        band = timed & Q(_rt__gte=lower)
        if upper is not None:
            band &= Q(_rt__lt=upper)
            lower = upper
        measures[name] = Count("pk", filter=band)
    return measures


class SegmentList(Aggregate):
    """The ids, in order, between commas: ``,3,7,`` (NULL for none)."""

    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return self.as_sql(compiler, connection, template="(',' || STRING_AGG(CAST(%(expressions)s AS text), ',' "
                                                          "ORDER BY %(expressions)s) || ',')", **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        # The lookup reads the (message, segment) unique index, so in segment order; an order
        # only keeps the rows few: a set is matched by its members, whatever their order.
        return self.as_sql(compiler, connection, template="(',' || GROUP_CONCAT(%(expressions)s, ',') || ',')",
                           **extra)


def segment_set(message_ref: str = "message_id") -> Coalesce:
    """The segments of the answered message as in ``MetricsRollup.segments`` (``""``: none)."""
    through = Message.segments.through
    ids = (through.objects.filter(message_id=OuterRef(message_ref)).order_by().values("message_id")
           .annotate(ids=SegmentList("segment_id")).values("ids"))
    return Coalesce(Subquery(ids, output_field=TextField()), Value(""), output_field=TextField())


def _value(dimension: str) -> Any:
    if dimension == MetricsRollup.LANGUAGE_CATEGORY:
        return Concat(F("language"), Value("|"), F("category"), output_field=CharField())
    return F("category") if dimension == MetricsRollup.CATEGORY else F("language")


def _insert(source: QuerySet[Reply], *, grain: str, dimension: str, zone: str, now: datetime) -> int:
    """``INSERT INTO rollup SELECT ... GROUP BY`` for ``source``'s replies."""
    period = (Trunc("received_at", "hour", tzinfo=UTC) if grain == MetricsRollup.GRAIN_HOUR
              else LocalDayStart(F("received_at"), zone))
    keys = {
        "k_team_id": F("team_id"),
        "k_grain": Value(grain, output_field=CharField()),
        "k_period_start": period,
        "k_dimension": Value(dimension, output_field=CharField()),
        "k_value": _value(dimension),
        "k_campaign_id": F("message__campaign_id"),
        "k_event_id": F("message__campaign__event_id"),
        "k_phase": phase_expression(),
        "k_channel_id": F("channel_id"),
        "k_segments": segment_set(),
    }
    measures = _measures(now)
    qs = (source.annotate(_rt=response_seconds()).annotate(**keys).values(*keys).annotate(**measures)
          .order_by().values_list(*keys, *measures))
    return _execute_insert(qs, [*KEY_FIELDS, *measures])


def _zones() -> dict[str, list[int]]:
    zones: dict[str, list[int]] = defaultdict(list)
    for pk, zone in Team.objects.values_list("pk", "timezone"):
        try:
            ZoneInfo(zone)
        except (KeyError, ValueError):
            zone = settings.ENGAGE_DEFAULT_TIMEZONE
        zones[zone].append(pk)
    return zones


def _whole_hour_offsets(zone: str) -> bool:
    """Whether every local midnight of the zone falls on a UTC hour (then days add up from hours)."""
    tz = ZoneInfo(zone)
    year = timezone.now().year
    return all((datetime(y, m, 1, tzinfo=tz).utcoffset() or timedelta()).total_seconds() % 3600 == 0
               for y in (year - 1, year) for m in range(1, 13))


def _insert_days_from_hours(team_ids: list[int], zone: str, days: dict[int, set[datetime]] | None) -> int:
    """Day rows as sums of the hour rows (exact when the zone's midnights are whole UTC hours)."""
    source = MetricsRollup.objects.filter(team_id__in=team_ids, grain=MetricsRollup.GRAIN_HOUR)
    if days is not None:
        condition = Q()
        for team_id in team_ids:
            for start in sorted(days.get(team_id, ())):
                condition |= Q(team_id=team_id, period_start__gte=start,
                               period_start__lt=_next_local_day(start, zone))
        if not condition:
            return 0
        source = source.filter(condition)
    keys = {
        "k_team_id": F("team_id"), "k_grain": Value(MetricsRollup.GRAIN_DAY, output_field=CharField()),
        "k_period_start": LocalDayStart(F("period_start"), zone), "k_dimension": F("dimension"),
        "k_value": F("value"), "k_campaign_id": F("campaign_id"), "k_event_id": F("event_id"),
        "k_phase": F("phase"), "k_channel_id": F("channel_id"), "k_segments": F("segments"),
    }
    measures: dict[str, Any] = {name: Sum(name) for name in (*COUNT_FIELDS, *BAND_FIELDS)}
    measures["rt_sum"] = Sum("rt_sum")
    measures["rt_max"] = Max("rt_max")
    qs = source.annotate(**keys).values(*keys).annotate(**measures).order_by().values_list(*keys, *measures)
    return _execute_insert(qs, [*KEY_FIELDS, *measures])


def _execute_insert(qs: QuerySet, columns: list[str]) -> int:
    sql, params = qs.query.sql_with_params()
    table = connection.ops.quote_name(MetricsRollup._meta.db_table)
    names = ", ".join(connection.ops.quote_name(MetricsRollup._meta.get_field(c).column) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({names}) {sql}", params)  # noqa: S608 - compiled by the ORM
        return max(cursor.rowcount, 0)


def _fill(*, now: datetime, hours: dict[int, set[datetime]] | None, days: dict[int, set[datetime]] | None) -> int:
    """Insert the rows for the given (team -> hour starts) and (team -> day starts); None: all.

    Hour rows come from the replies (one pass per dimension); day rows are summed from the hour
    rows when the team's time zone allows it (every European zone does), else from the replies."""
    written = 0
    zones = _zones()
    for zone, team_ids in zones.items():
        source = Reply.objects.filter(team_id__in=team_ids)
        if hours is not None:
            condition = Q()
            for team_id in team_ids:
                if hours.get(team_id):
                    wanted = sorted(hours[team_id])
                    # The range lets an index on (team, received_at) narrow the scan; the list is exact.
                    condition |= Q(team_id=team_id, received_at__gte=wanted[0],
                                   received_at__lt=wanted[-1] + timedelta(hours=1), _h__in=wanted)
            if not condition:
                continue
            source = source.annotate(_h=Trunc("received_at", "hour", tzinfo=UTC)).filter(condition)
        for dimension in DIMENSIONS:
            written += _insert(source, grain=MetricsRollup.GRAIN_HOUR, dimension=dimension, zone=zone, now=now)
        if _whole_hour_offsets(zone):
            written += _insert_days_from_hours(team_ids, zone, days)
            continue
        day_source = Reply.objects.filter(team_id__in=team_ids)
        if days is not None:
            condition = Q()
            for team_id in team_ids:
                for start in sorted(days.get(team_id, ())):
                    condition |= Q(team_id=team_id, received_at__gte=start,
                                   received_at__lt=_next_local_day(start, zone))
            day_source = day_source.filter(condition) if condition else day_source.none()
        for dimension in DIMENSIONS:
            written += _insert(day_source, grain=MetricsRollup.GRAIN_DAY, dimension=dimension, zone=zone, now=now)
    return written


def _next_local_day(start: datetime, zone: str) -> datetime:
    local = start.astimezone(ZoneInfo(zone))
    following = datetime(local.year, local.month, local.day, tzinfo=ZoneInfo(zone)) + timedelta(days=1)
    following = datetime(following.year, following.month, following.day, tzinfo=ZoneInfo(zone))
    return following.astimezone(UTC)


def _day_start(moment: datetime, zone: str) -> datetime:
    local = moment.astimezone(ZoneInfo(zone))
    return datetime(local.year, local.month, local.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _hours_of(qs: QuerySet, team: str, received: str) -> set[tuple[int, datetime]]:
    rows = (qs.annotate(_h=Trunc(received, "hour", tzinfo=UTC)).values_list(team, "_h").distinct().order_by())
    return {(team_id, hour.astimezone(UTC)) for team_id, hour in rows}


def _touched(since: datetime, now: datetime) -> dict[int, set[datetime]]:
    """Team -> hour starts (UTC) whose replies changed since ``since``: one scan of the replies
    (stored, updated, or an SLA clock that ran out unanswered), plus the replies of corrections
    made and of events edited since then (small tables first)."""
    changed = Reply.objects.filter(
        Q(updated_at__gte=since) | Q(created_at__gte=since)
        | Q(sla_due_at__gte=since, sla_due_at__lte=now, first_response_at__isnull=True))
    found = _hours_of(changed, "team_id", "received_at")
    corrections = ClassificationCorrection.objects.filter(created_at__gte=since)
    found |= _hours_of(corrections, "reply__team_id", "reply__received_at")
    from campaigns.models import Event

    events = list(Event.objects.filter(updated_at__gte=since).values_list("pk", flat=True))
    if events:
        found |= _hours_of(Reply.objects.filter(message__campaign__event_id__in=events), "team_id", "received_at")
    touched: dict[int, set[datetime]] = defaultdict(set)
    for team_id, hour in found:
        touched[team_id].add(hour)
    return touched


def _claim(now: datetime) -> MetricsRollupState | None:
    state, _ = MetricsRollupState.objects.get_or_create(name=STATE)
    claimed = (MetricsRollupState.objects.filter(pk=state.pk)
               .filter(Q(running_since__isnull=True) | Q(running_since__lt=now - STUCK_AFTER))
               .update(running_since=now, updated_at=now))
    if not claimed:
        return None
    state.refresh_from_db()
    return state


def summary_refresh(*, full: bool = False, now: datetime | None = None) -> int:
    """Bring the summary up to date; returns the rows written (0 when another refresh is running).

    ``full`` (or a first run) rebuilds everything from scratch.
    """
    now = now or timezone.now()
    state = _claim(now)
    if state is None:
        return 0
    written = 0
    try:
        _prepare_connection()
        with transaction.atomic():
            if full or state.watermark is None:
                MetricsRollup.objects.all().delete()
                written = _fill(now=now, hours=None, days=None)
                state.full_at = now
            else:
                hours = _touched(state.watermark - SLACK, now)
                if hours:
                    zones = {pk: zone for zone, pks in _zones().items() for pk in pks}
                    days: dict[int, set[datetime]] = defaultdict(set)
                    for team_id, starts in hours.items():
                        for start in starts:
                            days[team_id].add(_day_start(start, zones.get(team_id, settings.ENGAGE_DEFAULT_TIMEZONE)))
                    stale = Q()
                    for team_id in hours:
                        stale |= Q(team_id=team_id, grain=MetricsRollup.GRAIN_HOUR, period_start__in=hours[team_id])
                        stale |= Q(team_id=team_id, grain=MetricsRollup.GRAIN_DAY, period_start__in=days[team_id])
                    MetricsRollup.objects.filter(stale).delete()
                    written = _fill(now=now, hours=hours, days=days)
            state.watermark = now
            state.refreshed_at = timezone.now()
            state.rows = MetricsRollup.objects.count() if full or written else state.rows
            state.running_since = None
            state.updated_at = timezone.now()
            state.save(update_fields=["watermark", "refreshed_at", "full_at", "rows", "running_since", "updated_at"])
        if (full or written > 10_000) and connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # fresh statistics, or the planner guesses one row
                cursor.execute(f"ANALYZE {connection.ops.quote_name(MetricsRollup._meta.db_table)}")
    finally:
        MetricsRollupState.objects.filter(pk=state.pk, running_since=now).update(running_since=None)
    return written


def summary_state() -> MetricsRollupState | None:
    return MetricsRollupState.objects.filter(name=STATE, watermark__isnull=False).first()


# --- reading ---------------------------------------------------------------------------------------

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
    return GRAIN_MIXED if _whole_hour_offsets(str(scope.tz)) else MetricsRollup.GRAIN_HOUR


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
        else _next_local_day(scope.since, str(scope.tz)))
    last = None if scope.until is None else _day_start(scope.until, str(scope.tz))
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
