"""The people on a list channel (SMS, email): who they are, their language and their segments.

A list channel sends one text per recipient, so it can target: each recipient gets the one variant
of a message written for them (``campaigns.services.targeting``). The address is personal data: it
is encrypted at rest (``campaigns.secretbox``) and found by a keyed digest, never stored in the
clear; every view or export of addresses is audited (``campaigns.services.recipients``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from campaigns.secretbox import decrypt, encrypt


class ListRecipient(models.Model):
    channel = models.ForeignKey("campaigns.Channel", on_delete=models.CASCADE, related_name="list_recipients")
    address_encrypted = models.TextField(editable=False)
    address_digest = models.CharField(max_length=64, editable=False,
                                      help_text="Keyed digest of the normalised address (duplicates, opt-out)")
    language = models.CharField(max_length=16, default="en", help_text="ISO 639-1; the variant they get")
    segments = models.ManyToManyField("campaigns.Segment", blank=True, related_name="list_recipients")
    consent_source = models.CharField(max_length=100, help_text="How they agreed to receive messages")
    consented_at = models.DateTimeField(default=timezone.now)
    opted_out_at = models.DateTimeField(null=True, blank=True, help_text="Set: they get nothing more")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel", "id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "address_digest"], name="list_recipient_once"),
        ]
        indexes = [models.Index(fields=["address_digest"], name="list_recipient_digest")]

    def __str__(self) -> str:
        return f"Recipient {self.pk} of channel {self.channel_id}"

    @property
    def address(self) -> str:
        return decrypt(self.address_encrypted) if self.address_encrypted else ""

    def set_address(self, address: str, digest: str) -> None:
        self.address_encrypted = encrypt(address)
        self.address_digest = digest

    @property
    def receives(self) -> bool:
        return self.opted_out_at is None
