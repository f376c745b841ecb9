"""What a team decides about replies: answer templates, SLAs, retention and category rules.

Each has defaults in code (``engage.inbound.policy_defaults``); rows here override them per team.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class TemplatePurpose(models.TextChoices):
    URGENT = "urgent", "Urgent: someone may be in danger"
    GENERAL = "general", "General answer"


class AnswerTemplate(models.Model):
    """A pre-approved answer. Sent directly, with no further approval, so two people stand behind it.

    A supervisor writes a version (``AnswerTemplateVersion``); a supervisor who did not write that
    version approves it, and only then do this row's ``title``, ``purpose``, ``language`` and
    ``body`` take its words: they only ever hold the approved version (``approved_version``,
    ``approved_hash``). A template with no approved version is never offered or sent. An edit is a
    new pending version, so it voids nothing that went out and changes nothing until approved.

    ``team`` empty: shipped with Engage and available to every team (e.g. "call 999/112 now"),
    approved by the ``shipped`` marker of its data migration.
    """

    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="answer_templates")
    title = models.CharField(max_length=200)
    purpose = models.CharField(max_length=10, choices=TemplatePurpose.choices, default=TemplatePurpose.GENERAL)
    language = models.CharField(max_length=16, default="en")
    body = models.TextField()
    is_active = models.BooleanField(default=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_version = models.ForeignKey("engage.AnswerTemplateVersion", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")
    approved_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["purpose", "title", "language"]
        constraints = [
            models.UniqueConstraint(fields=["team", "title", "language"], name="answer_template_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"


class TemplateApprovalKind(models.TextChoices):
    STANDARD = "standard", "Approved by a second supervisor"
    EMERGENCY_SELF = "emergency_self", "Emergency: approved by its author, reviewed afterwards"
    SHIPPED = "shipped", "Shipped with Engage"
    LEGACY = "legacy", "Approved before the two-person rule: review it"


class AnswerTemplateVersion(models.Model):
    """One version of a template's words, written by one person. Never edited; approved at most once."""

    template = models.ForeignKey(AnswerTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    purpose = models.CharField(max_length=10, choices=TemplatePurpose.choices)
    language = models.CharField(max_length=16)
    body = models.TextField()
    content_hash = models.CharField(max_length=64)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    author_label = models.CharField(max_length=200, blank=True, help_text="Who wrote it when not a user")
    created_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_kind = models.CharField(max_length=16, choices=TemplateApprovalKind.choices, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    # Emergency self-approvals and legacy approvals wait for a second supervisor's review.
    review_due = models.BooleanField(default=False)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="answer_template_version_once")]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"

    @property
    def is_pending(self) -> bool:
        return self.approved_at is None and self.superseded_at is None


class RetentionPolicy(models.Model):
    """How many days a team keeps replies of one category before redacting them."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=20)
    days = models.PositiveIntegerField()

    class Meta:
        ordering = ["team", "category"]
        constraints = [models.UniqueConstraint(fields=["team", "category"], name="retention_once")]

    def __str__(self) -> str:
        return f"{self.category}: {self.days} days"


class SlaPolicy(models.Model):
    """Minutes to a first answer, per team and category (``urgent`` for urgent replies)."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=20)
    minutes = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no clock")

    class Meta:
        ordering = ["team", "category"]
        constraints = [models.UniqueConstraint(fields=["team", "category"], name="sla_once")]

    def __str__(self) -> str:
        return f"{self.category}: {self.minutes} minutes"


class CategoryRule(models.Model):
    """An admin's keyword rule, added to engage.inbound.classify's defaults for one language (``*``: all).

    ``team`` empty: every team.
    """

    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    language = models.CharField(max_length=16, default="*")
    category = models.CharField(max_length=20)
    pattern = models.CharField(max_length=500)
    weight = models.FloatField(default=1.0)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["language", "category", "id"]

    def __str__(self) -> str:
        return f"{self.language}/{self.category}: {self.pattern}"
