"""Filling the metrics summary table (:class:`engage.models.MetricsRollup`):
:func:`summary_refresh`, every minute from the beat and a full rebuild nightly. What the table
holds and when it is read: :mod:`engage.metrics.summary`.

The hours touched since the last refresh are recomputed, delete-and-insert in one transaction,
with ``INSERT ... SELECT ... GROUP BY`` in the database (nothing goes through Python row by
row; a reply's segment set is a correlated ``string_agg`` / ``group_concat`` subquery). Touched
means a reply stored or updated (``updated_at``), a correction made, an event's times changed,
or an SLA clock that ran out unanswered, since the last refresh less two minutes (for
transactions that committed late). A deleted reply (erasure), or a change to the segments of a
message already answered, leaves its hours stale until the nightly rebuild.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    CharField,
    Count,
    F,
    FloatField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce, Concat, Trunc
from django.utils import timezone

from accounts.models import Team
from campaigns.models import Message
from engage.metrics.localday import (
    LocalDayStart,
    day_start,
    next_local_day,
    prepare_connection,
    whole_hour_offsets,
)
from engage.metrics.response import answered_q, needs_answer_q, response_seconds, sla_conditions
from engage.metrics.scope import phase_expression
from engage.models import ClassificationCorrection, MetricsRollup, MetricsRollupState, Reply
from engage.models.metrics import BAND_FIELDS, RESPONSE_BANDS

STATE = "replies"
SLACK = timedelta(minutes=2)
STUCK_AFTER = timedelta(minutes=15)
DIMENSIONS = (MetricsRollup.CATEGORY, MetricsRollup.LANGUAGE, MetricsRollup.LANGUAGE_CATEGORY)
COUNT_FIELDS = ("replies", "needing", "answered", "answered_needing", "urgent", "processed", "corrected_category",
                "corrected_sentiment", "sla_met", "sla_missed", "sla_pending", "positive", "neutral", "negative",
                "sentiment_unknown", "sentiment_unclassified")
KEY_FIELDS = ("team_id", "grain", "period_start", "dimension", "value", "campaign_id", "event_id", "phase",
              "channel_id", "segments")


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


def _insert_days_from_hours(team_ids: list[int], zone: str, days: dict[int, set[datetime]] | None) -> int:
    """Day rows as sums of the hour rows (exact when the zone's midnights are whole UTC hours)."""
    source = MetricsRollup.objects.filter(team_id__in=team_ids, grain=MetricsRollup.GRAIN_HOUR)
    if days is not None:
        condition = Q()
        for team_id in team_ids:
            for start in sorted(days.get(team_id, ())):
                condition |= Q(team_id=team_id, period_start__gte=start,
                               period_start__lt=next_local_day(start, zone))
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
        if whole_hour_offsets(zone):
            written += _insert_days_from_hours(team_ids, zone, days)
            continue
        day_source = Reply.objects.filter(team_id__in=team_ids)
        if days is not None:
            condition = Q()
            for team_id in team_ids:
                for start in sorted(days.get(team_id, ())):
                    condition |= Q(team_id=team_id, received_at__gte=start,
                                   received_at__lt=next_local_day(start, zone))
            day_source = day_source.filter(condition) if condition else day_source.none()
        for dimension in DIMENSIONS:
            written += _insert(day_source, grain=MetricsRollup.GRAIN_DAY, dimension=dimension, zone=zone, now=now)
    return written


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
        prepare_connection()
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
                            days[team_id].add(day_start(start, zones.get(team_id, settings.ENGAGE_DEFAULT_TIMEZONE)))
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
