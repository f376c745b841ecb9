"""Rumour control: claims seen about an event, and what we say about them.

An officer registers a claim they have seen ("the bridge has collapsed"). It stays off the
public pages until a supervisor gives it a status (``confirmed``, ``false`` or ``unverified``)
with an explanation: the same two-person idea as messages. Every status change is kept as a
``RumourChange`` row, and those rows are the public corrections log; they are never edited.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class RumourStatus(models.TextChoices):
    UNVERIFIED = "unverified", "Unverified"
    CONFIRMED = "confirmed", "Confirmed"
    FALSE = "false", "False"


class Rumour(models.Model):
    event = models.ForeignKey("campaigns.Event", on_delete=models.PROTECT, related_name="rumours")
    claim = models.CharField(max_length=500, help_text="The claim as people are repeating it")
    status = models.CharField(max_length=12, choices=RumourStatus.choices, default=RumourStatus.UNVERIFIED)
    explanation = models.TextField(blank=True, help_text="What we know, in plain words (public)")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Set by a supervisor's first status decision: until then only staff see the claim.
    published_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-status_changed_at", "-created_at", "-id"]
        indexes = [models.Index(fields=["event", "published_at"], name="rumour_event_public")]

    def __str__(self) -> str:
        return self.claim[:80]

    @property
    def is_public(self) -> bool:
        return self.published_at is not None


class RumourChange(models.Model):
    """One status decision: the public corrections log. Append-only by convention of the services."""

    rumour = models.ForeignKey(Rumour, on_delete=models.CASCADE, related_name="changes")
    previous_status = models.CharField(max_length=12, choices=RumourStatus.choices, blank=True)
    status = models.CharField(max_length=12, choices=RumourStatus.choices)
    explanation = models.TextField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Rumour {self.rumour_id}: {self.previous_status or 'new'} -> {self.status}"
