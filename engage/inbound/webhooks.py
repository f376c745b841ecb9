"""Checking and reading what platforms send us: Telegram, Twilio SMS, partners, Mastodon.

Pure functions, no database and no Django: a view verifies the request with one of the
``verify_*`` functions, turns the body into :class:`InboundItem` values with the matching
``parse_*`` function, stores them raw (deduplicated on ``kind`` + ``provider_id``) and only then
answers 2xx. Anything wrong raises :class:`WebhookRejected`, whose ``status`` is the HTTP status
to answer with and whose ``code`` and ``message`` can go in the body:

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

import base64
import hashlib
import hmac
import html as htmllib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from core.signing import SignatureError
from core.signing import verify as verify_signature

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_ITEMS",
    "MAX_TEXT_CHARS",
    "Ignored",
    "IgnoredItem",
    "InboundItem",
    "MastodonPage",
    "Parsed",
    "WebhookRejected",
    "html_to_text",
    "parse_mastodon_notifications",
    "parse_partner",
    "parse_telegram_update",
    "parse_twilio_sms",
    "read_mastodon_notifications",
    "twilio_signature",
    "verify_partner",
    "verify_telegram",
    "verify_twilio",
]

MAX_TEXT_CHARS = 10_000
MAX_BODY_BYTES = 1_048_576  # 1 MiB: far above any real update, far below trouble
MAX_HTML_CHARS = 200_000  # Mastodon status HTML before it is turned into text
MAX_ITEMS = 100  # partner batch size
MAX_ID_CHARS = 200

TELEGRAM_TOKEN_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
PARTNER_TIMESTAMP_HEADER = "X-Engage-Timestamp"
PARTNER_SIGNATURE_HEADER = "X-Engage-Signature"
TELEGRAM_MESSAGE_KEYS = ("message", "edited_message", "channel_post", "edited_channel_post")


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


def _ignored(reason: str, detail: str = "") -> Parsed:
    return Parsed(ignored=[Ignored(reason, detail)])


# -- helpers ----------------------------------------------------------------------------------------


def _invalid(message: str) -> WebhookRejected:
    return WebhookRejected("payload.invalid", message, 400)


def _header(headers: Mapping[str, str], name: str) -> str:
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


def _load_json(body: bytes) -> Any:
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRejected("payload.too_large", f"The body is larger than {MAX_BODY_BYTES} bytes.", 413)
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise WebhookRejected("payload.malformed", f"The body is not UTF-8: {exc.reason}.", 400) from exc
    except json.JSONDecodeError as exc:
        raise WebhookRejected("payload.malformed", f"The body is not valid JSON: {exc.msg} at position {exc.pos}.", 400) from exc
    except RecursionError as exc:
        raise WebhookRejected("payload.malformed", "The JSON is nested too deeply.", 400) from exc


def _type_name(value: Any) -> str:
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


def _want_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(f"{where}: expected an integer, got {_type_name(value)}.")
    return value


def _want_str(value: Any, where: str, *, required: bool = True, max_chars: int = MAX_ID_CHARS) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise _invalid(f"{where}: expected a string, got {_type_name(value)}.")
    if required and not value.strip():
        raise _invalid(f"{where}: must not be empty.")
    if len(value) > max_chars:
        if max_chars == MAX_TEXT_CHARS:
            raise WebhookRejected(
                "payload.too_large", f"{where}: {len(value)} characters, more than the {MAX_TEXT_CHARS} allowed.", 413
            )
        raise _invalid(f"{where}: longer than {max_chars} characters.")
    return value


def _want_dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid(f"{where}: expected an object, got {_type_name(value)}.")
    return value


def _check_text(text: str, where: str) -> str:
    if len(text) > MAX_TEXT_CHARS:
        raise WebhookRejected(
            "payload.too_large", f"{where}: {len(text)} characters, more than the {MAX_TEXT_CHARS} allowed.", 413
        )
    return text


def _unix_to_utc(value: Any, where: str) -> datetime:
    seconds = _want_int(value, where)
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise _invalid(f"{where}: {seconds} is not a usable unix time.") from exc


def _iso_to_utc(value: Any, where: str) -> datetime:
    text = _want_str(value, where, max_chars=64)
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise _invalid(f"{where}: {text!r} is not an ISO 8601 date and time.") from exc
    if parsed.tzinfo is None:
        raise _invalid(f"{where}: {text!r} has no time zone; send UTC with 'Z' or an offset such as '+01:00'.")
    return parsed.astimezone(UTC)


# -- verification -----------------------------------------------------------------------------------


def verify_telegram(*, headers: Mapping[str, str], secret_token: str) -> None:
    """Check ``X-Telegram-Bot-Api-Secret-Token`` against the ``secret_token`` given to setWebhook.

    Telegram does not sign its updates; it echoes the secret we chose. Compared in constant time.
    """
    if not secret_token:
        raise WebhookRejected("auth.not_configured", "No Telegram secret token is configured for this channel.", 403)
    supplied = _header(headers, TELEGRAM_TOKEN_HEADER)
    if not supplied:
        raise WebhookRejected("auth.missing", f"The {TELEGRAM_TOKEN_HEADER} header is missing.", 401)
    if not hmac.compare_digest(supplied.encode("utf-8"), secret_token.encode("utf-8")):
        raise WebhookRejected("auth.invalid", "The Telegram secret token does not match.", 403)


def twilio_signature(*, url: str, params: Mapping[str, str], auth_token: str) -> str:
    """Twilio's ``X-Twilio-Signature`` for a form POST.

    Base64 of HMAC-SHA1, keyed with the account's auth token, over the full URL Twilio called
    (with its query string) followed by every POST parameter's name and value, sorted by name
    (case-sensitive), with no separators.
    """
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(auth_token.encode("utf-8"), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _url_variants(url: str) -> list[str]:
    """The URL as given, and with the default port added or removed.

    Twilio signs the URL exactly as configured; behind a proxy we may see it with or without
    ``:443``. Twilio's own helper libraries accept either, and so do we.
    """
    variants = [url]
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    if default is None or not parts.hostname:
        return variants
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    try:
        port = parts.port
    except ValueError:
        return variants
    if port is None:
        other = f"{prefix}{host}:{default}"
    elif port == default:
        other = f"{prefix}{host}"
    else:
        return variants
    variants.append(urlunsplit((parts.scheme, other, parts.path, parts.query, parts.fragment)))
    return variants


def verify_twilio(*, url: str, params: Mapping[str, str], signature: str, auth_token: str) -> None:
    """Check Twilio's ``X-Twilio-Signature`` for an SMS webhook (form-encoded POST).

    ``url`` must be the URL Twilio was configured to call, scheme and query string included;
    ``params`` the POST form fields (one value each, as Twilio sends for SMS).
    """
    if not auth_token:
        raise WebhookRejected("auth.not_configured", "No Twilio auth token is configured for this channel.", 403)
    if not signature:
        raise WebhookRejected("auth.missing", "The X-Twilio-Signature header is missing.", 401)
    supplied = signature.strip().encode("ascii", "replace")
    valid = False
    for candidate in _url_variants(url):
        expected = twilio_signature(url=candidate, params=params, auth_token=auth_token).encode("ascii")
        valid |= hmac.compare_digest(expected, supplied)
    if not valid:
        raise WebhookRejected("auth.invalid", "The Twilio signature does not match.", 403)


_SIGNATURE_CODES = {
    "missing_timestamp": ("auth.missing", 401),
    "missing_signature": ("auth.missing", 401),
    "bad_timestamp": ("auth.expired", 401),
    "stale_timestamp": ("auth.expired", 401),
    "future_timestamp": ("auth.expired", 401),
    "bad_signature": ("auth.invalid", 403),
}


def verify_partner(*, headers: Mapping[str, str], body: bytes, secret: str, now: float | None = None) -> None:
    """Check a partner's ``X-Engage-Timestamp`` and ``X-Engage-Signature`` (HMAC-SHA256).

    Delegates to :func:`core.signing.verify`: the signature covers
    ``b"<timestamp>." + body`` and the timestamp must be within five minutes of ``now``.
    """
    if not secret:
        raise WebhookRejected("auth.not_configured", "No signing secret is configured for this partner.", 403)
    try:
        verify_signature(
            secret=secret,
            body=body,
            timestamp=_header(headers, PARTNER_TIMESTAMP_HEADER),
            signature=_header(headers, PARTNER_SIGNATURE_HEADER),
            now=now,
        )
    except SignatureError as exc:
        code, status = _SIGNATURE_CODES.get(exc.code, ("auth.invalid", 403))
        raise WebhookRejected(code, exc.message, status) from exc


# -- Telegram ---------------------------------------------------------------------------------------


def _chat_handle(chat: dict[str, Any], where: str) -> tuple[str, str]:
    chat_id = _want_int(chat.get("id"), f"{where}.id")
    username = chat.get("username")
    handle = f"@{username}" if isinstance(username, str) and username else f"tg:{chat_id}"
    title = chat.get("title")
    return handle, title if isinstance(title, str) else ""


def _telegram_author(message: dict[str, Any], where: str) -> tuple[str, str]:
    """``(handle, name)`` of whoever wrote the message.

    ``sender_chat`` comes first: a message sent on behalf of a chat (a channel writing in its
    discussion group, an anonymous group administrator) carries the real sender there and a
    placeholder bot in ``from`` ("for backward compatibility", Bot API ``Message.from``).
    """
    sender_chat = message.get("sender_chat")
    if sender_chat is not None:
        return _chat_handle(_want_dict(sender_chat, f"{where}.sender_chat"), f"{where}.sender_chat")
    sender = message.get("from")
    if sender is not None:
        sender = _want_dict(sender, f"{where}.from")
        user_id = _want_int(sender.get("id"), f"{where}.from.id")
        username = sender.get("username")
        handle = f"@{username}" if isinstance(username, str) and username else f"tg:{user_id}"
        names = [sender.get("first_name"), sender.get("last_name")]
        return handle, " ".join(name for name in names if isinstance(name, str) and name).strip()
    return _chat_handle(_want_dict(message.get("chat"), f"{where}.chat"), f"{where}.chat")


def _is_chat(chat: Any, own_chat: str) -> bool:
    """Whether ``chat`` (a Telegram ``Chat`` object) is the chat our channel config names.

    ``own_chat`` is the config's ``chat_id``: a numeric id (``-100...``) or ``@username``.
    """
    if not own_chat or not isinstance(chat, dict):
        return False
    own = own_chat.strip()
    if own.startswith("@"):
        username = chat.get("username")
        return isinstance(username, str) and username.lower() == own[1:].lower()
    chat_id = chat.get("id")
    return isinstance(chat_id, int) and not isinstance(chat_id, bool) and str(chat_id) == own


def _telegram_reply_target(message: dict[str, Any], where: str, own_chat: str = "") -> str:
    """The message id of ours being answered, as our Telegram adapter records it.

    A reply to a channel post is written in the channel's discussion group, to the copy that
    Telegram forwarded there automatically; that copy says which channel message it came from
    (``forward_origin`` since Bot API 7.0, ``forward_from_message_id`` before), and that
    channel message id is what the adapter stored as the post's ``external_id``. Otherwise
    the replied-to ``message_id`` itself.

    A reply written in another chat that quotes our post carries no ``reply_to_message`` but an
    ``external_reply`` (Bot API 7.0+, ``ExternalReplyInfo``): its ``chat`` and ``message_id``
    (or, failing those, a channel ``origin``'s) name the post; it is ours, and threaded, when
    that chat is ``own_chat``.
    """
    replied = message.get("reply_to_message")
    if replied is None:
        return _telegram_external_target(message.get("external_reply"), f"{where}.external_reply", own_chat)
    replied = _want_dict(replied, f"{where}.reply_to_message")
    origin = replied.get("forward_origin")
    if isinstance(origin, dict) and origin.get("type") == "channel" and isinstance(origin.get("message_id"), int):
        return str(origin["message_id"])
    legacy = replied.get("forward_from_message_id")
    if isinstance(legacy, int) and not isinstance(legacy, bool):
        return str(legacy)
    return str(_want_int(replied.get("message_id"), f"{where}.reply_to_message.message_id"))


def _telegram_external_target(external: Any, where: str, own_chat: str) -> str:
    if external is None:
        return ""
    external = _want_dict(external, where)
    candidates = [(external.get("chat"), external.get("message_id"))]
    origin = external.get("origin")
    if isinstance(origin, dict) and origin.get("type") == "channel":
        candidates.append((origin.get("chat"), origin.get("message_id")))
    for chat, message_id in candidates:
        if message_id is None or not _is_chat(chat, own_chat):
            continue
        return str(_want_int(message_id, f"{where}.message_id"))
    return ""


def parse_telegram_update(body: bytes, *, own_chat: str = "") -> Parsed:
    """The reply in one Telegram ``Update``, or none (with the reason in ``.ignored``).

    ``own_chat`` is the ``chat_id`` our channel posts to (``@name`` or a numeric id).

    Reads ``message``, ``edited_message``, ``channel_post`` and ``edited_channel_post``; the
    text is ``text`` or, for media, the ``caption``. Ignored, each with its reason: other update
    kinds (``telegram.not_a_message``: callback queries, reactions, member changes), messages
    without text or caption (``telegram.no_text``), messages from genuine bots, ours included
    (``telegram.bot``: ``from.is_bot`` with no ``sender_chat``; a message sent on behalf of a
    chat has a placeholder bot in ``from`` and its real author in ``sender_chat``, and is kept),
    the automatic copy of our channel post in its discussion group
    (``telegram.automatic_forward``), and posts made by our own channel
    (``telegram.own_channel``: a ``channel_post`` in ``own_chat``, or a message sent as it).

    ``provider_id`` is ``"<chat id>:<message id>"``: message ids are only unique within a chat,
    and the pair is the same however often Telegram redelivers the update (``update_id`` would
    also be stable, but does not exist for messages fetched another way). An edit is a new item
    ``"<chat id>:<message id>:edit:<edit_date>"``, so the original is kept and each edit is
    stored once. ``in_reply_to`` is the bare message id of the post answered (see
    :func:`_telegram_reply_target`). ``author_handle`` is ``@username`` or ``tg:<id>`` of the
    ``sender_chat`` when there is one, else of ``from``.
    """
    update = _load_json(body)
    if not isinstance(update, dict):
        raise _invalid(f"update: expected an object, got {_type_name(update)}.")
    _want_int(update.get("update_id"), "update.update_id")
    key = next((name for name in TELEGRAM_MESSAGE_KEYS if name in update), None)
    if key is None:
        kinds = sorted(name for name in update if name != "update_id")
        return _ignored("telegram.not_a_message", (kinds[0] if kinds else "empty update")[:40])
    where = f"update.{key}"
    message = _want_dict(update[key], where)
    chat = _want_dict(message.get("chat"), f"{where}.chat")
    if key.endswith("channel_post") and _is_chat(chat, own_chat):
        return _ignored("telegram.own_channel", f"{key} in our own channel")
    sender_chat = message.get("sender_chat")
    if message.get("is_automatic_forward") is True:
        return _ignored("telegram.automatic_forward", "our channel post copied to its discussion group")
    if sender_chat is not None and _is_chat(sender_chat, own_chat):
        return _ignored("telegram.own_channel", f"{key} sent as our own channel")
    sender = message.get("from")
    if sender_chat is None and isinstance(sender, dict) and sender.get("is_bot") is True:
        return _ignored("telegram.bot", f"{key} from a bot")
    text = message.get("text")
    if text is None:
        text = message.get("caption")
    if text is None:
        return _ignored("telegram.no_text", f"{key} without text or caption")
    text = _check_text(_want_str(text, f"{where}.text", required=False, max_chars=MAX_TEXT_CHARS), f"{where}.text")
    if not text.strip():
        return _ignored("telegram.no_text", f"{key} with blank text")
    message_id = _want_int(message.get("message_id"), f"{where}.message_id")
    chat_id = _want_int(chat.get("id"), f"{where}.chat.id")
    provider_id = f"{chat_id}:{message_id}"
    received_at = _unix_to_utc(message.get("date"), f"{where}.date")
    if key.startswith("edited_"):
        edit_date = _want_int(message.get("edit_date"), f"{where}.edit_date")
        provider_id = f"{provider_id}:edit:{edit_date}"
        received_at = _unix_to_utc(edit_date, f"{where}.edit_date")
    handle, name = _telegram_author(message, where)
    return Parsed([
        InboundItem(
            provider_id=provider_id,
            author_handle=handle,
            author_name=name,
            text=text,
            in_reply_to=_telegram_reply_target(message, where, own_chat),
            received_at=received_at,
            kind="telegram",
        )
    ])


# -- Twilio SMS -------------------------------------------------------------------------------------


def parse_twilio_sms(params: Mapping[str, str], *, received_at: datetime | None = None) -> Parsed:
    """The SMS in a Twilio messaging webhook (form fields ``MessageSid``, ``From``, ``Body``).

    ``provider_id`` is the ``MessageSid``; ``author_handle`` the sender's number as Twilio gives
    it (E.164, personal data); Twilio sends no name, no thread and no send time, so
    ``author_name`` and ``in_reply_to`` are empty and ``received_at`` is now (or the value
    given). An MMS without body text gives no item (``sms.no_text`` in ``.ignored``).
    """
    sid = _want_str(params.get("MessageSid") or params.get("SmsSid"), "MessageSid", max_chars=64)
    sender = _want_str(params.get("From"), "From", max_chars=64)
    body = params.get("Body", "")
    text = _check_text(_want_str(body, "Body", required=False, max_chars=MAX_TEXT_CHARS), "Body")
    if not text.strip():
        media = params.get("NumMedia", "0")
        return _ignored("sms.no_text", f"MMS with {media} media and no text" if media not in ("", "0") else "empty body")
    when = received_at.astimezone(UTC) if received_at is not None else datetime.now(tz=UTC)
    return Parsed([
        InboundItem(
            provider_id=sid.strip(),
            author_handle=sender.strip(),
            author_name="",
            text=text,
            in_reply_to="",
            received_at=when,
            kind="sms",
        )
    ])


# -- partners ---------------------------------------------------------------------------------------

_PARTNER_FIELDS = frozenset({"id", "author", "author_name", "text", "in_reply_to", "sent_at"})


def _partner_item(raw: Any, where: str) -> InboundItem:
    item = _want_dict(raw, where)
    unknown = sorted(set(item) - _PARTNER_FIELDS)
    if unknown:
        raise _invalid(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_PARTNER_FIELDS))}.")
    missing = [name for name in ("id", "author", "text", "sent_at") if name not in item]
    if missing:
        raise _invalid(f"{where}: missing required field(s) {', '.join(missing)}.")
    return InboundItem(
        provider_id=_want_str(item["id"], f"{where}.id").strip(),
        author_handle=_want_str(item["author"], f"{where}.author").strip(),
        author_name=_want_str(item.get("author_name"), f"{where}.author_name", required=False).strip(),
        text=_want_str(item["text"], f"{where}.text", max_chars=MAX_TEXT_CHARS),
        in_reply_to=_want_str(item.get("in_reply_to"), f"{where}.in_reply_to", required=False).strip(),
        received_at=_iso_to_utc(item["sent_at"], f"{where}.sent_at"),
        kind="webhook",
    )


def parse_partner(body: bytes) -> Parsed:
    """Replies a partner forwards to us, as JSON.

    Either one reply or a batch of up to :data:`MAX_ITEMS`::

        {"id": "abc-1", "author": "@jane", "text": "Where is gate B?",
         "in_reply_to": "<our post id>", "sent_at": "2026-06-01T18:30:00Z"}
        {"items": [{...}, {...}]}

    ``id``, ``author``, ``text`` (1 to 10,000 characters) and ``sent_at`` (ISO 8601 with a time
    zone) are required; ``in_reply_to`` (string or null) and ``author_name`` are optional; any
    other field is refused, so a typo (``"txt"``) fails loudly instead of losing the text.
    Ids must be unique within a batch. Partners' replies are never ignored: anything we would
    not store is refused with a 4xx, so the partner knows (``.ignored`` is always empty).
    """
    payload = _load_json(body)
    if not isinstance(payload, dict):
        raise _invalid(f"body: expected an object, got {_type_name(payload)}.")
    if "items" not in payload:
        return Parsed([_partner_item(payload, "body")])
    if set(payload) != {"items"}:
        raise _invalid("body: a batch has only the field 'items'.")
    raw_items = payload["items"]
    if not isinstance(raw_items, list):
        raise _invalid(f"items: expected an array, got {_type_name(raw_items)}.")
    if len(raw_items) > MAX_ITEMS:
        raise WebhookRejected("payload.too_large", f"items: {len(raw_items)} items, more than the {MAX_ITEMS} allowed.", 413)
    items: list[InboundItem] = []
    first_seen: dict[str, int] = {}
    for index, raw in enumerate(raw_items):
        item = _partner_item(raw, f"items[{index}]")
        if item.provider_id in first_seen:
            raise _invalid(f"items[{index}].id: {item.provider_id!r} repeats items[{first_seen[item.provider_id]}].id.")
        first_seen[item.provider_id] = index
        items.append(item)
    return Parsed(items)


# -- Mastodon ---------------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "hr"}
)
_SCRIPT_BLOCK = re.compile(
    r"<(script|style|template|noscript|iframe|object|embed|title)\b.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL
)
_TAG_LIKE = re.compile(r"<[^>]*(?:>|$)")
_DROP_CONTENT_TAGS = frozenset({"script", "style", "template", "noscript", "iframe", "object", "embed", "title"})


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment: tags and attributes dropped, link text kept,
    the content of script-like elements dropped, entities decoded. An element whose ``class``
    names one of ``drop_classes`` is dropped with its content (Mastodon's ``quote-inline``)."""

    def __init__(self, drop_classes: frozenset[str] = frozenset()) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._dropping = 0
        self._drop_classes = drop_classes
        self._class_drop: tuple[str, int] | None = None  # (tag, nesting depth) being dropped

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._class_drop is not None:
            if tag == self._class_drop[0]:
                self._class_drop = (tag, self._class_drop[1] + 1)
            return
        classes = {c for name, value in attrs if name == "class" and value for c in value.split()}
        if classes & self._drop_classes:
            self._class_drop = (tag, 1)
        elif tag in _DROP_CONTENT_TAGS:
            self._dropping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS and self._class_drop is None:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._class_drop is not None:
            if tag == self._class_drop[0]:
                depth = self._class_drop[1] - 1
                self._class_drop = (tag, depth) if depth else None
            return
        if tag in _DROP_CONTENT_TAGS:
            self._dropping = max(0, self._dropping - 1)
        elif tag in {"p", "div", "blockquote", "pre", "li"}:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._dropping and self._class_drop is None:
            self.parts.append(data)


def html_to_text(html: str, *, drop_classes: frozenset[str] = frozenset()) -> str:
    """Plain text of an HTML fragment such as a Mastodon status's ``content``.

    Every tag and attribute goes (so ``href="javascript:…"``, ``onerror=`` and ``<svg onload>``
    go with them); the text inside links stays; ``<script>``/``<style>`` contents go; ``<p>`` and
    ``<br>`` become line breaks; entities are decoded, so ``&lt;b&gt;`` comes out as the five
    characters ``<b>`` the person typed: plain text, to be escaped when shown. Elements whose
    ``class`` is in ``drop_classes`` go with their content.
    """
    parser = _TextExtractor(drop_classes)
    try:
        parser.feed(html)
        # What the parser still holds is an unfinished construct; one starting with "<" is a
        # broken tag (a well-formed status escapes a typed "<" as &lt;), so it is dropped
        # rather than flushed out as text.
        tail = parser.rawdata
        if "<" in tail:
            parser.rawdata = tail[: tail.index("<")]
        parser.close()
        text = "".join(parser.parts)
    except AssertionError:
        # html.parser gives up on some malformed declarations (e.g. "<![foo["). Fall back to
        # removing script-like blocks and anything tag-shaped, then decoding entities.
        stripped = _SCRIPT_BLOCK.sub(" ", html)
        text = htmllib.unescape(_TAG_LIKE.sub(" ", stripped))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    collapsed: list[str] = []
    for line in lines:
        if line or (collapsed and collapsed[-1]):
            collapsed.append(line)
    return "\n".join(collapsed).strip()


# What the Mastodon poll asks for (``types[]``): mentions, and quotes of our statuses (Mastodon 4.5,
# API version 7; an older instance ignores a type it does not know). A quote of our status is a
# public answer to it, as a reply is, so it goes to the inbox threaded to the quoted status.
MASTODON_TYPES = ("mention", "quote")

# Why the Mastodon poll left a notification out (``IgnoredItem.reason``): fixed strings, to count by.
MASTODON_TYPE_NOT_HANDLED = "mastodon.type_not_handled"  # not a mention or a quote (the instance ignored types[])
MASTODON_NO_STATUS = "mastodon.no_status"  # a mention or quote without its status (deleted, or hidden from us)
MASTODON_NO_TEXT = "mastodon.no_text"  # the status has no text (only images, say)
MASTODON_UNREADABLE = "mastodon.unreadable"  # not shaped as Mastodon documents a notification
MASTODON_TOO_LONG = "mastodon.too_long"  # more text than MAX_TEXT_CHARS
MASTODON_IGNORE_REASONS = (MASTODON_TYPE_NOT_HANDLED, MASTODON_NO_STATUS, MASTODON_NO_TEXT,
                           MASTODON_UNREADABLE, MASTODON_TOO_LONG)

_SAFE_WORD = re.compile(r"^[a-z][a-z0-9_.]{0,39}$")
_QUOTE_FALLBACK = frozenset({"quote-inline"})  # Mastodon's "RE: <link>" paragraph for older clients


@dataclass(frozen=True)
class IgnoredItem:
    """One notification the poll did not store, and why. ``detail`` is in our own words (a field
    path, an error code, a documented type name): never the platform's text."""

    provider_id: str  # the notification id, "" when it could not be read
    reason: str  # one of MASTODON_IGNORE_REASONS
    detail: str = ""


@dataclass(frozen=True)
class MastodonPage:
    """One page of notifications read: the replies (``raws[i]`` is the notification of
    ``items[i]``) and what was left out, with the reason."""

    items: list[InboundItem]
    raws: list[dict[str, Any]]
    ignored: list[IgnoredItem]


def _quoted_status_id(status: dict[str, Any], where: str) -> str:
    """The id of the status a status quotes: ``quote.quoted_status.id`` (a Quote) or
    ``quote.quoted_status_id`` (a ShallowQuote); "" when the quote is not shown (pending, revoked...)."""
    quote = status.get("quote")
    if not isinstance(quote, dict):
        return ""
    quoted = quote.get("quoted_status")
    if isinstance(quoted, dict):
        return _want_str(quoted.get("id"), f"{where}.status.quote.quoted_status.id")
    return _want_str(quote.get("quoted_status_id"), f"{where}.status.quote.quoted_status_id", required=False)


def _mastodon_read(raw: Any, where: str) -> InboundItem | IgnoredItem:
    """One notification as a reply, or why it is not one. Raises WebhookRejected when it is not
    shaped as Mastodon documents it."""
    notification = _want_dict(raw, where)
    raw_id = notification.get("id")
    notification_id = raw_id[:MAX_ID_CHARS] if isinstance(raw_id, str) else ""
    kind = notification.get("type")
    if kind not in MASTODON_TYPES:
        shown = kind if isinstance(kind, str) and _SAFE_WORD.match(kind) else "unrecognised"
        return IgnoredItem(notification_id, MASTODON_TYPE_NOT_HANDLED, f"type {shown}")
    status = notification.get("status")
    if status is None:
        return IgnoredItem(notification_id, MASTODON_NO_STATUS, f"a {kind} without its status")
    status = _want_dict(status, f"{where}.status")
    status_id = _want_str(status.get("id"), f"{where}.status.id")
    account = _want_dict(status.get("account") or notification.get("account"), f"{where}.status.account")
    acct = _want_str(account.get("acct"), f"{where}.status.account.acct")
    display_name = account.get("display_name")
    # Display names are free text of any length on some servers: shorten rather than refuse.
    display_name = display_name[:MAX_ID_CHARS] if isinstance(display_name, str) else ""
    content = _want_str(status.get("content"), f"{where}.status.content", required=False, max_chars=MAX_HTML_CHARS)
    spoiler = _want_str(status.get("spoiler_text"), f"{where}.status.spoiler_text", required=False, max_chars=MAX_TEXT_CHARS)
    quoted = _quoted_status_id(status, where)
    # A quote's "RE: <link>" fallback paragraph repeats the quoted post: Mastodon's client guide says
    # to hide it whenever the status has a quote.
    text = html_to_text(content, drop_classes=_QUOTE_FALLBACK if status.get("quote") else frozenset())
    if spoiler.strip():
        text = f"{spoiler.strip()}\n\n{text}".strip()
    _check_text(text, f"{where}.status.content")
    if not text:
        return IgnoredItem(notification_id, MASTODON_NO_TEXT, f"a {kind} with no text")
    in_reply_to = _want_str(status.get("in_reply_to_id"), f"{where}.status.in_reply_to_id", required=False)
    if kind == "quote" and quoted:
        in_reply_to = quoted  # the quote answers the status it quotes: ours
    return InboundItem(
        provider_id=status_id,
        author_handle=f"@{acct.lstrip('@')}",
        author_name=display_name.strip(),
        text=text,
        in_reply_to=in_reply_to,
        received_at=_iso_to_utc(status.get("created_at"), f"{where}.status.created_at"),
        kind="mastodon",
    )


def read_mastodon_notifications(payload: Any) -> MastodonPage:
    """A page of ``GET /api/v1/notifications`` (decoded JSON), read one notification at a time.

    Mentions and quotes with text become items (see :func:`parse_mastodon_notifications`); every
    other notification is listed in ``ignored`` with its reason, and so is one that cannot be read,
    so one odd notification never holds up the ones after it. Raises WebhookRejected only when the
    page itself is not an array.
    """
    if not isinstance(payload, list):
        raise _invalid(f"notifications: expected an array, got {_type_name(payload)}.")
    items: list[InboundItem] = []
    raws: list[dict[str, Any]] = []
    ignored: list[IgnoredItem] = []
    for index, raw in enumerate(payload):
        where = f"notifications[{index}]"
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        notification_id = raw_id[:MAX_ID_CHARS] if isinstance(raw_id, str) else ""
        try:
            result = _mastodon_read(raw, where)
        except WebhookRejected as exc:
            reason = MASTODON_TOO_LONG if exc.status == 413 else MASTODON_UNREADABLE
            field = exc.message.split(":", 1)[0] if exc.message.startswith(where) else where
            ignored.append(IgnoredItem(notification_id, reason, f"{exc.code} at {field}"))
            continue
        if isinstance(result, IgnoredItem):
            ignored.append(result)
        else:
            items.append(result)
            raws.append(raw)
    return MastodonPage(items=items, raws=raws, ignored=ignored)


def parse_mastodon_notifications(payload: list[dict[str, Any]]) -> list[InboundItem]:
    """Mentions and quotes from ``GET /api/v1/notifications?types[]=mention&types[]=quote``
    (already decoded JSON), refusing (WebhookRejected) a notification that cannot be read.

    One item per ``mention`` or ``quote`` notification with a status and some text; other
    notification types are skipped. ``provider_id`` is the status id (what ``in_reply_to_id`` and
    our Mastodon adapter's ``external_id`` also use), ``author_handle`` is ``@`` + ``acct`` (``user``
    for our instance, ``user@host`` for others), the text is the status HTML as plain text (see
    :func:`html_to_text`; a quote's ``quote-inline`` fallback paragraph left out) with any content
    warning (``spoiler_text``) first, and ``received_at`` is the status's ``created_at``.
    ``in_reply_to`` is the status it replies to, or for a quote the status it quotes.
    """
    if not isinstance(payload, list):
        raise _invalid(f"notifications: expected an array, got {_type_name(payload)}.")
    items: list[InboundItem] = []
    for index, raw in enumerate(payload):
        result = _mastodon_read(raw, f"notifications[{index}]")
        if isinstance(result, InboundItem):
            items.append(result)
    return items
