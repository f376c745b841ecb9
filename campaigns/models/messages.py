from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    PRIORITY = "priority", "Priority"
    EMERGENCY = "emergency", "Emergency"


class MessageStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    SCHEDULED = "scheduled", "Scheduled"
    PUBLISHING = "publishing", "Publishing"
    PUBLISHED = "published", "Published"
    PARTIALLY_PUBLISHED = "partially_published", "Partially published"
    FAILED = "failed", "Failed"
    WITHDRAWN = "withdrawn", "Withdrawn"


EDITABLE_STATES = frozenset({MessageStatus.DRAFT, MessageStatus.CHANGES_REQUESTED, MessageStatus.IN_REVIEW,
                             MessageStatus.APPROVED, MessageStatus.SCHEDULED})
APPROVED_STATES = frozenset({MessageStatus.APPROVED, MessageStatus.SCHEDULED, MessageStatus.PUBLISHING,
                             MessageStatus.PUBLISHED, MessageStatus.PARTIALLY_PUBLISHED, MessageStatus.FAILED})


class VariantFormat(models.TextChoices):
    STANDARD = "standard", "Standard"
    EASY_READ = "easy_read", "Easy read"
    SMS_SHORT = "sms_short", "SMS short"


class Message(models.Model):
    """An outbound message. Its body is the original; variants add languages and formats.

    ``approved_hash`` is the content hash the approver saw. Anything that changes what
    goes out changes ``content_hash``; the services void the approval when they differ,
    and the worker refuses to send unless they are equal.
    """

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, related_name="messages")
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_messages")
    title = models.CharField(max_length=200, blank=True,
                             help_text="The email subject and webhook title: approved with the rest")
    body = models.TextField()
    language = models.CharField(max_length=8, default="en")
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    instructive = models.BooleanField(default=True, help_text="Asks the public to do something")
    links = models.JSONField(default=list, blank=True)
    hashtags = models.JSONField(default=list, blank=True)
    channels = models.ManyToManyField("campaigns.Channel", blank=True, related_name="messages")
    segments = models.ManyToManyField("campaigns.Segment", blank=True, related_name="messages")
    cap = models.JSONField(default=dict, blank=True, help_text="CAP 1.2 fields for priority and emergency alerts")
    status = models.CharField(max_length=24, choices=MessageStatus.choices, default=MessageStatus.DRAFT,
                              db_index=True)
    version = models.PositiveIntegerField(default=1)
    content_hash = models.CharField(max_length=64, blank=True)
    approved_hash = models.CharField(max_length=64, blank=True)
    approved_version = models.PositiveIntegerField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    emergency_self_approved = models.BooleanField(default=False)
    emergency_reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                              on_delete=models.PROTECT, related_name="+")
    emergency_reviewed_at = models.DateTimeField(null=True, blank=True)
    # An emergency message may leave during a pause only with a second supervisor's confirmation.
    pause_override_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+")
    pause_override_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True, db_index=True)
    published_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    correction_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="corrections")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["team", "status"], name="message_team_status"),
            models.Index(fields=["status", "submitted_at"], name="message_review_queue"),
        ]

    def __str__(self) -> str:
        return self.title or self.body[:60]

    @property
    def is_approved(self) -> bool:
        return self.status in APPROVED_STATES and bool(self.approved_hash) and self.approved_hash == self.content_hash


class Variant(models.Model):
    """The text for one language and format, on some of the message's channels."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="variants")
    language = models.CharField(max_length=8)
    format = models.CharField(max_length=12, choices=VariantFormat.choices, default=VariantFormat.STANDARD)
    body = models.TextField()
    channels = models.ManyToManyField("campaigns.Channel", blank=True, related_name="variants",
                                      help_text="Empty: every channel of the message")
    segment = models.ForeignKey("campaigns.Segment", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="variants")
    machine_suggested = models.BooleanField(default=False, help_text="Offered by a machine; needs human editing")
    human_edited = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["message", "language", "format", "segment"], name="variant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.language}/{self.format}"

    @property
    def direction(self) -> str:
        return "rtl" if self.language.split("-")[0] in settings.LANGUAGES_BIDI else "ltr"


class MediaAsset(models.Model):
    """An image, re-encoded without EXIF or GPS. ``sha256`` is of the re-encoded bytes."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="media")
    variant = models.ForeignKey(Variant, null=True, blank=True, on_delete=models.CASCADE, related_name="media")
    file = models.FileField(upload_to="media/%Y/%m/")
    mime = models.CharField(max_length=40)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    alt_text = models.CharField(max_length=1000, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"Image {self.sha256[:12]} of message {self.message_id}"


class MessageVersion(models.Model):
    """Every version of a message, as it was: the history and the diff view read these."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    snapshot = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["message", "version"]
        constraints = [models.UniqueConstraint(fields=["message", "version"], name="message_version_unique")]

    def __str__(self) -> str:
        return f"Message {self.message_id} v{self.version}"


class Comment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, default="comment")  # comment | changes_requested
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment by {self.author_id} on message {self.message_id}"


class ApprovalKind(models.TextChoices):
    STANDARD = "standard", "Approval"
    SECOND = "second", "Second approval"
    EMERGENCY_SELF = "emergency_self", "Emergency self-approval"
    EMERGENCY_REVIEW = "emergency_review", "Emergency review"


class Approval(models.Model):
    """One supervisor's approval of one exact content hash."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=ApprovalKind.choices, default=ApprovalKind.STANDARD)
    content_hash = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # One live approval per supervisor per version: a double click cannot count twice.
            models.UniqueConstraint(fields=["message", "approver", "version", "kind"], name="approval_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of message {self.message_id} v{self.version} by {self.approver_id}"
