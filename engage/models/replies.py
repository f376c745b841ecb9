"""Citizens' replies and everything done with them: notes, corrections, answers.

A :class:`Reply` is stored raw first (``raw_payload``, ``raw_text``) and deduplicated by
(channel, provider id) before the sender gets a 2xx; ``processed_at`` stays NULL until the
processing task has classified it, so the sweeper can always find what is left to do. The raw
forms and the author's identifiers live only until the retention policy redacts them
(``redacted_at``); the category, sentiment and times stay for the metrics.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ReplySource(models.TextChoices):
    TELEGRAM = "telegram", "Telegram"
    SMS = "sms", "SMS"
    WEBHOOK = "webhook", "Partner webhook"
    MASTODON = "mastodon", "Mastodon"
    WEB = "web", "Public form"


class ReplyStatus(models.TextChoices):
    NEW = "new", "New"
    TRIAGED = "triaged", "Triaged"
    ASSIGNED = "assigned", "Assigned"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"
    ESCALATED = "escalated", "Escalated"


OPEN_STATUSES = (ReplyStatus.NEW, ReplyStatus.TRIAGED, ReplyStatus.ASSIGNED, ReplyStatus.ESCALATED)


class Reply(models.Model):
    """One message from a member of the public: a reply to our post, a message to us, a form."""

    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="replies",
                             help_text="Whose inbox: the channel's team, or the form's team")
    channel = models.ForeignKey("campaigns.Channel", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="replies", help_text="Empty for the public form")
    source = models.CharField(max_length=12, choices=ReplySource.choices)
    provider_id = models.CharField(max_length=200, help_text="The platform's id; the deduplication key")
    in_reply_to = models.CharField(max_length=200, blank=True, help_text="The platform id of what it answers")
    delivery = models.ForeignKey("campaigns.Delivery", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    message = models.ForeignKey("campaigns.Message", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", help_text="What it answers, and so its campaign and event")

    # As received: kept only until retention.
    raw_payload = models.JSONField(null=True, blank=True)
    raw_text = models.TextField(blank=True)
    # Sanitised on the way in (plain text, no markup); escaped on the way out.
    text = models.TextField(blank=True)
    text_masked = models.TextField(blank=True, help_text="The text with personal data masked, for lists")
    # Personal data.
    author_handle = models.CharField(max_length=200, blank=True)
    author_name = models.CharField(max_length=200, blank=True)
    author_key = models.CharField(max_length=200, blank=True,
                                  help_text="Normalised handle or phone number, for subject access and erasure")

    # Classification (empty until processed).
    language = models.CharField(max_length=16, blank=True)
    sentiment = models.CharField(max_length=10, blank=True)
    sentiment_score = models.FloatField(null=True, blank=True)
    category = models.CharField(max_length=20, blank=True)
    category_confidence = models.FloatField(null=True, blank=True)
    urgent = models.BooleanField(default=False)
    urgent_terms = models.JSONField(default=list, blank=True)
    pii_kinds = models.JSONField(default=list, blank=True)

    # Triage.
    status = models.CharField(max_length=12, choices=ReplyStatus.choices, default=ReplyStatus.NEW)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="assigned_replies")
    restricted = models.BooleanField(default=False, help_text="In the restricted (intelligence liaison) queue")
    legal_hold = models.BooleanField(default=False, help_text="Retention does not redact it while held")

    # Times (UTC).
    received_at = models.DateTimeField(help_text="When the person sent it (the platform's time)")
    created_at = models.DateTimeField(default=timezone.now, help_text="When we stored it")
    processed_at = models.DateTimeField(null=True, blank=True)
    processing_attempts = models.PositiveSmallIntegerField(default=0)
    processing_error = models.CharField(max_length=500, blank=True)
    sla_due_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    sla_alerted_at = models.DateTimeField(null=True, blank=True,
                                          help_text="When its liaison officers were told it passed its response time")
    closed_at = models.DateTimeField(null=True, blank=True)
    redacted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-urgent", "received_at", "id"]
        verbose_name_plural = "replies"
        constraints = [
            models.UniqueConstraint(fields=["channel", "provider_id"], condition=Q(channel__isnull=False),
                                    name="reply_once_per_channel"),
            models.UniqueConstraint(fields=["source", "provider_id"], condition=Q(channel__isnull=True),
                                    name="reply_once_without_channel"),
        ]
        indexes = [
            # The inbox's default order: urgent first, then oldest.
            models.Index(fields=["team", "-urgent", "received_at", "id"], name="reply_inbox"),
            models.Index(fields=["team", "status", "-urgent", "received_at"], name="reply_inbox_status"),
            models.Index(fields=["team", "category", "-urgent", "received_at"], name="reply_inbox_category"),
            # A language filter (alone or with a category): without it, a language with no urgent reply read
            # every urgent reply of the category first (517 ms -> 0.4 ms at 10M replies, docs/benchmarks.md).
            models.Index(fields=["team", "language", "-urgent", "received_at"], name="reply_inbox_language"),
            # The sweeper: whatever is not processed yet.
            models.Index(fields=["created_at"], condition=Q(processed_at__isnull=True), name="reply_unprocessed"),
            # Retention: what is not redacted yet, per team and category, by age.
            models.Index(fields=["team", "category", "received_at"], condition=Q(redacted_at__isnull=True),
                         name="reply_retention"),
            models.Index(fields=["author_key"], condition=~Q(author_key=""), name="reply_author"),
            # Metrics: per team over time, and the summary refresh's "what changed lately" reads.
            models.Index(fields=["team", "received_at"], name="reply_team_received"),
            models.Index(fields=["updated_at"], name="reply_updated"),
            models.Index(fields=["created_at"], name="reply_created"),
            models.Index(fields=["sla_due_at"], condition=Q(first_response_at__isnull=True), name="reply_sla_open"),
            # The dashboard's open backlog for an event or segment: the open replies of each of its
            # messages, without reading every closed reply (455 ms -> 25 ms at 1M replies).
            models.Index(fields=["message"], condition=Q(status__in=OPEN_STATUSES), name="reply_open_by_message"),
            # The dashboard's open backlog (every scope): read from this small index alone (an index-only
            # scan: it holds every column the backlog counts or filters by), never from the table, whose
            # open rows are scattered among years of closed ones (939 ms -> 63 ms at 10M replies).
            models.Index(fields=["team", "received_at"], condition=Q(status__in=OPEN_STATUSES),
                         include=["message", "channel", "language", "urgent", "sla_due_at", "first_response_at"],
                         name="reply_open_backlog"),
        ]

    def __str__(self) -> str:
        return f"Reply {self.pk} ({self.source}, {self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def overdue(self) -> bool:
        return bool(self.sla_due_at and self.first_response_at is None and self.is_open
                    and self.sla_due_at < timezone.now())


class ReplyNote(models.Model):
    """An internal note on a reply; never sent to the person."""

    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Note on reply {self.reply_id}"


class ClassificationCorrection(models.Model):
    """A person changed what the classifier said. The accuracy figure counts these."""

    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, related_name="corrections")
    field = models.CharField(max_length=20)  # category | sentiment | language | urgent
    old_value = models.CharField(max_length=40, blank=True)
    new_value = models.CharField(max_length=40, blank=True)
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["field", "created_at"], name="correction_field_at")]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value} -> {self.new_value} on reply {self.reply_id}"


class AnswerKind(models.TextChoices):
    TEMPLATE = "template", "Pre-approved template"
    AUTO = "auto", "Automatic urgent answer"
    FREE_TEXT = "free_text", "Free text (approved as a message)"


class AnswerStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed: waiting for a drafter"
    AWAITING_APPROVAL = "awaiting_approval", "Waiting for approval"
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    UNCONFIRMED = "unconfirmed", "Unconfirmed: check before resending"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    HELD = "held", "Held: the channel's hourly cap was reached; a person decides"


class ReplyAnswer(models.Model):
    """What we answered, or are about to. Sent at most once, through the one send engine: ``idempotency_key``
    is unique and the status only moves by conditional update (pending -> sending -> sent | ...)."""

    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, related_name="answers")
    kind = models.CharField(max_length=10, choices=AnswerKind.choices)
    template = models.ForeignKey("engage.AnswerTemplate", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    message = models.ForeignKey("campaigns.Message", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", help_text="Free text: the message that goes through approval")
    body = models.TextField()
    language = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=20, choices=AnswerStatus.choices)
    idempotency_key = models.CharField(max_length=80, unique=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The send engine's claim (campaigns.publishing.outbound), as a delivery's: only the worker holding
    # this token may send; ``in_flight_since`` is set, by conditional update, just before the platform
    # call. An answer in flight after a crash may have been sent: it is never resent blindly.
    claim_token = models.CharField(max_length=32, blank=True)
    in_flight_since = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The channel it went (or goes) out on, set when a sender claims it: the hourly cap counts by it.
    channel = models.ForeignKey("campaigns.Channel", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    external_id = models.CharField(max_length=200, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # When the last platform call began (kept when it ends unconfirmed: the look-up's window), and the
    # reconciler's state (campaigns.publishing.reconcile): its claim, how often and when it asked the
    # platform whether the call went through, and the platform's last answer (a fixed sentence).
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    lookup_token = models.CharField(max_length=32, blank=True)
    lookup_asks = models.PositiveSmallIntegerField(default=0)
    lookup_at = models.DateTimeField(null=True, blank=True)
    lookup_next_at = models.DateTimeField(null=True, blank=True)
    lookup_answer = models.CharField(max_length=300, blank=True)
    # "Did this answer help?": asked with the answer; answered (the vote itself is anonymous, apart:
    # engage.models.feedback.AnswerFeedback explains why these two flags are all the answer keeps).
    feedback_requested = models.BooleanField(default=False)
    feedback_given = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["reply"], condition=Q(kind="auto"), name="one_auto_answer_per_reply"),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="answer_status"),
                   models.Index(fields=["channel", "claimed_at"], name="answer_channel_claimed")]

    def __str__(self) -> str:
        return f"Answer {self.pk} to reply {self.reply_id}: {self.status}"


class RejectedInbound(models.Model):
    """A webhook request we refused (bad signature, stale timestamp, malformed body).

    Kept for 30 days. Holds no body, only its size and digest: a refused body is untrusted.
    """

    channel = models.ForeignKey("campaigns.Channel", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    channel_ref = models.CharField(max_length=40, blank=True, help_text="The channel id the caller used")
    code = models.CharField(max_length=40)
    status = models.PositiveSmallIntegerField()
    message = models.CharField(max_length=500, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    body_size = models.PositiveIntegerField(default=0)
    body_sha256 = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"Rejected {self.code} on channel {self.channel_ref} at {self.at:%Y-%m-%d %H:%M:%S}"


class InboundCursor(models.Model):
    """Where polling of a channel got to (Mastodon: the last notification id)."""

    channel = models.OneToOneField("campaigns.Channel", on_delete=models.CASCADE, related_name="+")
    last_id = models.CharField(max_length=64, blank=True)
    polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"Cursor of channel {self.channel_id}: {self.last_id or '-'}"


class ReplyCampaign(models.Model):
    """The per-team campaign that holds free-text answers as messages for approval."""

    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"Answers campaign of team {self.team_id}"
