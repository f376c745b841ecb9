"""The public transparency page's figures: anonymised aggregates only.

Per force (a top-level team, its units included), for the last 30 and 90 days (whole days in
its time zone): replies that needed an answer, how many were answered, the median time to a
first answer, and corrections published (public rumour decisions and correction messages).
And per public event of the last 90 days, the same reply figures.

Nothing personal is shown: no text, no handle, no per-person figure. A figure built from fewer
than :data:`MIN_COUNT` replies is not shown ("fewer than 10"), so a small group cannot be picked
out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from accounts.models import Team
from accounts.policies import policy_for
from campaigns.models import Event
from engage.metrics import response, summary, voice
from engage.metrics.scope import Scope, _descendants, _zone, replies

MIN_COUNT = 10
PERIOD_DAYS = (30, 90)


def _figures(scope: Scope, now: datetime) -> dict[str, Any]:
    source, _state = summary.choose_source(scope)
    if source == "summary":
        figures = summary.response_summary(scope, summary.grain_for(scope))
    else:
        figures = response.response_summary(replies(scope), now=now)
    needing = figures["needing_answer"]
    shown = needing >= MIN_COUNT
    return {
        "needing_answer": needing if shown else None,
        "answered": figures["answered_needing"] if shown else None,
        "response_rate": figures["response_rate"] if shown else None,
        "median_seconds": figures["time_to_first_response"]["median_seconds"] if shown else None,
        "suppressed": not shown,
    }


def transparency_figures(*, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    forces = []
    for force in Team.objects.filter(parent__isnull=True).order_by("name"):
        teams = frozenset(_descendants(force.pk))
        zone = _zone(force.timezone)
        today = now.astimezone(zone).date()
        periods = []
        for days in PERIOD_DAYS:
            start = today - timedelta(days=days - 1)
            since = datetime(start.year, start.month, start.day, tzinfo=zone)
            scope = Scope(team_ids=teams, team=force, since=since, tz=zone)
            periods.append({"days": days, **_figures(scope, now),
                            "corrections": voice.corrections_published(scope)["total"]})
        events = []
        # Names and times as published (never an unpublished draft's).
        recent = (policy_for(Event).restrict(Event.objects.all(), teams)
                  .filter(is_public=True, published_revision__is_public=True, published_revision__starts_at__lte=now)
                  .filter(Q(published_revision__ends_at__isnull=True)
                          | Q(published_revision__ends_at__gte=now - timedelta(days=90)))
                  .select_related("published_revision").order_by("-published_revision__starts_at")[:10])
        for event in recent:
            figures = _figures(Scope(team_ids=teams, event=event, tz=zone), now)
            if not figures["suppressed"]:
                shown = event.published_revision.as_event(event)
                events.append({"name": shown.name, "starts_at": shown.starts_at, "ends_at": shown.ends_at,
                               **figures})
        forces.append({"name": force.name, "periods": periods, "events": events})
    return {"forces": forces, "generated_at": now, "min_count": MIN_COUNT}
