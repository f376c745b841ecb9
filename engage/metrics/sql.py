"""SQL building blocks for the metrics, correct on PostgreSQL and SQLite.

* :class:`Seconds` is the time between two timestamps in seconds, computed by the database:
  ``EXTRACT(EPOCH FROM a - b)`` on PostgreSQL; on SQLite Django's own ``django_timestamp_diff``
  (exact, in microseconds) divided by a million.
* :func:`percentiles` is the *continuous* percentile (linear interpolation between the two
  nearest ranks, the definition of PostgreSQL's ``percentile_cont`` and of numpy's default):
  for ``n`` sorted values and a fraction ``f``, the position is ``f * (n - 1)`` and the result is
  ``v[lo] + (v[lo + 1] - v[lo]) * (position - lo)``. On PostgreSQL it is the ordered-set aggregate
  itself, one query for any number of groups and fractions. Elsewhere one query ranks the rows
  with window functions (``ROW_NUMBER`` and ``COUNT`` over a partition) and returns only the one or
  two rows each fraction needs, at most four per group: never the whole column.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Any

from django.db import NotSupportedError, connection
from django.db.models import (
    Aggregate,
    Count,
    Expression,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    Window,
)
from django.db.models.functions import Floor, RowNumber


class Seconds(Func):
    """``end - start`` in seconds (float); NULL when either is NULL."""

    arity = 2
    output_field = FloatField()

    def __init__(self, end: Any, start: Any, **extra: Any) -> None:
        super().__init__(end, start, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM (%(expressions)s))",
                           arg_joiner=" - ", **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return self.as_sql(compiler, connection, template="(django_timestamp_diff(%(expressions)s) / 1000000.0)",
                           arg_joiner=", ", **extra)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        if connection.vendor not in ("postgresql", "sqlite"):
            raise NotSupportedError(f"Metrics support PostgreSQL and SQLite, not {connection.vendor}.")
        return super().as_sql(compiler, connection, **extra)


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(f) WITHIN GROUP (ORDER BY expr)``."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()
    allow_distinct = False

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        if not 0.0 <= float(fraction) <= 1.0:
            raise ValueError("A percentile's fraction is between 0 and 1.")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def _key(fraction: float) -> str:
    return f"p{round(fraction * 1000):04d}"


def percentiles(
    qs: QuerySet,
    value: Expression,
    fractions: Sequence[float],
    *,
    group: Expression | None = None,
) -> dict[Hashable, dict[float, float | None]]:
    """``{group value: {fraction: percentile}}`` of ``value`` over ``qs`` (rows where it is not NULL).

    Without ``group`` the only key is ``None``. Groups with no value are absent.
    """
    fractions = [float(f) for f in fractions]
    rows = qs.annotate(_pv=value).filter(_pv__isnull=False)
    if connection.vendor == "postgresql":
        aggregates = {_key(f): PercentileCont(F("_pv"), f) for f in fractions}
        if group is None:
            result = rows.aggregate(**aggregates)
            if all(v is None for v in result.values()):
                return {}
            return {None: {f: _round(result[_key(f)]) for f in fractions}}
        grouped = rows.annotate(_pg=group).values("_pg").annotate(**aggregates).order_by()
        return {row["_pg"]: {f: _round(row[_key(f)]) for f in fractions} for row in grouped}
    return _percentiles_by_rank(rows, fractions, group)


def _percentiles_by_rank(rows: QuerySet, fractions: list[float], group: Expression | None
                         ) -> dict[Hashable, dict[float, float | None]]:
    partition = [group] if group is not None else []
    ranked = rows.annotate(
        _pgrp=group if group is not None else Value(0, output_field=IntegerField()),
        _rn=Window(RowNumber(), partition_by=partition or None, order_by=[F("_pv").asc(), F("pk").asc()]),
        _cnt=Window(Count("pk"), partition_by=partition or None),
    )
    wanted = Q()
    for f in fractions:
        low = Floor(Value(f) * (F("_cnt") - 1))
        wanted |= Q(_rn=low + 1) | Q(_rn=low + 2)
    picked: dict[Hashable, dict[int, float]] = defaultdict(dict)
    counts: dict[Hashable, int] = {}
    for grp, rn, cnt, v in ranked.filter(wanted).values_list("_pgrp", "_rn", "_cnt", "_pv"):
        picked[grp][int(rn)] = float(v)
        counts[grp] = int(cnt)
    out: dict[Hashable, dict[float, float | None]] = {}
    for grp, by_rank in picked.items():
        n = counts[grp]
        values: dict[float, float | None] = {}
        for f in fractions:
            position = f * (n - 1)
            low = math.floor(position)
            first = by_rank.get(low + 1)
            second = by_rank.get(low + 2, first)
            if first is None:
                values[f] = None
            else:
                values[f] = _round(first + (second - first) * (position - low))
        out[None if group is None else grp] = values
    return out


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def ratio(numerator: int | None, denominator: int | None, digits: int = 4) -> float | None:
    """``numerator / denominator`` rounded, or None when there is nothing to divide by."""
    if not denominator:
        return None
    return round((numerator or 0) / denominator, digits)


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (95% by default); None for n = 0."""
    if n <= 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)
