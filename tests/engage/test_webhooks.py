"""Verifying and parsing what Telegram, Twilio, partners and Mastodon send us."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.signing import sign
from engage.inbound.webhooks import (
    MAX_ITEMS,
    MAX_TEXT_CHARS,
    InboundItem,
    WebhookRejected,
    html_to_text,
    parse_mastodon_notifications,
    parse_partner,
    parse_telegram_update,
    parse_twilio_sms,
    twilio_signature,
    verify_partner,
    verify_telegram,
    verify_twilio,
)

# -- Twilio -----------------------------------------------------------------------------------------

# The worked example from Twilio's "Validating requests" documentation.
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
TWILIO_TOKEN = "12345"
TWILIO_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_twilio_documented_example_verifies() -> None:
    assert twilio_signature(url=TWILIO_URL, params=TWILIO_PARAMS, auth_token=TWILIO_TOKEN) == TWILIO_SIGNATURE
    verify_twilio(url=TWILIO_URL, params=TWILIO_PARAMS, signature=TWILIO_SIGNATURE, auth_token=TWILIO_TOKEN)


def _one_byte_off(value: str) -> str:
    return value[:5] + ("A" if value[5] != "A" else "B") + value[6:]


def test_twilio_signature_one_byte_off_fails() -> None:
    with pytest.raises(WebhookRejected) as caught:
        verify_twilio(
            url=TWILIO_URL, params=TWILIO_PARAMS, signature=_one_byte_off(TWILIO_SIGNATURE), auth_token=TWILIO_TOKEN
        )
    assert (caught.value.status, caught.value.code) == (403, "auth.invalid")


def test_twilio_tampered_params_fail() -> None:
    tampered = {**TWILIO_PARAMS, "Digits": "1235"}
    with pytest.raises(WebhookRejected) as caught:
        verify_twilio(url=TWILIO_URL, params=tampered, signature=TWILIO_SIGNATURE, auth_token=TWILIO_TOKEN)
    assert caught.value.status == 403


def test_twilio_missing_signature_or_token() -> None:
    with pytest.raises(WebhookRejected) as missing:
        verify_twilio(url=TWILIO_URL, params=TWILIO_PARAMS, signature="", auth_token=TWILIO_TOKEN)
    assert (missing.value.status, missing.value.code) == (401, "auth.missing")
    with pytest.raises(WebhookRejected) as unconfigured:
        verify_twilio(url=TWILIO_URL, params=TWILIO_PARAMS, signature=TWILIO_SIGNATURE, auth_token="")
    assert (unconfigured.value.status, unconfigured.value.code) == (403, "auth.not_configured")


def test_twilio_default_port_is_accepted_either_way() -> None:
    verify_twilio(
        url="https://mycompany.com:443/myapp.php?foo=1&bar=2",
        params=TWILIO_PARAMS,
        signature=TWILIO_SIGNATURE,
        auth_token=TWILIO_TOKEN,
    )


def test_parse_twilio_sms() -> None:
    when = datetime(2026, 6, 1, 18, 30, tzinfo=UTC)
    [item] = parse_twilio_sms(
        {"MessageSid": "SM0123456789abcdef", "From": "+447700900123", "To": "+441234", "Body": "Where is gate B?"},
        received_at=when,
    )
    assert item == InboundItem(
        provider_id="SM0123456789abcdef",
        author_handle="+447700900123",
        author_name="",
        text="Where is gate B?",
        in_reply_to="",
        received_at=when,
        kind="sms",
    )


def test_parse_twilio_sms_rejects_missing_fields_and_ignores_empty_bodies() -> None:
    with pytest.raises(WebhookRejected) as caught:
        parse_twilio_sms({"MessageSid": "SM1", "Body": "hi"})
    assert caught.value.status == 400 and "From" in caught.value.message
    assert parse_twilio_sms({"MessageSid": "MM1", "From": "+447700900123", "Body": "", "NumMedia": "1"}) == []
    assert parse_twilio_sms({"MessageSid": "SM1", "From": "+447700900123"})[0:] == []


def test_parse_twilio_sms_too_long_is_413() -> None:
    with pytest.raises(WebhookRejected) as caught:
        parse_twilio_sms({"MessageSid": "SM1", "From": "+447700900123", "Body": "x" * (MAX_TEXT_CHARS + 1)})
    assert (caught.value.status, caught.value.code) == (413, "payload.too_large")


# -- Telegram ---------------------------------------------------------------------------------------


def test_telegram_token_right_wrong_missing() -> None:
    verify_telegram(headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret_token-1"}, secret_token="s3cret_token-1")
    # Header names are case-insensitive, and WSGI META keys work too.
    verify_telegram(headers={"x-telegram-bot-api-secret-token": "s3cret_token-1"}, secret_token="s3cret_token-1")
    verify_telegram(headers={"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": "s3cret_token-1"}, secret_token="s3cret_token-1")
    with pytest.raises(WebhookRejected) as wrong:
        verify_telegram(headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret_token-2"}, secret_token="s3cret_token-1")
    assert (wrong.value.status, wrong.value.code) == (403, "auth.invalid")
    with pytest.raises(WebhookRejected) as missing:
        verify_telegram(headers={}, secret_token="s3cret_token-1")
    assert (missing.value.status, missing.value.code) == (401, "auth.missing")
    with pytest.raises(WebhookRejected) as unconfigured:
        verify_telegram(headers={"X-Telegram-Bot-Api-Secret-Token": ""}, secret_token="")
    assert unconfigured.value.code == "auth.not_configured"


def _update(**fields: Any) -> bytes:
    return json.dumps({"update_id": 900001, **fields}).encode()


MESSAGE = {
    "message_id": 77,
    "from": {"id": 5551, "is_bot": False, "first_name": "Amira", "last_name": "K", "username": "amira_k"},
    "chat": {"id": -1001234, "type": "supergroup", "title": "Force discussion"},
    "date": 1780000000,
    "text": "Is gate B open?",
}


def test_parse_telegram_message_with_reply() -> None:
    message = {**MESSAGE, "reply_to_message": {"message_id": 42, "chat": MESSAGE["chat"], "date": 1779990000}}
    [item] = parse_telegram_update(_update(message=message))
    assert item == InboundItem(
        provider_id="-1001234:77",
        author_handle="@amira_k",
        author_name="Amira K",
        text="Is gate B open?",
        in_reply_to="42",
        received_at=datetime.fromtimestamp(1780000000, tz=UTC),
        kind="telegram",
    )


def test_parse_telegram_reply_to_channel_post_in_discussion_group() -> None:
    forwarded = {
        "message_id": 9001,
        "chat": MESSAGE["chat"],
        "date": 1779990000,
        "is_automatic_forward": True,
        "forward_origin": {"type": "channel", "chat": {"id": -100777, "type": "channel"}, "message_id": 314, "date": 1},
    }
    [item] = parse_telegram_update(_update(message={**MESSAGE, "reply_to_message": forwarded}))
    assert item.in_reply_to == "314"  # the channel post's id, as the Telegram adapter stores it


def test_parse_telegram_user_without_username_and_channel_post() -> None:
    anonymous = {**MESSAGE, "from": {"id": 5551, "is_bot": False, "first_name": "Sam"}}
    [item] = parse_telegram_update(_update(message=anonymous))
    assert (item.author_handle, item.author_name, item.in_reply_to) == ("tg:5551", "Sam", "")
    post = {
        "message_id": 12,
        "sender_chat": {"id": -100777, "type": "channel", "title": "Police news", "username": "policenews"},
        "chat": {"id": -100777, "type": "channel", "title": "Police news", "username": "policenews"},
        "date": 1780000000,
        "text": "Road closed",
    }
    [item] = parse_telegram_update(_update(channel_post=post))
    assert (item.provider_id, item.author_handle, item.author_name) == ("-100777:12", "@policenews", "Police news")


def test_parse_telegram_edit_is_a_new_item_and_caption_counts_as_text() -> None:
    edited = {**MESSAGE, "edit_date": 1780000100, "text": "Is gate C open?"}
    [item] = parse_telegram_update(_update(edited_message=edited))
    assert item.provider_id == "-1001234:77:edit:1780000100"
    assert item.received_at == datetime.fromtimestamp(1780000100, tz=UTC)
    photo = {key: value for key, value in MESSAGE.items() if key != "text"}
    photo.update(photo=[{"file_id": "x", "file_unique_id": "y", "width": 1, "height": 1}], caption="Look at this")
    assert parse_telegram_update(_update(message=photo))[0].text == "Look at this"


@pytest.mark.parametrize(
    "update",
    [
        {"callback_query": {"id": "1", "from": MESSAGE["from"], "chat_instance": "x"}},
        {"message": {key: value for key, value in MESSAGE.items() if key != "text"} | {"sticker": {"file_id": "s"}}},
        {"message": MESSAGE | {"from": {"id": 1, "is_bot": True, "first_name": "OurBot"}}},
        {"message": MESSAGE | {"is_automatic_forward": True}},
        {"message": MESSAGE | {"text": "   "}},
    ],
)
def test_parse_telegram_ignores_non_text_and_non_human_updates(update: dict[str, Any]) -> None:
    assert parse_telegram_update(_update(**update)) == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "payload.malformed"),
        (b"\xff\xfe\x00", 400, "payload.malformed"),
        (b"[1, 2]", 400, "payload.invalid"),
        (b'{"update_id": "1"}', 400, "payload.invalid"),
        (_update(message={**MESSAGE, "message_id": "77"}), 400, "payload.invalid"),
        (_update(message={**MESSAGE, "text": 12}), 400, "payload.invalid"),
        (_update(message={key: value for key, value in MESSAGE.items() if key != "chat"}), 400, "payload.invalid"),
        (_update(message={**MESSAGE, "text": "x" * (MAX_TEXT_CHARS + 1)}), 413, "payload.too_large"),
    ],
)
def test_parse_telegram_rejects_malformed_updates(body: bytes, status: int, code: str) -> None:
    with pytest.raises(WebhookRejected) as caught:
        parse_telegram_update(body)
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.message


def test_parse_telegram_error_names_the_field() -> None:
    with pytest.raises(WebhookRejected, match=r"update\.message\.message_id: expected an integer, got string"):
        parse_telegram_update(_update(message={**MESSAGE, "message_id": "77"}))


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


# -- Mastodon ---------------------------------------------------------------------------------------


def _mention(content: str, **status: Any) -> dict[str, Any]:
    account = {"id": "109", "username": "jo", "acct": "jo@example.social", "display_name": "Jo B"}
    return {
        "id": "5001",
        "type": "mention",
        "created_at": "2026-06-01T18:30:05.000Z",
        "account": account,
        "status": {
            "id": "110001",
            "created_at": "2026-06-01T18:30:00.000Z",
            "in_reply_to_id": "109999",
            "spoiler_text": "",
            "visibility": "public",
            "content": content,
            "account": account,
            **status,
        },
    }


def test_parse_mastodon_mention() -> None:
    content = (
        '<p><span class="h-card"><a href="https://police.social/@force" class="u-url mention">'
        "@<span>force</span></a></span> Is the <a href=\"https://example.org/map\">map</a> right?</p>"
        "<p>Second line &amp; more</p>"
    )
    follow = {"id": "5002", "type": "follow", "created_at": "2026-06-01T18:00:00Z", "account": {"acct": "x"}}
    [item] = parse_mastodon_notifications([_mention(content), follow])
    assert item == InboundItem(
        provider_id="110001",
        author_handle="@jo@example.social",
        author_name="Jo B",
        text="@force Is the map right?\n\nSecond line & more",
        in_reply_to="109999",
        received_at=datetime(2026, 6, 1, 18, 30, tzinfo=UTC),
        kind="mastodon",
    )


def test_parse_mastodon_content_warning_comes_first_and_no_reply_is_empty() -> None:
    [item] = parse_mastodon_notifications([_mention("<p>Body</p>", spoiler_text="CW: crowd", in_reply_to_id=None)])
    assert item.text == "CW: crowd\n\nBody"
    assert item.in_reply_to == ""


XSS_PAYLOADS = [
    "<script>alert(document.cookie)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(2)">click me</a>',
    '<svg onload=alert(3)><script>alert(4)</script><a xlink:href="javascript:alert(5)">svg link</a></svg>',
    '<iframe src="javascript:alert(6)"></iframe>',
    '<p style="background:url(javascript:alert(7))" onclick="alert(8)">para</p>',
    "<style>body{background:url('javascript:alert(9)')}</style>",
    '<math><mtext><table><mglyph><style><img src=x onerror="alert(10)">',
    '<object data="javascript:alert(11)"></object><embed src="javascript:alert(12)">',
    '<body onload="alert(13)">',
    "<!-- <script>alert(14)</script> -->",
    '<a href="&#106;avascript:alert(15)">encoded</a>',
]


def test_mastodon_xss_payloads_come_out_as_inert_plain_text() -> None:
    content = ""
    index = 0
    while len(content) < 10_000:
        content += XSS_PAYLOADS[index % len(XSS_PAYLOADS)]
        index += 1
    [item] = parse_mastodon_notifications([_mention(content)])
    text = item.text
    assert "<" not in text and ">" not in text  # no tag of any kind survives
    for dangerous in ("javascript:", "onerror", "onload", "onclick", "alert(", "script", "xlink", "style"):
        assert dangerous not in text.lower()
    assert "click me" in text and "svg link" in text  # link text is kept


def test_mastodon_escaped_markup_stays_literal_text() -> None:
    typed = "&lt;script&gt;alert(1)&lt;/script&gt; I &lt;3 the police"
    [item] = parse_mastodon_notifications([_mention(f"<p>{typed}</p>")])
    assert item.text == "<script>alert(1)</script> I <3 the police"  # what the person typed, as text
    assert "<script>" not in html.escape(item.text)  # and it is inert once escaped for display


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"not": "a list"}, "notifications: expected an array"),
        (["x"], "notifications[0]: expected an object"),
        ([_mention("<p>hi</p>", id=110001)], "notifications[0].status.id: expected a string"),
        ([_mention("<p>hi</p>", created_at="not a date")], "notifications[0].status.created_at"),
        ([_mention("<p>hi</p>", account={"acct": 5})], "notifications[0].status.account.acct"),
    ],
)
def test_parse_mastodon_rejects_malformed(payload: Any, fragment: str) -> None:
    with pytest.raises(WebhookRejected) as caught:
        parse_mastodon_notifications(payload)
    assert caught.value.status == 400
    assert fragment in caught.value.message


def test_parse_mastodon_text_too_long_is_413() -> None:
    with pytest.raises(WebhookRejected) as caught:
        parse_mastodon_notifications([_mention("<p>" + "a" * (MAX_TEXT_CHARS + 1) + "</p>")])
    assert (caught.value.status, caught.value.code) == (413, "payload.too_large")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=500))
def test_html_to_text_never_raises_and_leaves_no_tags(markup: str) -> None:
    text = html_to_text(markup)
    assert isinstance(text, str)
    if "&" not in markup:  # entities may legitimately decode to "<"
        assert "<script" not in text.lower()
