"""What a channel's ``config`` may hold: one schema per kind.

Each kind lists its keys, each with a type, and says which are secrets (stored encrypted with
``campaigns.secretbox``, write-only in the API and forms). A key no schema names is refused
with a 400 that names it, so nothing unknown is ever stored as plain text (or shown back).

URLs are checked as they are saved: a URL Engage connects to (``fetch``) against the outbound
address policy of ``platforms.netguard`` (https, public addresses; the same check is
made again at every connection), a URL that is only shown or given to others (``link``) for its
scheme (http(s); https in production). The email channel's ``backend`` must be one of
``ENGAGE_EMAIL_CHANNEL_BACKENDS`` and its ``from_email`` within ``ENGAGE_EMAIL_CHANNEL_SENDERS``.

Some rules are about what a platform accepts, not a value's type (:func:`_platform_problems`): an
X ``access_token`` must be a user-context token (X lets an app-only bearer token only read), and
an SMS channel's ``max_segments`` is at most 10 (Twilio refuses a ``Body`` over 1,600 characters).

To add a key, add a :class:`Key` to its kind's schema (``COMMON`` for every kind).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from core.errors import InvalidInput
from platforms.email.adapter import sender_allowed
from platforms.facebook.graph_versions import GRAPH_VERSIONS, format_problem
from platforms.netguard import DestinationRefused, check_url
from platforms.sms import counting as sms_counting
from platforms.x.adapter import APP_ONLY_REFUSAL, looks_app_only

MAX_TEXT = 500
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
MAX_LIST = 5000


@dataclass(frozen=True)
class Key:
    type: str  # text, int, number, decimal, bool, list, fetch_url, link_url, email, address, domain, id,
    # choice, backend, expiry, graph_version
    secret: bool = False
    choices: tuple[str, ...] = ()
    max_length: int = MAX_TEXT
    maximum: float | None = None  # for int and number: a worker must never wait or loop without end


def _secret() -> Key:
    return Key("text", secret=True, max_length=4000)


COMMON: dict[str, Key] = {
    "connect_timeout": Key("number", maximum=60),
    "read_timeout": Key("number", maximum=300),
    "max_characters": Key("int", maximum=100_000),
    "token_expires_at": Key("expiry"),
}

SCHEMAS: dict[str, dict[str, Key]] = {
    "mastodon": {
        "instance_url": Key("fetch_url"),
        "visibility": Key("choice", choices=("public", "unlisted", "private", "direct")),
        "media_poll_attempts": Key("int", maximum=120),
        "media_poll_interval": Key("number", maximum=30),
        "poll_mentions": Key("bool"),
        "access_token": _secret(),
    },
    "telegram": {
        "chat_id": Key("id"),
        "api_base": Key("fetch_url"),
        "channel_username": Key("text", max_length=100),
        "link_preview": Key("bool"),
        "bot_token": _secret(),
        "secret_token": _secret(),
        "inbound_secret": _secret(),
    },
    "x": {
        "api_base": Key("fetch_url"),
        "username": Key("text", max_length=100),
        "client_id": Key("text", max_length=200),
        "expires_at": Key("expiry"),
        "access_token": _secret(),
        "refresh_token": _secret(),
        "client_secret": _secret(),
    },
    "facebook": {
        "page_id": Key("id"),
        "api_base": Key("fetch_url"),
        "api_version": Key("graph_version", max_length=20),
        "views_metric": Key("text", max_length=100),
        "page_access_token": _secret(),
        "app_access_token": _secret(),
    },
    "sms": {
        "api_base": Key("fetch_url"),
        "account_sid": Key("text", max_length=100),
        "from_number": Key("text", max_length=40),
        "messaging_service_sid": Key("text", max_length=100),
        "price_per_segment": Key("decimal"),
        "currency": Key("text", max_length=10),
        "max_cost": Key("decimal"),
        "max_segments": Key("int"),  # at most sms_counting.SMS_MAX_SEGMENTS: _platform_problems
        "status_callback": Key("link_url"),
        "inbound_url": Key("link_url"),
        "auth_token": _secret(),
    },
    "email": {
        "from_email": Key("email"),
        "unsubscribe_url": Key("link_url"),
        "unsubscribe_email": Key("address", max_length=254),
        "reply_to": Key("address", max_length=254),
        "message_id_domain": Key("domain", max_length=253),
        "backend": Key("backend"),
    },
    "webhook": {
        "url": Key("fetch_url"),
        "health_url": Key("fetch_url"),
        "honours_idempotency_key": Key("bool"),
        "max_inline_media_bytes": Key("int", maximum=50 * 1024 * 1024),
        "status_lookup": Key("bool"),  # the partner answers GET {url}/{key} (docs/api.md): unconfirmed ones are asked
        "signing_secret": _secret(),
        "inbound_secret": _secret(),
    },
    "public": {
        "site_url": Key("link_url"),
    },
}

# Every key that is a secret in some kind's schema (the API never shows these back).
SECRET_KEYS = frozenset(
    name for schema in (COMMON, *SCHEMAS.values()) for name, key in schema.items() if key.secret)


def schema_for(kind: str) -> dict[str, Key]:
    return {**COMMON, **SCHEMAS.get(kind, {})}


def secret_names(kind: str) -> frozenset[str]:
    return frozenset(name for name, key in schema_for(kind).items() if key.secret)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_link_url(value: str) -> str | None:
    """What is wrong with a URL that is shown or given out (not fetched), or None."""
    try:
        scheme = urlsplit(value.strip()).scheme.lower()
    except ValueError:
        return "Not a valid URL."
    if scheme == "https" or (scheme == "http" and not settings.PRODUCTION):
        return None
    return "Use an https URL." if settings.PRODUCTION else "Use an http(s) URL."


def sender_problem(from_email: str) -> str | None:
    """Why ``from_email`` may not be an email channel's sender, or None."""
    address = parseaddr(from_email)[1]
    if not address or "@" not in address or any(c in from_email for c in "\r\n"):
        return "Enter a valid email address."
    if from_email == settings.DEFAULT_FROM_EMAIL or sender_allowed(from_email):
        return None
    return "This sender address is not allowed here (see ENGAGE_EMAIL_CHANNEL_SENDERS)."


