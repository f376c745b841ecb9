"""Rumour control: claims seen about an event, and what we say about them.

An officer registers a claim they have seen ("the bridge has collapsed"). It stays off the
public pages until a verdict (``confirmed``, ``false`` or ``unverified``, with an explanation) is
published: one person writes the verdict as a ``RumourVerdict`` version, and a supervisor who
wrote neither that version nor (for the first verdict) the claim publishes it, the two-person rule
of messages. In an emergency a supervisor may publish their own version at once; it then waits for
a second supervisor's review. ``Rumour.status`` and ``explanation`` only ever hold the published
verdict. Every published verdict is kept as a ``RumourChange`` row, and those rows are the public
corrections log; they are never edited.
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


class RumourVerdict(models.Model):
    """One version of what we say about a rumour, written by one person. Never edited: a change is
    a new version. Published at most once, by a supervisor who did not write it (or, flagged
    ``emergency``, by its author, then reviewed by a second supervisor)."""

    rumour = models.ForeignKey(Rumour, on_delete=models.CASCADE, related_name="verdicts")
    number = models.PositiveIntegerField()
    claim = models.CharField(max_length=500, help_text="The claim as it will be shown")
    status = models.CharField(max_length=12, choices=RumourStatus.choices)
    explanation = models.TextField()
    content_hash = models.CharField(max_length=64)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    # A newer version was written (or another published) before this one was: it can no longer be.
    superseded_at = models.DateTimeField(null=True, blank=True)
    emergency = models.BooleanField(default=False, help_text="Self-published by its author in an emergency")
    emergency_reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                              on_delete=models.PROTECT, related_name="+")
    emergency_reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["rumour", "number"], name="rumour_verdict_once")]

    def __str__(self) -> str:
        return f"Rumour {self.rumour_id} v{self.number}: {self.status}"

    @property
    def is_pending(self) -> bool:
        return self.published_at is None and self.superseded_at is None


class RumourChange(models.Model):
    """One status decision: the public corrections log. Append-only by convention of the services."""

    rumour = models.ForeignKey(Rumour, on_delete=models.CASCADE, related_name="changes")
    previous_status = models.CharField(max_length=12, choices=RumourStatus.choices, blank=True)
    status = models.CharField(max_length=12, choices=RumourStatus.choices)
    explanation = models.TextField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    verdict = models.OneToOneField(RumourVerdict, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="change", help_text="The published version this row records")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Rumour {self.rumour_id}: {self.previous_status or 'new'} -> {self.status}"
