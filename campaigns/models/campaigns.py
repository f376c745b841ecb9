from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Campaign(models.Model):
    """The messages of one team, for one event or for standing community engagement."""

    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="campaigns")
    event = models.ForeignKey("campaigns.Event", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="campaigns")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    archived = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class PlaybookTemplate(models.Model):
    """A message template for an event kind and phase, with {event} {hashtag} {time} {place}."""

    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="playbook_templates", help_text="Empty for the shipped library")
    title = models.CharField(max_length=200)
    event_kind = models.CharField(max_length=20, blank=True, help_text="Empty: any kind")
    phase = models.CharField(max_length=10, blank=True, help_text="Empty: any phase")
    purpose = models.CharField(max_length=40, blank=True)
    language = models.CharField(max_length=8, default="en")
    urgency = models.CharField(max_length=10, default="routine")
    body = models.TextField()
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["phase", "title"]
        constraints = [
            models.UniqueConstraint(fields=["team", "title", "language"], name="playbook_unique_title"),
        ]

    def __str__(self) -> str:
        return self.title
