"""Reading settings from environment variables."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def hourly_caps(value: str) -> dict[str, int]:
    """"60,sms=30" -> {"": 60, "sms": 30}: answers a channel sends an hour (per kind; "" for the rest)."""
    caps: dict[str, int] = {"": 60}
    for item in filter(None, (part.strip() for part in value.split(","))):
        kind, _, number = item.rpartition("=")
        if not number.isdigit() or int(number) < 1:
            raise ImproperlyConfigured(f"ENGAGE_ANSWER_HOURLY_CAP: {item!r} is not a positive number of answers.")
        caps[kind.strip()] = int(number)
    return caps
