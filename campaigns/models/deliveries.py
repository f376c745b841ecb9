from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    UNCONFIRMED = "unconfirmed", "Unconfirmed: check before reposting"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Delivery(models.Model):
    """One (variant, channel) of one message. Posted at most once.

    The status changes only by conditional update (see campaigns.services.delivery);
    ``idempotency_key`` is unique and sent to platforms that honour one.
    """

    message = models.ForeignKey("campaigns.Message", on_delete=models.CASCADE, related_name="deliveries")
    variant = models.ForeignKey("campaigns.Variant", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="deliveries", help_text="Empty: the original body")
    channel = models.ForeignKey("campaigns.Channel", on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    idempotency_key = models.CharField(max_length=80, unique=True)
    urgent = models.BooleanField(default=False)
    due_at = models.DateTimeField(db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Set at claim time and passed to the task: a stale or duplicated task message finds a
    # different token and does nothing.
    claim_token = models.CharField(max_length=32, blank=True)
    # Set, by conditional update, just before the platform call. A delivery that is SENDING
    # with this set may have been posted: it is never resent blindly, only reconciled.
    in_flight_since = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    external_url = models.URLField(max_length=500, blank=True)
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
    manual_takedown = models.BooleanField(default=False, help_text="Withdrawn by us, but a person must delete it")
    needs_review = models.BooleanField(default=False, help_text="Overdue after a pause: review before sending")
    # The post's figures as the platform last gave them (campaigns.services.stats); None where the
    # platform does not give that figure or they were never fetched.
    stats_views = models.PositiveBigIntegerField(null=True, blank=True)
    stats_shares = models.PositiveBigIntegerField(null=True, blank=True)
    stats_replies = models.PositiveBigIntegerField(null=True, blank=True)
    stats_likes = models.PositiveBigIntegerField(null=True, blank=True)
    stats_fetched_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["message", "channel", "id"]
        constraints = [
            models.UniqueConstraint(fields=["message", "channel"], condition=models.Q(variant__isnull=True),
                                    name="delivery_once_original"),
            models.UniqueConstraint(fields=["variant", "channel"], condition=models.Q(variant__isnull=False),
                                    name="delivery_once_variant"),
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"Delivery {self.pk} of message {self.message_id} to channel {self.channel_id}: {self.status}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20)  # sent | transient | failed | unconfirmed | skipped
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"Attempt on delivery {self.delivery_id}: {self.outcome}"


class PublishingPause(models.Model):
    """While a pause is active (no resumed_at), nothing leaves for its team, or anywhere if team is empty."""

    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)
    # Empty: the system paused it (every force comes up paused after a restore; see RestoreReport).
    paused_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    paused_at = models.DateTimeField(default=timezone.now)
    resumed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    resumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-paused_at"]

    def __str__(self) -> str:
        return f"Pause ({self.team or 'every team'}): {self.reason[:60]}"


class RestoreReport(models.Model):
    """What a restore from a backup found and did, for one force, shown with the pause it placed.

    A restored system comes up paused: anything pending or in flight when the backup was taken may
    have gone out since. A supervisor reads this before lifting the pause (``publishing_resume``)."""

    pause = models.OneToOneField(PublishingPause, on_delete=models.PROTECT, related_name="restore_report")
    backup_taken_at = models.DateTimeField()
    restored_at = models.DateTimeField(default=timezone.now)
    # Ids, counts and labels only: the backup's app version and audit head, the deliveries and
    # answers made unconfirmed, the deliveries still waiting (engage.backup.restore writes it).
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-restored_at", "-id"]

    def __str__(self) -> str:
        return f"Restore report for pause {self.pause_id} (backup of {self.backup_taken_at:%Y-%m-%d %H:%M})"
