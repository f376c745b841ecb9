"""Voice: what people say to us. Volume by category, sentiment over time, how often a person had
to correct the classifier, and rumours raised and resolved.

* **Corrected by people**: of the replies the classifier processed, the share whose category
  (or sentiment) a liaison officer changed (``ClassificationCorrection`` rows); a reply corrected
  twice counts once.
* **Rumours** are the campaigns room's rumour register for the events in scope: *raised* (claims
  registered in the period), *decided* (a supervisor gave a public status: confirmed, false or
  unverified), and the median time from registering to that first public decision. The register
  is per event, so the segment, channel and language filters do not apply to it.
* **Corrections published**: public rumour status decisions (the corrections log) plus messages
  published as corrections of an earlier message (``Message.correction_of``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Trunc
from django.utils.translation import gettext_noop

from accounts.policies import policy_for
from campaigns.models import Message, MessageStatus, Rumour, RumourChange, RumourStatus
from engage.metrics.response import answered_q, needs_answer_q
from engage.metrics.scope import Scope
from engage.metrics.sql import Seconds, percentiles, ratio
from engage.models import ClassificationCorrection, Reply

SENTIMENTS = ("positive", "neutral", "negative", "unknown", "unclassified")
CATEGORY_ORDER = ("question", "information", "complaint", "praise", "rumour", "emergency", "crime_report", "abuse",
                  "spam", "unclassified")
CATEGORY_LABELS = {  # shown in the desk's language by engage.metrics.charts (the API and the report: English)
    "question": gettext_noop("Question"), "information": gettext_noop("Information (a tip)"),
    "complaint": gettext_noop("Complaint"), "praise": gettext_noop("Praise"), "rumour": gettext_noop("Rumour report"),
    "emergency": gettext_noop("Emergency"), "crime_report": gettext_noop("Crime report"), "abuse": gettext_noop("Abuse"),
    "spam": gettext_noop("Spam"), "unclassified": gettext_noop("Not classified yet"),
}
INTERVALS = ("hour", "day")


def _corrected(field: str) -> Exists:
    return Exists(ClassificationCorrection.objects.filter(reply_id=OuterRef("pk"), field=field))


def corrections_share(qs: QuerySet[Reply]) -> dict[str, Any]:
    """How many processed replies a person re-classified (category, sentiment), and the share."""
    row = qs.filter(processed_at__isnull=False).aggregate(
        processed=Count("pk"),
        category=Count("pk", filter=Q(_corrected("category"))),
        sentiment=Count("pk", filter=Q(_corrected("sentiment"))),
    )
    return {
        "processed": row["processed"],
        "category_corrected": row["category"],
        "category_share": ratio(row["category"], row["processed"]),
        "sentiment_corrected": row["sentiment"],
        "sentiment_share": ratio(row["sentiment"], row["processed"]),
        "category_accuracy": None if not row["processed"] else round(1 - row["category"] / row["processed"], 4),
    }


def volume_by_category(qs: QuerySet[Reply]) -> list[dict[str, Any]]:
    """Replies per category, with how many of them needed and got an answer."""
    rows = (qs.values("category").annotate(replies=Count("pk"),
                                          needing=Count("pk", filter=needs_answer_q()),
                                          answered=Count("pk", filter=answered_q()))
            .order_by())
    by_key = {(row["category"] or "unclassified"): row for row in rows}
    ordered = [k for k in CATEGORY_ORDER if k in by_key] + sorted(k for k in by_key if k not in CATEGORY_ORDER)
    return [{"category": key, "label": CATEGORY_LABELS.get(key, key.replace("_", " ").capitalize()),
             "replies": by_key[key]["replies"], "answered": by_key[key]["answered"],
             "needs_answer": bool(by_key[key]["needing"])}
            for key in ordered]


def sentiment_counts(qs: QuerySet[Reply]) -> dict[str, int]:
    rows = qs.values("sentiment").annotate(n=Count("pk")).order_by()
    counts = {key: 0 for key in SENTIMENTS}
    for row in rows:
        key = row["sentiment"] or "unclassified"
        counts[key] = counts.get(key, 0) + row["n"]
    return counts


def bucket(interval: str, tz: Any) -> Trunc:
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {INTERVALS}")
    return Trunc("received_at", interval, tzinfo=tz)


def sentiment_series(qs: QuerySet[Reply], *, interval: str, tz: Any) -> list[dict[str, Any]]:
    """Per hour or day (in the team's time zone): replies by sentiment. Only buckets with replies;
    :func:`engage.metrics.series.fill` adds the empty ones."""
    rows = (qs.annotate(_t=bucket(interval, tz)).values("_t", "sentiment").annotate(n=Count("pk"))
            .order_by("_t"))
    points: dict[datetime, dict[str, Any]] = {}
    for row in rows:
        point = points.setdefault(row["_t"], {"t": row["_t"], **{k: 0 for k in SENTIMENTS}})
        key = row["sentiment"] or "unclassified"
        point[key] = point.get(key, 0) + row["n"]
    return list(points.values())


# --- rumours and corrections --------------------------------------------------------------------

def rumours_in_scope(scope: Scope) -> QuerySet[Rumour]:
    qs = policy_for(Rumour).restrict(Rumour.objects.all(), scope.team_ids)
    if scope.event is not None:
        qs = qs.filter(event_id=scope.event.pk)
    if scope.campaign is not None and scope.campaign.event_id:
        qs = qs.filter(event_id=scope.campaign.event_id)
    if scope.since is not None:
        qs = qs.filter(created_at__gte=scope.since)
    if scope.until is not None:
        qs = qs.filter(created_at__lt=scope.until)
    return qs


def rumour_summary(scope: Scope) -> dict[str, Any]:
    qs = rumours_in_scope(scope)
    row = qs.aggregate(
        raised=Count("pk"),
        decided=Count("pk", filter=Q(published_at__isnull=False)),
        confirmed=Count("pk", filter=Q(published_at__isnull=False, status=RumourStatus.CONFIRMED)),
        false=Count("pk", filter=Q(published_at__isnull=False, status=RumourStatus.FALSE)),
        unverified=Count("pk", filter=Q(published_at__isnull=False, status=RumourStatus.UNVERIFIED)),
    )
    times = percentiles(qs, Seconds("published_at", "created_at"), (0.5,)).get(None, {})
    return {
        **row,
        "awaiting_decision": row["raised"] - row["decided"],
        "resolved": row["confirmed"] + row["false"],
        "median_seconds_to_decision": times.get(0.5),
    }


def rumour_list(scope: Scope, *, limit: int = 50) -> list[dict[str, Any]]:
    """The rumours themselves (claims and public explanations are public text, not personal data)."""
    rows = (rumours_in_scope(scope).select_related("event")
            .annotate(changes_count=Count("changes")).order_by("created_at", "id")[:limit])
    return [{"id": r.pk, "event": r.event.name, "claim": r.claim, "status": r.status,
             "raised_at": r.created_at, "published_at": r.published_at, "changes": r.changes_count,
             "explanation": r.explanation} for r in rows]


def corrections_published(scope: Scope) -> dict[str, int]:
    changes = policy_for(RumourChange).restrict(RumourChange.objects.all(), scope.team_ids)
    messages = policy_for(Message).restrict(Message.objects.all(), scope.team_ids).filter(
        correction_of__isnull=False, status__in=(MessageStatus.PUBLISHED, MessageStatus.PARTIALLY_PUBLISHED))
    if scope.event is not None:
        changes = changes.filter(rumour__event_id=scope.event.pk)
        messages = messages.filter(campaign__event_id=scope.event.pk)
    if scope.since is not None:
        changes = changes.filter(created_at__gte=scope.since)
        messages = messages.filter(published_at__gte=scope.since)
    if scope.until is not None:
        changes = changes.filter(created_at__lt=scope.until)
        messages = messages.filter(published_at__lt=scope.until)
    rumour_decisions = changes.count()
    correction_messages = messages.count()
    return {"rumour_decisions": rumour_decisions, "correction_messages": correction_messages,
            "total": rumour_decisions + correction_messages}
