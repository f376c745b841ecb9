"""Response: were people answered, and how fast.

Definitions (the same everywhere: API, dashboard, reports, exports):

* **Needing an answer**: replies classified ``question``, ``complaint``, ``emergency``,
  ``rumour`` (someone reporting misinformation), ``crime_report`` and ``information`` (a tip
  deserves an acknowledgement), and replies not classified yet (when in doubt a reply counts
  as needing one: it can only lower the figure). ``praise``, ``abuse`` and ``spam`` do not.
* **Answered**: ``first_response_at`` is set, i.e. an answer was actually sent (an approved
  free-text answer, a template, or the automatic "call 999/112 now" to an urgent reply).
* **Response rate**: answered replies needing an answer, over replies needing an answer.
* **Time to first response**: ``first_response_at - received_at`` (the person's send time),
  over the answered replies that needed an answer; median and 90th percentile, continuous
  (``percentile_cont``), in seconds.
* **SLA compliance**: of the replies with an SLA clock (``sla_due_at``, set from the team's SLA
  policy), those answered by the deadline, over those answered by it plus those that missed it
  (answered late, or still unanswered after it). Replies still inside their clock are
  *pending* and not counted either way.
* **Open backlog**: replies in an open status (new, triaged, assigned, escalated) *now*, by age
  since received; it ignores the period filter, since it is a state, not a flow.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from engage.metrics.sql import Seconds, percentiles, ratio
from engage.models import OPEN_STATUSES, Reply

NEEDS_ANSWER_CATEGORIES = ("question", "complaint", "emergency", "rumour", "crime_report", "information")
NO_ANSWER_CATEGORIES = ("praise", "abuse", "spam")
FRACTIONS = (0.5, 0.9)

# Time-to-first-response histogram: (key, label, lower seconds, upper seconds or None). The labels are
# English in the data and the exports; the desk shows them through gettext (charts.py, dashboard/index.html).
RESPONSE_BUCKETS: tuple[tuple[str, str, int, int | None], ...] = (
    ("lt_5m", gettext_noop("Under 5 min"), 0, 300),
    ("5_15m", gettext_noop("5–15 min"), 300, 900),
    ("15_60m", gettext_noop("15–60 min"), 900, 3600),
    ("1_4h", gettext_noop("1–4 hours"), 3600, 4 * 3600),
    ("4_24h", gettext_noop("4–24 hours"), 4 * 3600, 24 * 3600),
    ("1_3d", gettext_noop("1–3 days"), 24 * 3600, 72 * 3600),
    ("gt_3d", gettext_noop("Over 3 days"), 72 * 3600, None),
)
# Open backlog by age: (key, label, lower seconds, upper seconds or None).
BACKLOG_BUCKETS: tuple[tuple[str, str, int, int | None], ...] = (
    ("lt_1h", gettext_noop("Under 1 hour"), 0, 3600),
    ("1_4h", gettext_noop("1–4 hours"), 3600, 4 * 3600),
    ("4_24h", gettext_noop("4–24 hours"), 4 * 3600, 24 * 3600),
    ("1_3d", gettext_noop("1–3 days"), 24 * 3600, 72 * 3600),
    ("3_7d", gettext_noop("3–7 days"), 72 * 3600, 7 * 24 * 3600),
    ("gt_7d", gettext_noop("Over 7 days"), 7 * 24 * 3600, None),
)


def needs_answer_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}category__in": NEEDS_ANSWER_CATEGORIES}) | Q(**{f"{prefix}category": ""})


def answered_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}first_response_at__isnull": False})


def response_seconds() -> Seconds:
    return Seconds("first_response_at", "received_at")


def sla_conditions(now: datetime) -> dict[str, Q]:
    clock = Q(sla_due_at__isnull=False)
    answered = Q(first_response_at__isnull=False)
    return {
        "sla_met": clock & answered & Q(first_response_at__lte=F("sla_due_at")),
        "sla_missed": clock & ((answered & Q(first_response_at__gt=F("sla_due_at")))
                               | (~answered & Q(sla_due_at__lt=now))),
        "sla_pending": clock & ~answered & Q(sla_due_at__gte=now),
    }


def counts_aggregates(now: datetime) -> dict[str, Count]:
    """The counts every response figure is made of, as conditional aggregates (one pass)."""
    needs = needs_answer_q()
    return {
        "replies": Count("pk"),
        "needing_answer": Count("pk", filter=needs),
        "answered": Count("pk", filter=answered_q()),
        "answered_needing": Count("pk", filter=needs & answered_q()),
        "urgent": Count("pk", filter=Q(urgent=True)),
        **{key: Count("pk", filter=q) for key, q in sla_conditions(now).items()},
    }


def shape_counts(row: dict[str, Any]) -> dict[str, Any]:
    """Rates from the counts of :func:`counts_aggregates`."""
    measured = (row.get("sla_met") or 0) + (row.get("sla_missed") or 0)
    return {
        "replies": row["replies"],
        "needing_answer": row["needing_answer"],
        "answered": row["answered"],
        "answered_needing": row["answered_needing"],
        "response_rate": ratio(row["answered_needing"], row["needing_answer"]),
        "urgent": row.get("urgent", 0),
        "sla": {"met": row.get("sla_met", 0), "missed": row.get("sla_missed", 0),
                "pending": row.get("sla_pending", 0), "measured": measured,
                # Every reply with a deadline: the SLA policy gives praise and abuse one too, and
                # unclassified replies none, so this is not the count needing an answer.
                "with_deadline": measured + (row.get("sla_pending") or 0),
                "rate": ratio(row.get("sla_met", 0), measured)},
    }


def response_times(qs: QuerySet[Reply], *, group: Any = None) -> dict[Any, dict[float, float | None]]:
    """Median and p90 seconds to first response, over answered replies that needed an answer."""
    return percentiles(qs.filter(needs_answer_q()), response_seconds(), FRACTIONS, group=group)


def response_summary(qs: QuerySet[Reply], *, now: datetime | None = None) -> dict[str, Any]:
    """Counts, rate, SLA and the two percentiles: two queries."""
    now = now or timezone.now()
    row = qs.aggregate(**counts_aggregates(now))
    out = shape_counts(row)
    times = response_times(qs).get(None, {})
    out["time_to_first_response"] = {
        "median_seconds": times.get(0.5), "p90_seconds": times.get(0.9), "count": row["answered_needing"]}
    return out


def _between(expression: str, lower: int, upper: int | None) -> Q:
    q = Q(**{f"{expression}__gte": lower})
    if upper is not None:
        q &= Q(**{f"{expression}__lt": upper})
    return q


def response_distribution(qs: QuerySet[Reply]) -> list[dict[str, Any]]:
    """How many answered replies (needing an answer) fell in each time-to-first-response band."""
    rows = qs.filter(needs_answer_q(), answered_q()).annotate(_rt=response_seconds())
    result = rows.aggregate(**{key: Count("pk", filter=_between("_rt", lo, hi))
                               for key, _label, lo, hi in RESPONSE_BUCKETS})
    return [{"key": key, "label": label, "from_seconds": lo, "to_seconds": hi, "replies": result[key]}
            for key, label, lo, hi in RESPONSE_BUCKETS]


def backlog_by_age(qs: QuerySet[Reply], *, now: datetime | None = None) -> dict[str, Any]:
    """Open replies now, by age since received, with how many are past their SLA clock."""
    now = now or timezone.now()
    open_qs = qs.filter(status__in=OPEN_STATUSES)
    # Counting ``received_at`` (never null, so the same as counting rows) rather than the primary key
    # lets PostgreSQL answer from the index ``reply_open_backlog`` alone, without reading the table.
    aggregates: dict[str, Count] = {"open": Count("received_at"),
                                    "overdue": Count("received_at", filter=Q(sla_due_at__lt=now,
                                                                             first_response_at__isnull=True)),
                                    "urgent": Count("received_at", filter=Q(urgent=True))}
    for key, _label, lo, hi in BACKLOG_BUCKETS:
        q = Q(received_at__lte=now - timedelta(seconds=lo)) if lo else Q()
        if hi is not None:
            q &= Q(received_at__gt=now - timedelta(seconds=hi))
        aggregates[f"age_{key}"] = Count("received_at", filter=q)
    result = open_qs.aggregate(**aggregates)
    return {
        "open": result["open"], "overdue": result["overdue"], "urgent": result["urgent"],
        "by_age": [{"key": key, "label": label, "replies": result[f"age_{key}"]}
                   for key, label, _lo, _hi in BACKLOG_BUCKETS],
    }
