"""Verifying and reading what partners send us (platforms.webhook.inbound)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.signing import sign
from platforms.inbound import MAX_ITEMS, MAX_TEXT_CHARS, InboundItem, WebhookRejected
from platforms.webhook.inbound import parse_partner, verify_partner

# -- partners ---------------------------------------------------------------------------------------

SECRET = "partner-secret"
NOW = 1_780_000_000.0


def _signed_headers(body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "X-Engage-Timestamp": str(timestamp),
        "X-Engage-Signature": sign(secret=SECRET, body=body, timestamp=timestamp),
    }


def test_partner_signature_verifies() -> None:
    body = b'{"id": "1"}'
    verify_partner(headers=_signed_headers(body, int(NOW) - 10), body=body, secret=SECRET, now=NOW)


def test_partner_timestamp_six_minutes_old_fails() -> None:
    body = b'{"id": "1"}'
    with pytest.raises(WebhookRejected) as caught:
        verify_partner(headers=_signed_headers(body, int(NOW) - 360), body=body, secret=SECRET, now=NOW)
    assert (caught.value.status, caught.value.code) == (401, "auth.expired")


def test_partner_bad_or_missing_signature_fails() -> None:
    body = b'{"id": "1"}'
    headers = _signed_headers(body, int(NOW))
    with pytest.raises(WebhookRejected) as tampered:
        verify_partner(headers=headers, body=body + b" ", secret=SECRET, now=NOW)
    assert (tampered.value.status, tampered.value.code) == (403, "auth.invalid")
    with pytest.raises(WebhookRejected) as missing:
        verify_partner(headers={}, body=body, secret=SECRET, now=NOW)
    assert (missing.value.status, missing.value.code) == (401, "auth.missing")
    with pytest.raises(WebhookRejected) as unconfigured:
        verify_partner(headers=headers, body=body, secret="", now=NOW)
    assert unconfigured.value.code == "auth.not_configured"


PARTNER_ITEM = {
    "id": "abc-1",
    "author": "@jane",
    "text": "Where is gate B?",
    "in_reply_to": "post-9",
    "sent_at": "2026-06-01T19:30:00+01:00",
}


def test_parse_partner_single_and_batch() -> None:
    [item] = parse_partner(json.dumps(PARTNER_ITEM).encode())
    assert item == InboundItem(
        provider_id="abc-1",
        author_handle="@jane",
        author_name="",
        text="Where is gate B?",
        in_reply_to="post-9",
        received_at=datetime(2026, 6, 1, 18, 30, tzinfo=UTC),
        kind="webhook",
    )
    second = {**PARTNER_ITEM, "id": "abc-2", "in_reply_to": None, "sent_at": "2026-06-01T18:31:00Z"}
    items = parse_partner(json.dumps({"items": [PARTNER_ITEM, second]}).encode())
    assert [item.provider_id for item in items] == ["abc-1", "abc-2"]
    assert items[1].in_reply_to == ""
    assert parse_partner(b'{"items": []}') == []


@pytest.mark.parametrize(
    ("payload", "status", "fragment"),
    [
        ({**PARTNER_ITEM, "txt": "typo"}, 400, "unknown field(s) txt"),
        ({key: value for key, value in PARTNER_ITEM.items() if key != "text"}, 400, "missing required field(s) text"),
        ({**PARTNER_ITEM, "text": 5}, 400, "body.text: expected a string, got number"),
        ({**PARTNER_ITEM, "text": ""}, 400, "body.text: must not be empty"),
        ({**PARTNER_ITEM, "sent_at": "2026-06-01T18:30:00"}, 400, "has no time zone"),
        ({**PARTNER_ITEM, "sent_at": "yesterday"}, 400, "not an ISO 8601"),
        ({"items": [PARTNER_ITEM, PARTNER_ITEM]}, 400, "items[1].id: 'abc-1' repeats items[0].id"),
        ({"items": [PARTNER_ITEM, "x"]}, 400, "items[1]: expected an object, got string"),
        ({"items": {}}, 400, "items: expected an array"),
        ({"items": [], "extra": 1}, 400, "only the field 'items'"),
        ({**PARTNER_ITEM, "text": "x" * (MAX_TEXT_CHARS + 1)}, 413, "more than the 10000 allowed"),
        ({"items": [{**PARTNER_ITEM, "id": str(n)} for n in range(MAX_ITEMS + 1)]}, 413, "more than the 100 allowed"),
    ],
)
def test_parse_partner_rejects_with_clear_messages(payload: Any, status: int, fragment: str) -> None:
    with pytest.raises(WebhookRejected) as caught:
        parse_partner(json.dumps(payload).encode())
    assert caught.value.status == status
    assert fragment in caught.value.message


def test_parse_partner_malformed_json_is_400() -> None:
    with pytest.raises(WebhookRejected) as caught:
        parse_partner(b'{"id": "1", ')
    assert (caught.value.status, caught.value.code) == (400, "payload.malformed")


def test_parse_partner_oversize_body_is_413() -> None:
    with pytest.raises(WebhookRejected) as caught:
        parse_partner(b" " * (1_048_576 + 1))
    assert (caught.value.status, caught.value.code) == (413, "payload.too_large")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_parse_partner_only_ever_raises_webhook_rejected(body: bytes) -> None:
    try:
        items = parse_partner(body)
    except WebhookRejected as exc:
        assert exc.status in {400, 413}
    else:
        assert all(isinstance(item, InboundItem) for item in items)
