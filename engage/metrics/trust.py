"""``GET /api/v1/metrics/trust/``: the contract's figures in one call.

The keys are a superset of what the endpoint returned before this module (``replies``,
``answered``, ``needing_answer``, ``response_rate``, ``time_to_first_response``, ``sla``,
``urgent``, ``sentiment``, ``by_category``, ``classification``, ``filters``), so the view can
call :func:`trust_metrics` without changing its shape. The definitions are in
:mod:`engage.metrics.response` and :mod:`engage.metrics.voice`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count
from django.utils import timezone

from engage.metrics.helpfulness import helpfulness
from engage.metrics.response import response_summary
from engage.metrics.scope import replies, resolve_scope
from engage.metrics.summary import categories as summary_categories
from engage.metrics.summary import choose_source, grain_for, sentiment_totals
from engage.metrics.summary import corrections as summary_corrections
from engage.metrics.summary import response_summary as summary_response
from engage.metrics.voice import corrections_share, sentiment_counts


def trust_metrics(
    *,
    user: Any,
    event: Any = None,
    segment: Any = None,
    channel: Any = None,
    since: datetime | None = None,
    until: datetime | None = None,
    team: Any = None,
    campaign: Any = None,
    language: str = "",
    phase: str = "",
) -> dict[str, Any]:
    """Response rate, median and p90 seconds to first response, SLA, sentiment counts and volume by
    category for the user's teams (live, or from the summary table for large scopes: ``source``), and
    the "Did this answer help?" votes. Another team's event, segment, channel, campaign or team raises
    :class:`core.errors.NotFound`. A fixed number of queries, whatever the number of replies
    (eight after the scope is resolved, live)."""
    scope = resolve_scope(user=user, team=team, event=event, campaign=campaign, segment=segment, channel=channel,
                          language=language, phase=phase, since=since, until=until)
    now = timezone.now()
    source, state = choose_source(scope)
    if source == "summary":
        grain = grain_for(scope)
        figures = summary_response(scope, grain)
        sums = figures.pop("_sums")
        sentiment = sentiment_totals(sums)
        categories = {row["category"]: row["replies"] for row in summary_categories(scope, grain)}
        corrections = summary_corrections(sums)
    else:
        qs = replies(scope)
        figures = response_summary(qs, now=now)
        sentiment = sentiment_counts(qs)
        categories = {(row["category"] or "unclassified"): row["n"]
                      for row in qs.values("category").annotate(n=Count("pk")).order_by()}
        corrections = corrections_share(qs)
    return {
        **figures,
        "sentiment": sentiment,
        "by_category": dict(sorted(categories.items())),
        "classification": {
            "processed": corrections["processed"],
            "corrected": corrections["category_corrected"],
            "accuracy": corrections["category_accuracy"],
            "sentiment_corrected": corrections["sentiment_corrected"],
        },
        "helpfulness": helpfulness(scope),  # "Did this answer help?" votes (additive, issue 8)
        "filters": scope.as_dict(),
        "source": source,
        "as_of": (state.watermark if state is not None else now).isoformat(),
        "percentiles": "interpolated within response-time bands" if source == "summary"
        else "exact (continuous, percentile_cont)",
    }
