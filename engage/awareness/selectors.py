"""Reads for the desk panel, the watch pages and the transparency page. No writes.

The desk's reads go through ``accounts.permissions``: a user sees the watches of the events of the
teams where they hold a desk role (sub-teams included), never another force's."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from accounts import permissions
from accounts.models import User
from accounts.policies import policy_for
from campaigns.models import Event
from engage.awareness.models import Bucket, CandidateStatus, RumourCandidate, Watch, WatchStatus

MIN_TERM_POSTS = 3  # a term shown on the panel was used in at least this many posts
PANEL_HOURS = 24


def watches_for(user: User) -> QuerySet[Watch]:
    return (policy_for(Watch).queryset(user, "view")
            .select_related("event", "event__team", "created_by", "approved_by"))


def watch_for(user: User, pk: int) -> Watch | None:
    return watches_for(user).filter(pk=pk).first()


def event_panel(*, user: User, event: Event, now: datetime | None = None) -> dict[str, Any]:
    """What the event page's awareness panel shows: counts over the last day, the language mix, the
    top terms and the open rumour candidates."""
    now = now or timezone.now()
    watches = list(watches_for(user).filter(event=event).order_by("-window_start"))
    ids = [w.pk for w in watches]
    since = now - timedelta(hours=PANEL_HOURS)
    rows = list(Bucket.objects.filter(watch_id__in=ids, start__gte=since).order_by("start"))
    series: dict[datetime, dict[str, int]] = {}
    languages: Counter[str] = Counter()
    terms: Counter[str] = Counter()
    for bucket in rows:
        slot = series.setdefault(bucket.start, {"volume": 0, "danger": 0})
        slot["volume"] += bucket.volume
        slot["danger"] += bucket.danger
        languages.update(bucket.languages)
        terms.update(bucket.top_terms)
    candidates = list(RumourCandidate.objects.filter(watch_id__in=ids, status=CandidateStatus.OPEN)
                      .order_by("-count", "-last_seen")[:20])
    total = sum(languages.values())
    return {
        "watches": watches,
        "running": [w for w in watches if w.runs_at(now)],
        "pending": [w for w in watches if w.status == WatchStatus.PENDING],
        "series": [{"start": start, **counts} for start, counts in series.items()],
        "volume_total": sum(s["volume"] for s in series.values()),
        "danger_total": sum(s["danger"] for s in series.values()),
        "languages": [{"code": code, "count": n, "percent": round(100 * n / total)} for code, n in languages.most_common(8)],
        "terms": [(term, n) for term, n in terms.most_common(15) if n >= MIN_TERM_POSTS],
        "candidates": candidates,
        "can_set_up": permissions.can_set_up_watch(user, event.team_id),
        "can_decide": permissions.can_decide_candidate(user, event.team_id),
    }


def public_watches() -> QuerySet[Watch]:
    """Every watch that ran or runs (approved, or stopped after approval): the transparency page."""
    return (Watch.objects.filter(status__in=[WatchStatus.APPROVED, WatchStatus.STOPPED], approved_at__isnull=False)
            .select_related("event", "event__team").order_by("-window_start"))
