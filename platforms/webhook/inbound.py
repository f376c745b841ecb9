"""What partners send us: replies forwarded as signed JSON (HMAC-SHA256, ``core.signing``).

Pure functions, no database (see ``platforms.inbound`` for the shared types and the refusals).
:func:`read_webhook` is what ``platforms.inbound.read_webhook`` calls for a webhook channel.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from core.signing import SignatureError
from core.signing import verify as verify_signature
from platforms.inbound import (
    MAX_ITEMS,
    MAX_TEXT_CHARS,
    InboundItem,
    Parsed,
    WebhookRejected,
    WebhookRequest,
    header,
    invalid,
    iso_to_utc,
    load_json,
    type_name,
    want_dict,
    want_str,
)

__all__ = ["PARTNER_SIGNATURE_HEADER", "PARTNER_TIMESTAMP_HEADER", "parse_partner", "raw_items", "read_webhook",
           "verify_partner"]

PARTNER_TIMESTAMP_HEADER = "X-Engage-Timestamp"
PARTNER_SIGNATURE_HEADER = "X-Engage-Signature"


def read_webhook(
    request: WebhookRequest, *, config: Mapping[str, Any], secrets: Mapping[str, str]
) -> tuple[Parsed, list[Any]]:
    """Verify the signature with the channel's ``inbound_secret`` (else its outbound
    ``signing_secret``) and read the replies; each item's raw data is its part of the body."""
    verify_partner(headers=request.headers, body=request.body,
                   secret=secrets.get("inbound_secret") or secrets.get("signing_secret", ""))
    items = parse_partner(request.body)
    return items, raw_items(request.body, len(items))


def raw_items(body: bytes, count: int) -> list[Any]:
    """The part of a partner's JSON body that each item came from (the item itself in a batch)."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return [None] * count
    if isinstance(document, dict) and isinstance(document.get("items"), list):
        return list(document["items"])[:count]
    return [document] * count


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
            timestamp=header(headers, PARTNER_TIMESTAMP_HEADER),
            signature=header(headers, PARTNER_SIGNATURE_HEADER),
            now=now,
        )
    except SignatureError as exc:
        code, status = _SIGNATURE_CODES.get(exc.code, ("auth.invalid", 403))
        raise WebhookRejected(code, exc.message, status) from exc


_PARTNER_FIELDS = frozenset({"id", "author", "author_name", "text", "in_reply_to", "sent_at"})


def _partner_item(raw: Any, where: str) -> InboundItem:
    item = want_dict(raw, where)
    unknown = sorted(set(item) - _PARTNER_FIELDS)
    if unknown:
        raise invalid(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_PARTNER_FIELDS))}.")
    missing = [name for name in ("id", "author", "text", "sent_at") if name not in item]
    if missing:
        raise invalid(f"{where}: missing required field(s) {', '.join(missing)}.")
    return InboundItem(
        provider_id=want_str(item["id"], f"{where}.id").strip(),
        author_handle=want_str(item["author"], f"{where}.author").strip(),
        author_name=want_str(item.get("author_name"), f"{where}.author_name", required=False).strip(),
        text=want_str(item["text"], f"{where}.text", max_chars=MAX_TEXT_CHARS),
        in_reply_to=want_str(item.get("in_reply_to"), f"{where}.in_reply_to", required=False).strip(),
        received_at=iso_to_utc(item["sent_at"], f"{where}.sent_at"),
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
    payload = load_json(body)
    if not isinstance(payload, dict):
        raise invalid(f"body: expected an object, got {type_name(payload)}.")
    if "items" not in payload:
        return Parsed([_partner_item(payload, "body")])
    if set(payload) != {"items"}:
        raise invalid("body: a batch has only the field 'items'.")
    raw_items = payload["items"]
    if not isinstance(raw_items, list):
        raise invalid(f"items: expected an array, got {type_name(raw_items)}.")
    if len(raw_items) > MAX_ITEMS:
        raise WebhookRejected(
            "payload.too_large", f"items: {len(raw_items)} items, more than the {MAX_ITEMS} allowed.", 413
        )
    items: list[InboundItem] = []
    first_seen: dict[str, int] = {}
    for index, raw in enumerate(raw_items):
        item = _partner_item(raw, f"items[{index}]")
        if item.provider_id in first_seen:
            raise invalid(f"items[{index}].id: {item.provider_id!r} repeats items[{first_seen[item.provider_id]}].id.")
        first_seen[item.provider_id] = index
        items.append(item)
    return Parsed(items)
