"""Inbound items we acknowledged but did not store, counted so none is dropped silently."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class InboundDrop(models.Model):
    """How many inbound items of one channel were ignored for one reason on one day (UTC).

    Written only by ``engage.inbound.inbound_drops.record_drop``, with an ``F()`` increment, so
    concurrent webhooks never lose a count. Holds no item text: only the reason, a short detail
    and when it was last seen.
    """

    channel = models.ForeignKey("campaigns.Channel", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=60)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    last_detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-day", "reason"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "reason", "day"], name="inbound_drop_once_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.count} x {self.reason} on channel {self.channel_id}, {self.day}"
