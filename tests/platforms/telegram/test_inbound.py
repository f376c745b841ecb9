"""Verifying and reading what Telegram sends us (platforms.telegram.inbound)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from platforms.inbound import MAX_TEXT_CHARS, InboundItem, WebhookRejected
from platforms.telegram.inbound import parse_telegram_update, verify_telegram

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
