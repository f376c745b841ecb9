"""Checking and reading what platforms send us: the shared part.

Each platform's own rules live in ``platforms/<p>/inbound.py`` (Telegram, Twilio SMS, partner
webhooks, the Mastodon poll); this module holds what they share: the parsed-item types, the
refusal, the limits and the small JSON readers. Pure functions, no database and no Django: a view
hands the request to :func:`read_webhook`, which verifies it by the channel kind's scheme and turns
the body into :class:`InboundItem` values; the caller stores them raw (deduplicated on ``kind`` +
``provider_id``) and only then answers 2xx. Anything wrong raises :class:`WebhookRejected`, whose
``status`` is the HTTP status to answer with and whose ``code`` and ``message`` can go in the body:

============================  ======  ==========================================================
code                          status  meaning
============================  ======  ==========================================================
``auth.missing``              401     no token/signature/timestamp header
``auth.expired``              401     partner timestamp outside the replay window (or malformed)
``auth.invalid``              403     token or signature does not match
``auth.not_configured``       403     we have no secret for this source: refuse, never accept
``payload.malformed``         400     not JSON / not UTF-8
``payload.invalid``           400     JSON of the wrong shape; the message names the field
``payload.too_large``         413     body over :data:`MAX_BODY_BYTES`, a text over
                                      :data:`MAX_TEXT_CHARS` characters, or too many items
``channel.no_inbound``        404     the channel's kind takes no webhooks
============================  ======  ==========================================================

Over-long text is rejected (413), not truncated: a truncated reply could lose exactly the
sentence that mattered, and the sender learns that it was not accepted.

Texts are returned as the platform gave them (Mastodon's HTML turned into plain text); the
service that stores them still runs them through ``core.sanitize.sanitize_text``.
Non-text updates (stickers, photos without caption, joins, reactions) give an empty list:
they are acknowledged and ignored, not errors. Nothing is ignored silently, though: every
``parse_*`` function returns a :class:`Parsed` list of items whose ``ignored`` attribute says
what was left out and why (:class:`Ignored`, a ``reason`` code and a short ``detail``), and the
service that stores the items counts those per channel and reason
(``engage.inbound.inbound_drops.record_drop``), for the team's administrators to see.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_ITEMS",
    "MAX_TEXT_CHARS",
    "WEBHOOK_KINDS",
    "Ignored",
    "InboundItem",
    "Parsed",
    "WebhookRejected",
    "WebhookRequest",
    "read_webhook",
]

MAX_TEXT_CHARS = 10_000
MAX_BODY_BYTES = 1_048_576  # 1 MiB: far above any real update, far below trouble
MAX_ITEMS = 100  # partner batch size
MAX_ID_CHARS = 200

# The channel kinds that take webhooks, and the module that reads each one's requests.
_READERS: dict[str, str] = {
    "telegram": "platforms.telegram.inbound",
    "sms": "platforms.sms.inbound",
    "webhook": "platforms.webhook.inbound",
}
WEBHOOK_KINDS: frozenset[str] = frozenset(_READERS)


class WebhookRejected(Exception):
    """The request is refused; answer ``status`` with ``code`` and ``message``."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class InboundItem:
    provider_id: str  # unique per kind; the deduplication key
    author_handle: str
    author_name: str
    text: str
    in_reply_to: str  # external id of our post it answers, "" if unknown
    received_at: datetime  # UTC
    kind: str  # "telegram" | "sms" | "webhook" | "mastodon"


@dataclass(frozen=True)
class Ignored:
    """One inbound item we acknowledged but did not store, and why.

    ``reason`` is a short stable code (``telegram.bot``, ``telegram.own_channel``, ``sms.no_text``,
    ...; see ``engage.inbound.inbound_drops.REASONS``), ``detail`` a few words for the
    administrators (never the item's text: it may be personal data).
    """

    reason: str
    detail: str = ""


class Parsed(list[InboundItem]):
    """The items a parser read (it is a list of them), with ``ignored``: what it left out and why."""

    def __init__(self, items: Any = (), ignored: Any = ()) -> None:
        super().__init__(items)
        self.ignored: list[Ignored] = list(ignored)