def graph_version_problem(version: str) -> str | None:
    """Why a Facebook channel may not use Graph API ``version``: not written as Graph names
    versions, or past its end of life (Graph would answer with another version). A version Engage
    does not know yet is accepted; the channel's health then says its end is unknown."""
    problem = format_problem(version)
    if problem:
        return problem
    known = GRAPH_VERSIONS.get(version)
    today = timezone.now().date()
    if known is not None and known.available_until is not None and known.available_until <= today:
        return (f"Graph API {version} reached its end of life on {known.available_until.isoformat()}; "
                f"use {settings.ENGAGE_FACEBOOK_GRAPH_VERSION} or leave api_version unset.")
    return None


def allowed_backends() -> list[str]:
    return [*settings.ENGAGE_EMAIL_CHANNEL_BACKENDS, settings.ENGAGE_PUBLISH_EMAIL_BACKEND]


def _problem(key: Key, value: Any) -> str | None:
    """What is wrong with one value, or None."""
    if key.type in ("text", "email", "address", "domain", "backend", "choice", "fetch_url", "link_url",
                    "graph_version"):
        if not isinstance(value, str):
            return "Expected a string."
        if len(value) > key.max_length:
            return f"At most {key.max_length} characters."
    if key.type == "int" and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        return "Expected a whole number, 0 or more."
    if key.type == "number" and (not _is_number(value) or value < 0):
        return "Expected a number, 0 or more."
    if key.type in ("int", "number") and key.maximum is not None and _is_number(value) and value > key.maximum:
        return f"At most {key.maximum:g}."
    if key.type == "bool" and not isinstance(value, bool):
        return "Expected true or false."
    if key.type == "id" and not (isinstance(value, str) and 0 < len(value) <= 100
                                 or isinstance(value, int) and not isinstance(value, bool)):
        return "Expected an id (text or a whole number)."
    if key.type == "expiry" and not (isinstance(value, str) and len(value) <= 40 or _is_number(value)):
        return "Expected a date and time (ISO 8601) or unix seconds."
    if key.type == "decimal":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return "Expected a decimal number."
        try:
            if Decimal(str(value)) < 0:
                return "Expected a decimal number, 0 or more."
        except InvalidOperation:
            return "Expected a decimal number."
    if key.type == "list":
        if not isinstance(value, list) or len(value) > MAX_LIST:
            return f"Expected a list of at most {MAX_LIST} strings."
        if not all(isinstance(item, str) and 0 < len(item) <= 254 for item in value):
            return "Expected a list of strings."
    if key.type == "choice" and value not in key.choices:
        return f"Choose one of {', '.join(key.choices)}."
    if key.type == "fetch_url":
        try:
            check_url(value)
        except DestinationRefused as exc:
            return f"This address is not allowed: {exc}."
    if key.type == "link_url":
        return check_link_url(value)
    if key.type == "email":
        return sender_problem(value)
    if key.type == "address" and not _ADDRESS.match(value):
        return "Enter one plain email address (name@example.org)."
    if key.type == "domain" and not _DOMAIN.match(value):
        return "Enter a domain name (example.org)."
    if key.type == "graph_version":
        return graph_version_problem(value)
    if key.type == "backend" and value not in allowed_backends():
        return "This email backend is not allowed (see ENGAGE_EMAIL_CHANNEL_BACKENDS)."
    return None


def _platform_problems(kind: str, name: str, value: Any) -> str | None:
    """What the platform behind ``kind`` would refuse in a well-typed value, or None."""
    if kind == "x" and name == "access_token" and looks_app_only(value):
        return f"X does not accept this token for publishing: {APP_ONLY_REFUSAL}."
    if kind == "sms" and name == "max_segments" and value > sms_counting.SMS_MAX_SEGMENTS:
        return (f"At most {sms_counting.SMS_MAX_SEGMENTS}: Twilio refuses a message over "
                f"{sms_counting.SMS_MAX_BODY:,} characters, and {value} segments could hold more.")
    return None


def config_validate(*, kind: str, config: Mapping[str, Any]) -> None:
    """Raise InvalidInput (400) naming every unknown key and every bad value of ``config``.

    ``None`` or ``""`` for a key means "leave it unset" and is always allowed.
    """
    schema = schema_for(kind)
    unknown = sorted(str(name) for name in config if name not in schema)
    problems: list[str] = []
    if unknown:
        problems.append(f"unknown setting{'s' if len(unknown) > 1 else ''} for a {kind} channel: "
                        f"{', '.join(unknown)} (allowed: {', '.join(sorted(schema))})")
    for name, value in config.items():
        key = schema.get(name)
        if key is None or value is None or value == "":
            continue
        problem = _problem(key, value) or _platform_problems(kind, name, value)
        if problem:
            problems.append(f"{name}: {problem}")
    if problems:
        raise InvalidInput("Channel settings not accepted: " + "; ".join(problems),
                           code="invalid_config", fields={"config": problems})
