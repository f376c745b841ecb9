"""Did our answers help? The anonymous yes/no votes (``AnswerFeedback``), overall and per segment.

* **helped rate** = yes / (yes + no), None without votes. Only people who chose to answer the
  question are counted, so it is not "the share of people helped"; read it with ``votes``.
* **asked**: answers in scope sent with the question (``ReplyAnswer.feedback_requested``). Votes
  over asked is the share who answered the question. Asked is counted by the replies in scope
  (their ``received_at`` for the period); votes by the hour they were cast: close, not identical.
* **Filters**: team, event, campaign, segment, channel, language and phase as for every metric
  (``engage.metrics.scope``), from the keys copied onto each vote; the period (``since``,
  ``until``) applies to the hour of the vote.
* **Segments**: a vote counts once for each segment the answered message targeted, so segment rows
  do not add up (as everywhere in the metrics). Votes on answers to replies with no segment (the
  general contact form, a direct message) count only in the overall figures.

Three queries, whatever the number of votes.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from accounts.policies import policy_for
from engage.metrics.scope import Scope, replies
from engage.metrics.sql import ratio
from engage.models import AnswerFeedback, ReplyAnswer

FEW_VOTES = 10  # below this the rate says little: the table marks it


def feedback_in_scope(scope: Scope) -> QuerySet[AnswerFeedback]:
    qs = policy_for(AnswerFeedback).restrict(AnswerFeedback.objects.all(), scope.team_ids)
    if scope.event is not None:
        qs = qs.filter(event_id=scope.event.pk)
    if scope.campaign is not None:
        qs = qs.filter(campaign_id=scope.campaign.pk)
    if scope.segment is not None:
        qs = qs.filter(segments=scope.segment.pk)
    if scope.channel is not None:
        qs = qs.filter(channel_id=scope.channel.pk)
    if scope.language:
        qs = qs.filter(language=scope.language)
    if scope.phase:
        qs = qs.filter(phase=scope.phase)
    if scope.since is not None:
        qs = qs.filter(created_at__gte=scope.since)
    if scope.until is not None:
        qs = qs.filter(created_at__lt=scope.until)
    return qs


def _figures(yes: int, no: int) -> dict[str, Any]:
    votes = yes + no
    return {"yes": yes, "no": no, "votes": votes, "rate": ratio(yes, votes), "few_votes": votes < FEW_VOTES}


def helpfulness(scope: Scope) -> dict[str, Any]:
    """``{"overall": {yes, no, votes, rate, few_votes, asked}, "segments": [{segment, name, yes, no,
    votes, rate, few_votes}, ...]}``, segments by name."""
    qs = feedback_in_scope(scope)
    totals = qs.aggregate(yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False)))
    through = AnswerFeedback.segments.through
    rows = (through.objects.filter(answerfeedback__in=qs.values("pk"))
            .values("segment_id", "segment__name")
            .annotate(yes=Count("pk", filter=Q(answerfeedback__helpful=True)),
                      no=Count("pk", filter=Q(answerfeedback__helpful=False)))
            .order_by("segment__name", "segment_id"))
    asked = ReplyAnswer.objects.filter(feedback_requested=True, reply__in=replies(scope).values("pk")).count()
    overall = {**_figures(totals["yes"] or 0, totals["no"] or 0), "asked": asked}
    overall["answered_share"] = ratio(overall["votes"], asked) if asked else None
    return {
        "overall": overall,
        "segments": [{"segment": row["segment_id"], "name": row["segment__name"], **_figures(row["yes"], row["no"])}
                     for row in rows],
    }