@dataclass(frozen=True)
class WebhookRequest:
    """What a platform's webhook request carried: its headers (any case, WSGI ``HTTP_...`` keys
    understood), raw body, the URL it was sent to as we see it, and its form fields (for
    form-encoded posts such as Twilio's)."""

    headers: Mapping[str, str]
    body: bytes
    url: str = ""
    form: Mapping[str, str] | None = None


def read_webhook(
    kind: str, request: WebhookRequest, *, config: Mapping[str, Any], secrets: Mapping[str, str]
) -> tuple[Parsed, list[Any]]:
    """Verify ``request`` by the scheme of a channel of ``kind`` and read its replies.

    Returns the items (a :class:`Parsed` list, whose ``ignored`` says what the request carried that
    is not to be stored, and why) and, for each item, the raw data it came from (to keep beside the
    reply until retention). ``config`` and ``secrets`` are the channel's. Raises
    :class:`WebhookRejected`; ``channel.no_inbound`` (404) for a kind that takes no webhooks.
    """
    module = _READERS.get(kind)
    if module is None:
        raise WebhookRejected("channel.no_inbound", "This channel does not take webhooks.", 404)
    reader = importlib.import_module(module)
    return reader.read_webhook(request, config=config, secrets=secrets)


# -- helpers shared by the platform readers --------------------------------------------------------


def ignored_only(reason: str, detail: str = "") -> Parsed:
    """No item, and the one reason why."""
    return Parsed(ignored=[Ignored(reason, detail)])


def invalid(message: str) -> WebhookRejected:
    return WebhookRejected("payload.invalid", message, 400)


def header(headers: Mapping[str, str], name: str) -> str:
    """Case-insensitive header lookup that also understands WSGI ``HTTP_X_...`` keys."""
    value = headers.get(name)
    if value is not None:
        return str(value)
    wanted = name.lower()
    for key, candidate in headers.items():
        normal = str(key).lower().replace("_", "-")
        if normal.startswith("http-"):
            normal = normal[5:]
        if normal == wanted:
            return str(candidate)
    return ""


def load_json(body: bytes) -> Any:
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRejected("payload.too_large", f"The body is larger than {MAX_BODY_BYTES} bytes.", 413)
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise WebhookRejected("payload.malformed", f"The body is not UTF-8: {exc.reason}.", 400) from exc
    except json.JSONDecodeError as exc:
        raise WebhookRejected(
            "payload.malformed", f"The body is not valid JSON: {exc.msg} at position {exc.pos}.", 400
        ) from exc
    except RecursionError as exc:
        raise WebhookRejected("payload.malformed", "The JSON is nested too deeply.", 400) from exc


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def want_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{where}: expected an integer, got {type_name(value)}.")
    return value


def want_str(value: Any, where: str, *, required: bool = True, max_chars: int = MAX_ID_CHARS) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise invalid(f"{where}: expected a string, got {type_name(value)}.")
    if required and not value.strip():
        raise invalid(f"{where}: must not be empty.")
    if len(value) > max_chars:
        if max_chars == MAX_TEXT_CHARS:
            raise WebhookRejected(
                "payload.too_large", f"{where}: {len(value)} characters, more than the {MAX_TEXT_CHARS} allowed.", 413
            )
        raise invalid(f"{where}: longer than {max_chars} characters.")
    return value


def want_dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(f"{where}: expected an object, got {type_name(value)}.")
    return value


def check_text(text: str, where: str) -> str:
    if len(text) > MAX_TEXT_CHARS:
        raise WebhookRejected(
            "payload.too_large", f"{where}: {len(text)} characters, more than the {MAX_TEXT_CHARS} allowed.", 413
        )
    return text


def unix_to_utc(value: Any, where: str) -> datetime:
    seconds = want_int(value, where)
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise invalid(f"{where}: {seconds} is not a usable unix time.") from exc


def iso_to_utc(value: Any, where: str) -> datetime:
    text = want_str(value, where, max_chars=64)
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise invalid(f"{where}: {text!r} is not an ISO 8601 date and time.") from exc
    if parsed.tzinfo is None:
        raise invalid(f"{where}: {text!r} has no time zone; send UTC with 'Z' or an offset such as '+01:00'.")
    return parsed.astimezone(UTC)
