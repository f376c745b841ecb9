from __future__ import annotations

from datetime import datetime

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
