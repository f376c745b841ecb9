"""The local day in the database: the UTC instant of a team's local midnight, on PostgreSQL and
SQLite alike (SQLite gets ``engage_day_start`` from :func:`prepare_connection`), and the same
reckoning in Python. Used by the metrics summary to fill day rows and to read whole days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import DateTimeField, Func, Value
from django.utils import timezone


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


def prepare_connection() -> None:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.create_function("engage_day_start", 2, _sqlite_day_start, deterministic=True)


def next_local_day(start: datetime, zone: str) -> datetime:
    local = start.astimezone(ZoneInfo(zone))
    following = datetime(local.year, local.month, local.day, tzinfo=ZoneInfo(zone)) + timedelta(days=1)
    following = datetime(following.year, following.month, following.day, tzinfo=ZoneInfo(zone))
    return following.astimezone(UTC)


def day_start(moment: datetime, zone: str) -> datetime:
    local = moment.astimezone(ZoneInfo(zone))
    return datetime(local.year, local.month, local.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def whole_hour_offsets(zone: str) -> bool:
    """Whether every local midnight of the zone falls on a UTC hour (then days add up from hours)."""
    tz = ZoneInfo(zone)
    year = timezone.now().year
    return all((datetime(y, m, 1, tzinfo=tz).utcoffset() or timedelta()).total_seconds() % 3600 == 0
               for y in (year - 1, year) for m in range(1, 13))
