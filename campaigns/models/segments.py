from __future__ import annotations

from django.db import models
from django.utils import timezone


class Need(models.TextChoices):
    EASY_READ = "easy_read", "Easy read"
    LARGE_TEXT = "large_text", "Large text"
    SCREEN_READER = "screen_reader", "Screen reader"
    SIGN_LANGUAGE_VIDEO = "sign_language_video", "Sign-language video"
    LOW_BANDWIDTH = "low_bandwidth", "Low bandwidth"


class Segment(models.Model):
    """An audience. It holds no personal data about individuals: only languages, channels and partners."""

    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="segments")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    languages = models.JSONField(default=list, blank=True, help_text="ISO 639-1, in order of preference")
    channels = models.JSONField(default=list, blank=True, help_text="Channel kinds they use, in order")
    areas = models.JSONField(default=list, blank=True)
    needs = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="segment_unique_name")]

    def __str__(self) -> str:
        return self.name


class Partner(models.Model):
    """An organisation that reaches a segment: community leaders, NGOs, clubs, faith groups."""

    KINDS = [("community_leader", "Community leader"), ("ngo", "NGO"), ("supporters_club", "Supporters' club"),
             ("faith_group", "Faith group"), ("student_union", "Student union"), ("other", "Other")]
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="partners")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=KINDS, default="other")
    channel = models.ForeignKey("campaigns.Channel", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="partners")
    contact_note = models.CharField(max_length=300, blank=True, help_text="An organisation's contact, not a person's")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
