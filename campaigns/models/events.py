from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class EventKind(models.TextChoices):
    PLANNED = "planned", "Planned event (match, festival, parade, rally)"
    SPONTANEOUS = "spontaneous", "Spontaneous gathering"
    PROTEST = "protest", "Protest"
    DISORDER = "disorder", "Disorder"
    ENCAMPMENT = "encampment", "Encampment"


class Phase(models.TextChoices):
    BEFORE = "before", "Before"
    DURING = "during", "During"
    AFTER = "after", "After"


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


def phase_at(*, starts_at: datetime, ends_at: datetime | None, at: datetime) -> str:
    if at < starts_at:
        return Phase.BEFORE
    if ends_at is None or at < ends_at:
        return Phase.DURING
    return Phase.AFTER


class Event(models.Model):
    """A gathering: a match, a festival, a protest, or an encampment that lasts for weeks."""

    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="events")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    description = models.TextField(blank=True)
    location = models.CharField(max_length=300, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    radius_m = models.PositiveIntegerField(null=True, blank=True)
    polygon = models.JSONField(default=list, blank=True, help_text="[[lat, lon], ...] when not a circle")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Optional for encampments")
    expected_attendance = models.PositiveIntegerField(null=True, blank=True)
    hashtags = models.JSONField(default=list, blank=True)
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices, default=RiskLevel.LOW)
    phase_override = models.CharField(max_length=10, choices=Phase.choices, blank=True)
    # Key facts for the public live page.
    what_to_bring = models.TextField(blank=True)
    prohibited_items = models.TextField(blank=True)
    help_points = models.TextField(blank=True)
    is_public = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # What the public pages show: the last revision a second person published (never this row's
    # working copy). Empty until the first publication, so a new event is not public.
    published_revision = models.ForeignKey("campaigns.EventRevision", null=True, blank=True,
                                           on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["team", "-starts_at"], name="event_team_start")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=models.F("starts_at")),
                name="event_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def computed_phase(self) -> str:
        return phase_at(starts_at=self.starts_at, ends_at=self.ends_at, at=timezone.now())

    @property
    def phase(self) -> str:
        return self.phase_override or self.computed_phase

    @property
    def main_hashtag(self) -> str:
        return self.hashtags[0] if self.hashtags else ""

    def public_snapshot(self) -> dict[str, Any]:
        """The working copy's public fields, as stored in a revision (JSON-ready)."""
        return {name: _to_json(getattr(self, name)) for name in PUBLIC_EVENT_FIELDS}

    def public_version(self) -> Event | None:
        """The event as the public sees it (its published revision), or None if it is not public."""
        revision = self.published_revision
        if revision is None or not self.is_public or not revision.is_public:
            return None
        return revision.as_event(self)


# The fields the public pages, feeds and news items show: an officer's change to any of them is a
# draft revision until a supervisor who did not write it publishes it.
PUBLIC_EVENT_FIELDS = (
    "name", "kind", "description", "location", "latitude", "longitude", "radius_m", "polygon", "starts_at",
    "ends_at", "hashtags", "phase_override", "what_to_bring", "prohibited_items", "help_points", "is_public",
)
_DATETIME_FIELDS = ("starts_at", "ends_at")


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def snapshot_hash(snapshot: dict[str, Any]) -> str:
    payload = json.dumps({k: snapshot.get(k) for k in PUBLIC_EVENT_FIELDS}, sort_keys=True, ensure_ascii=False,
                         separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class EventRevision(models.Model):
    """One version of an event's public fields. Kept for ever; published at most once.

    An officer's save writes a draft revision; a supervisor who wrote none of the drafts since the
    last publication publishes it by its content hash. ``starts_at``, ``ends_at`` and
    ``is_public`` are copies of the snapshot's values, for the public pages' queries.
    """

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    content_hash = models.CharField(max_length=64)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    is_public = models.BooleanField(default=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    author_label = models.CharField(max_length=200, blank=True, help_text="Who wrote it when not a user (seed)")
    created_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["event", "number"], name="event_revision_once")]
        indexes = [models.Index(fields=["event", "published_at"], name="event_revision_published")]

    def __str__(self) -> str:
        return f"{self.event_id} r{self.number}"

    def values(self) -> dict[str, Any]:
        """The snapshot with its times as datetimes."""
        out = {k: self.snapshot.get(k) for k in PUBLIC_EVENT_FIELDS}
        for key in _DATETIME_FIELDS:
            if out.get(key):
                out[key] = datetime.fromisoformat(out[key])
        out["hashtags"] = list(out.get("hashtags") or [])
        out["polygon"] = list(out.get("polygon") or [])
        for key in ("description", "location", "what_to_bring", "prohibited_items", "help_points",
                    "phase_override"):
            out[key] = out.get(key) or ""
        return out

    def as_event(self, event: Event | None = None) -> Event:
        """An unsaved Event carrying only this revision's public fields (for the public pages)."""
        event = event or self.event
        public = Event(pk=event.pk, team_id=event.team_id, created_at=event.created_at, **self.values())
        if Event.team.is_cached(event):
            public.team = event.team
        public.published_revision = self
        return public
