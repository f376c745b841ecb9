from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.utils import timezone

from campaigns.secretbox import decrypt, encrypt


class ChannelKind(models.TextChoices):
    MASTODON = "mastodon", "Mastodon"
    TELEGRAM = "telegram", "Telegram"
    X = "x", "X"
    FACEBOOK = "facebook", "Facebook Page"
    SMS = "sms", "SMS gateway"
    EMAIL = "email", "Email list"
    WEBHOOK = "webhook", "Partner webhook"
    PUBLIC = "public", "Public news pages and feeds"


class ChannelHealth(models.TextChoices):
    UNKNOWN = "unknown", "Not checked yet"
    OK = "ok", "OK"
    AUTH_EXPIRED = "auth_expired", "Sign-in expired"
    FAILING = "failing", "Failing"
    WARNING = "warning", "Working, with a warning"  # e.g. an API version near its end, a metric refused


class Channel(models.Model):
    """A team's account on one platform. Secrets are encrypted at rest and never shown again."""

    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="channels")
    kind = models.CharField(max_length=20, choices=ChannelKind.choices)
    name = models.CharField(max_length=200)
    config = models.JSONField(default=dict, blank=True)
    secrets_encrypted = models.TextField(blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    health = models.CharField(max_length=20, choices=ChannelHealth.choices, default=ChannelHealth.UNKNOWN)
    health_detail = models.CharField(max_length=500, blank=True)
    health_checked_at = models.DateTimeField(null=True, blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    # The last expiry warning sent for token_expires_at ("14d", "3d", "expired"; "" none yet), so
    # each threshold warns once (campaigns.services.health).
    token_warning = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["team", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="channel_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def get_secrets(self) -> dict[str, Any]:
        if not self.secrets_encrypted:
            return {}
        return json.loads(decrypt(self.secrets_encrypted))

    def set_secrets(self, values: dict[str, Any]) -> None:
        self.secrets_encrypted = encrypt(json.dumps(values, sort_keys=True)) if values else ""

    @property
    def secret_names(self) -> list[str]:
        return sorted(self.get_secrets().keys())
