"""What a watch keeps: its set-up, short-lived post text, 5-minute aggregates and rumour candidates.

Nothing here has a column for an author: no name, handle, account id, profile link, avatar or the
platform's post id. :class:`Signal` holds only a post's text (masked), its language and when it was
received, and is deleted at ``delete_after`` (at most 72 hours). What stays is :class:`Bucket`
(counts per 5 minutes) and :class:`RumourCandidate` (a masked claim and how often it was seen).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

MAX_WINDOW = timedelta(days=14)
MAX_RETENTION_HOURS = 72
BUCKET = timedelta(minutes=5)


class WatchStatus(models.TextChoices):
    PENDING = "pending", "Awaiting approval"
    APPROVED = "approved", "Approved"
    STOPPED = "stopped", "Stopped"
    REFUSED = "refused", "Refused"


class Watch(models.Model):
    """One purpose-bound set-up of public signals for an event."""

    event = models.ForeignKey("campaigns.Event", on_delete=models.PROTECT, related_name="watches")
    purpose = models.TextField()
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    retention_hours = models.PositiveSmallIntegerField(default=MAX_RETENTION_HOURS)
    hashtags = models.JSONField(default=list, blank=True, help_text="Without '#'")
    instances = models.JSONField(default=list, blank=True, help_text="Mastodon instance base URLs")
    feed_urls = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=WatchStatus.choices, default=WatchStatus.PENDING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    # Where each source's reading got to: {"mastodon:<instance>#<tag>": "<last status id>"}, feeds by URL.
    # The platform's ids of the newest item seen, never stored per post.
    cursors = models.JSONField(default=dict, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True, help_text="Retry-After honoured")
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-window_start", "-id"]
        indexes = [models.Index(fields=["status", "window_end"], name="watch_status_end")]
        constraints = [
            models.CheckConstraint(condition=models.Q(window_end__gt=models.F("window_start")),
                                   name="watch_window_ordered"),
            models.CheckConstraint(condition=models.Q(retention_hours__gte=1, retention_hours__lte=MAX_RETENTION_HOURS),
                                   name="watch_retention_at_most_72h"),
            models.CheckConstraint(condition=~models.Q(purpose=""), name="watch_has_purpose"),
            models.CheckConstraint(condition=models.Q(approved_by__isnull=True)
                                   | ~models.Q(approved_by=models.F("created_by")),
                                   name="watch_two_people"),
        ]

    def __str__(self) -> str:
        return f"Watch {self.pk} of event {self.event_id}"

    @property
    def team_id(self) -> int:  # the audit trail and the policies read a team from the object
        return self.event.team_id

    def runs_at(self, now) -> bool:
        """Approved, with a purpose, and inside its window: the worker checks this every run."""
        return (self.status == WatchStatus.APPROVED and self.approved_by_id is not None
                and self.approved_by_id != self.created_by_id and bool(self.purpose.strip())
                and self.window_start <= now < self.window_end
                and self.window_end - self.window_start <= MAX_WINDOW
                and 1 <= self.retention_hours <= MAX_RETENTION_HOURS)


class Signal(models.Model):
    """One public post's masked text, kept only until ``delete_after``. No author, no id, no link."""

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="signals")
    text = models.TextField()
    language = models.CharField(max_length=12, blank=True)
    received_at = models.DateTimeField()
    delete_after = models.DateTimeField()
    danger = models.BooleanField(default=False, help_text="The danger detector found a term")
    place = models.CharField(max_length=60, blank=True, help_text="A place of the event named with it (gate 3)")
    candidate = models.ForeignKey("RumourCandidate", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="signals")

    class Meta:
        indexes = [models.Index(fields=["delete_after"], name="signal_delete_after"),
                   models.Index(fields=["watch", "received_at"], name="signal_watch_time")]

    def __str__(self) -> str:
        return f"Signal {self.pk} of watch {self.watch_id}"


class Bucket(models.Model):
    """Five minutes of one watch, in counts only."""

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="buckets")
    start = models.DateTimeField()
    volume = models.PositiveIntegerField(default=0)
    danger = models.PositiveIntegerField(default=0, help_text="Posts with at least one danger term")
    languages = models.JSONField(default=dict, blank=True)
    sentiments = models.JSONField(default=dict, blank=True)
    danger_terms = models.JSONField(default=dict, blank=True)
    top_terms = models.JSONField(default=dict, blank=True, help_text="term -> count, the most frequent only")

    class Meta:
        ordering = ["start"]
        constraints = [models.UniqueConstraint(fields=["watch", "start"], name="bucket_once_per_slot")]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} of watch {self.watch_id}: {self.volume}"


class CandidateStatus(models.TextChoices):
    OPEN = "open", "Open"
    DISMISSED = "dismissed", "Dismissed"
    PROMOTED = "promoted", "Made a rumour"


class RumourCandidate(models.Model):
    """A claim many posts repeat: its masked text, how often, first and last seen."""

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="candidates")
    claim = models.CharField(max_length=500)
    tokens = models.JSONField(default=list, help_text="The claim's normalised words, for matching new posts")
    count = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    status = models.CharField(max_length=10, choices=CandidateStatus.choices, default=CandidateStatus.OPEN)
    rumour = models.ForeignKey("campaigns.Rumour", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-count", "-last_seen"]
        indexes = [models.Index(fields=["watch", "status"], name="candidate_watch_status")]

    def __str__(self) -> str:
        return self.claim[:60]


class SpikeAlert(models.Model):
    """A spike the desk was told about (so one burst alerts once)."""

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="spikes")
    kind = models.CharField(max_length=10)  # "volume" | "danger"
    key = models.CharField(max_length=100, help_text="the place, for a danger spike")
    raised_at = models.DateTimeField()
    text = models.CharField(max_length=500)

    class Meta:
        ordering = ["-raised_at"]
        indexes = [models.Index(fields=["watch", "kind", "raised_at"], name="spike_watch_kind_time")]

    def __str__(self) -> str:
        return self.text[:60]
