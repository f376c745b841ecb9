"""Every write of a watch's life: set up, approve (a second supervisor), stop; and the desk's two
decisions on a rumour candidate (make a rumour, dismiss). Keyword-only, atomic, audited.

Nothing is watched without a purpose, a window of at most 14 days, a retention of at most 72 hours
and a second supervisor's approval: :meth:`Watch.runs_at` is what the worker checks on every run,
and the database's constraints hold the same limits."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import User
from campaigns.models import Event, Rumour
from campaigns.services.rumours import rumour_create
from core.errors import InvalidInput, NotAllowed, NotFound, WrongState
from core.pii import mask_pii
from core.sanitize import sanitize_text
from engage.awareness.models import (
    MAX_RETENTION_HOURS,
    MAX_WINDOW,
    CandidateStatus,
    RumourCandidate,
    Watch,
    WatchStatus,
)
from platforms.netguard import DestinationRefused, check_url

MAX_PURPOSE = 1000
MAX_SOURCES = 10
_HASHTAG = re.compile(r"^[^\W_][\w]{0,99}$", re.UNICODE)


def _clean_hashtags(hashtags: list[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in hashtags:
        tag = str(raw).strip().lstrip("#")
        if not tag:
            continue
        if not _HASHTAG.match(tag):
            raise InvalidInput(f"“{tag[:40]}” is not a hashtag (letters and digits only).",
                               fields={"hashtags": ["Not a hashtag."]})
        if tag.lower() not in {t.lower() for t in cleaned}:
            cleaned.append(tag)
    return cleaned


def _clean_urls(urls: list[str], field: str) -> list[str]:
    cleaned: list[str] = []
    for raw in urls:
        url = str(raw).strip().rstrip("/") if field == "instances" else str(raw).strip()
        if not url:
            continue
        if len(url) > 500:
            raise InvalidInput("That address is too long.", fields={field: ["Too long."]})
        try:
            check_url(url, resolve=False)
        except DestinationRefused as exc:
            raise InvalidInput(f"{url[:80]}: {exc}", fields={field: [str(exc)]}) from None
        if url not in cleaned:
            cleaned.append(url)
    return cleaned


def _check_setup(*, purpose: str, window_start: datetime, window_end: datetime, retention_hours: int,
                 hashtags: list[str], instances: list[str], feed_urls: list[str], now: datetime) -> None:
    if not purpose:
        raise InvalidInput("Say why this event's public posts are read: nothing is watched without a purpose.",
                           fields={"purpose": ["This field may not be blank."]})
    if len(purpose) > MAX_PURPOSE:
        raise InvalidInput(f"Keep the purpose under {MAX_PURPOSE} characters.", fields={"purpose": ["Too long."]})
    if window_end <= window_start:
        raise InvalidInput("The window must end after it starts.", fields={"window_end": ["Before the start."]})
    if window_end - window_start > MAX_WINDOW:
        raise InvalidInput("A watch lasts at most 14 days in all.", fields={"window_end": ["More than 14 days."]})
    if window_end <= now:
        raise InvalidInput("The window has already ended.", fields={"window_end": ["In the past."]})
    if not 1 <= retention_hours <= MAX_RETENTION_HOURS:
        raise InvalidInput("Post text is kept for 1 to 72 hours.", fields={"retention_hours": ["1 to 72."]})
    if not (hashtags and instances) and not feed_urls:
        raise InvalidInput("Name at least one hashtag with the Mastodon instance to read it on, or a feed.",
                           fields={"hashtags": ["Nothing to watch."]})
    if len(hashtags) > MAX_SOURCES or len(instances) > MAX_SOURCES or len(feed_urls) > MAX_SOURCES:
        raise InvalidInput(f"At most {MAX_SOURCES} hashtags, instances and feeds each.",
                           fields={"hashtags": ["Too many."]})


@transaction.atomic
def watch_create(*, actor: User, event: Event, purpose: str, window_start: datetime, window_end: datetime,
                 retention_hours: int = MAX_RETENTION_HOURS, hashtags: list[str] | None = None,
                 instances: list[str] | None = None, feed_urls: list[str] | None = None) -> Watch:
    """A supervisor of the event's team sets up a watch. It waits for a second supervisor's approval."""
    if not permissions.can_view_team(actor, event.team_id):
        raise NotFound("No such event.")
    if not permissions.can_set_up_watch(actor, event.team_id):
        raise NotAllowed("Only a supervisor of this event's team sets up a watch.")
    purpose = sanitize_text(purpose or "")
    tags = _clean_hashtags(hashtags or [])
    hosts = _clean_urls(instances or [], "instances")
    feeds = _clean_urls(feed_urls or [], "feed_urls")
    _check_setup(purpose=purpose, window_start=window_start, window_end=window_end,
                 retention_hours=int(retention_hours), hashtags=tags, instances=hosts, feed_urls=feeds,
                 now=timezone.now())
    watch = Watch.objects.create(event=event, purpose=purpose, window_start=window_start, window_end=window_end,
                                 retention_hours=int(retention_hours), hashtags=tags, instances=hosts,
                                 feed_urls=feeds, created_by=actor)
    audit_record(actor=actor, verb="awareness.watch.created", target=watch, team=event.team_id,
                 summary={"event": event.pk, "purpose": purpose, "hashtags": tags, "instances": hosts,
                          "feeds": feeds, "window": [window_start.isoformat(), window_end.isoformat()],
                          "retention_hours": int(retention_hours)})
    return watch


def _lock_watch(actor: User, watch_id: int) -> Watch:
    watch = Watch.objects.select_for_update().select_related("event").filter(pk=watch_id).first()
    if watch is None or not permissions.can_view_awareness(actor, watch.event.team_id):
        raise NotFound("No such watch.")
    return watch


@transaction.atomic
def watch_approve(*, actor: User, watch_id: int) -> Watch:
    """A second supervisor approves: from then on the worker reads the sources inside the window."""
    watch = _lock_watch(actor, watch_id)
    if actor.pk == watch.created_by_id:
        raise NotAllowed("You set this watch up: a second supervisor approves it.")
    if not permissions.can_approve_watch(actor, watch):
        raise NotAllowed("Only a supervisor of this event's team approves a watch.")
    if watch.status != WatchStatus.PENDING:
        raise WrongState("This watch is not waiting for approval.")
    now = timezone.now()
    if watch.window_end <= now:
        raise WrongState("This watch's window has ended.")
    watch.status, watch.approved_by, watch.approved_at = WatchStatus.APPROVED, actor, now
    watch.save(update_fields=["status", "approved_by", "approved_at"])
    audit_record(actor=actor, verb="awareness.watch.approved", target=watch, team=watch.event.team_id,
                 summary={"event": watch.event_id, "set_up_by": watch.created_by_id})
    return watch


@transaction.atomic
def watch_stop(*, actor: User | None, watch_id: int, reason: str = "stopped") -> Watch:
    """Stop a watch now (a supervisor; or the worker, ``actor=None``, at the window's end). A
    pending watch that is stopped was refused."""
    if actor is None:
        watch = Watch.objects.select_for_update().select_related("event").get(pk=watch_id)
    else:
        watch = _lock_watch(actor, watch_id)
        if not permissions.can_set_up_watch(actor, watch.event.team_id):
            raise NotAllowed("Only a supervisor of this event's team stops a watch.")
    if watch.status not in (WatchStatus.PENDING, WatchStatus.APPROVED):
        raise WrongState("This watch has already stopped.")
    refused = watch.status == WatchStatus.PENDING
    watch.status = WatchStatus.REFUSED if refused else WatchStatus.STOPPED
    watch.stopped_at = timezone.now()
    watch.save(update_fields=["status", "stopped_at"])
    audit_record(actor=actor, verb="awareness.watch.refused" if refused else "awareness.watch.stopped",
                 target=watch, team=watch.event.team_id, summary={"event": watch.event_id, "reason": reason})
    return watch


def _lock_candidate(actor: User, candidate_id: int) -> RumourCandidate:
    candidate = (RumourCandidate.objects.select_for_update().select_related("watch__event")
                 .filter(pk=candidate_id).first())
    if candidate is None or not permissions.can_view_awareness(actor, candidate.watch.event.team_id):
        raise NotFound("No such rumour candidate.")
    if not permissions.can_decide_candidate(actor, candidate.watch.event.team_id):
        raise NotAllowed("Only a supervisor of this event's team decides on a rumour candidate.")
    if candidate.status != CandidateStatus.OPEN:
        raise WrongState("This candidate has already been decided.")
    return candidate


@transaction.atomic
def candidate_promote(*, actor: User, candidate_id: int) -> Rumour:
    """Make a rumour of the candidate on the event's board: it goes through the board's own approval."""
    candidate = _lock_candidate(actor, candidate_id)
    rumour = rumour_create(actor=actor, event=candidate.watch.event, claim=mask_pii(candidate.claim))
    candidate.status, candidate.rumour = CandidateStatus.PROMOTED, rumour
    candidate.decided_by, candidate.decided_at = actor, timezone.now()
    candidate.save(update_fields=["status", "rumour", "decided_by", "decided_at"])
    audit_record(actor=actor, verb="awareness.candidate.promoted", target=candidate,
                 team=candidate.watch.event.team_id, summary={"watch": candidate.watch_id, "rumour": rumour.pk})
    return rumour


@transaction.atomic
def candidate_dismiss(*, actor: User, candidate_id: int) -> RumourCandidate:
    candidate = _lock_candidate(actor, candidate_id)
    candidate.status, candidate.decided_by, candidate.decided_at = CandidateStatus.DISMISSED, actor, timezone.now()
    candidate.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(actor=actor, verb="awareness.candidate.dismissed", target=candidate,
                 team=candidate.watch.event.team_id, summary={"watch": candidate.watch_id})
    return candidate


def panel_viewed(*, actor: User, event: Event) -> None:
    """Every view of the awareness panel is in the audit trail."""
    audit_record(actor=actor, verb="awareness.panel.viewed", target=event, team=event.team_id,
                 summary={"event": event.pk})


def next_window_default(event: Event) -> tuple[datetime, datetime]:
    """A suggested window: from a day before the event to a day after it (within 14 days)."""
    start = event.starts_at - timedelta(days=1)
    end = (event.ends_at or event.starts_at) + timedelta(days=1)
    return start, min(end, start + MAX_WINDOW)
