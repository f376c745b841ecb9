from __future__ import annotations

import json
import logging

import pytest

from platforms.base import (
    AuthExpiredError,
    Payload,
    PermanentError,
    TransientError,
    UnconfirmedError,
)
from tests.platforms.conftest import PNG, image

TOKEN = "123456789:sandbox-telegram-bot-token"


def test_send_message_request_and_result(sandbox, make_adapter):
    adapter = make_adapter("telegram")
    payload = Payload(text="Roads reopen at 9pm.", link="https://engage.example/news/7/")
    result = adapter.publish(payload, idempotency_key="k")

    (post,) = sandbox.posts("telegram")
    assert post.path == f"/bot{TOKEN}/sendMessage"
    assert post.headers["content-type"] == "application/json"
    assert post.headers["user-agent"] == "Engage/0.1"
    assert post.fields == {
        "chat_id": "@engage_sandbox",
        "text": "Roads reopen at 9pm.",
        "link_preview_options": {"is_disabled": False, "url": "https://engage.example/news/7/"},
    }
    message_id = post.data["message_ids"][0]
    assert result.external_id == str(message_id)
    assert result.external_url == f"https://t.me/engage_sandbox/{message_id}"


def test_link_preview_can_be_turned_off(sandbox, make_adapter):
    make_adapter("telegram", link_preview=False).publish(
        Payload(text="Hi", link="https://x.test/"), idempotency_key="k"
    )
    assert sandbox.posts("telegram")[0].fields["link_preview_options"] == {"is_disabled": True}


def test_one_image_is_send_photo_with_caption(sandbox, make_adapter):
    result = make_adapter("telegram").publish(
        Payload(text="Map", media=(image("map.png"),)), idempotency_key="k"
    )
    (post,) = sandbox.posts("telegram")
    assert post.op == "sendPhoto"
    assert post.headers["content-type"].startswith("multipart/form-data")
    assert post.fields == {"chat_id": "@engage_sandbox", "caption": "Map"}
    (photo,) = post.files
    assert (photo.name, photo.filename, photo.content_type, photo.content) == (
        "photo",
        "map.png",
        "image/png",
        PNG,
    )
    assert result.external_id == str(post.data["message_ids"][0])


def test_several_images_are_one_media_group(sandbox, make_adapter):
    adapter = make_adapter("telegram")
    result = adapter.publish(
        Payload(text="Maps", media=(image("a.png"), image("b.png"))), idempotency_key="k"
    )
    (post,) = sandbox.posts("telegram")
    assert post.op == "sendMediaGroup"
    assert json.loads(post.fields["media"]) == [
        {"type": "photo", "media": "attach://photo0", "caption": "Maps"},
        {"type": "photo", "media": "attach://photo1"},
    ]
    assert [f.name for f in post.files] == ["photo0", "photo1"]
    assert result.external_id == ",".join(str(i) for i in post.data["message_ids"])

    adapter.withdraw(result.external_id)
    assert sandbox.posts("telegram") == []


def test_reply_parameters(sandbox, make_adapter):
    adapter = make_adapter("telegram")
    first = adapter.publish(Payload(text="Question"), idempotency_key="a")
    adapter.publish(Payload(text="Answer", in_reply_to=first.external_id), idempotency_key="b")
    reply = sandbox.posts("telegram")[1]
    assert reply.fields["reply_parameters"] == {
        "message_id": int(first.external_id),
        "allow_sending_without_reply": True,
    }
    assert reply.data["messages"][0]["reply_to_message"]["message_id"] == int(first.external_id)


def test_rate_limit_uses_parameters_retry_after(sandbox, make_adapter):
    sandbox.set_behaviour("telegram", rate_limit=1, retry_after=7)
    with pytest.raises(TransientError) as caught:
        make_adapter("telegram").publish(Payload(text="Hi"), idempotency_key="k")
    assert caught.value.retry_after == 7
    assert caught.value.http_status == 429
    assert TOKEN not in str(caught.value)


def test_server_error_is_transient(sandbox, make_adapter):
    sandbox.set_behaviour("telegram", fail=1)
    with pytest.raises(TransientError):
        make_adapter("telegram").publish(Payload(text="Hi"), idempotency_key="k")
    assert sandbox.posts("telegram") == []


def test_a_hang_after_sending_is_unconfirmed(sandbox, make_adapter):
    sandbox.set_behaviour("telegram", hang=1, hang_seconds=2)
    with pytest.raises(UnconfirmedError) as caught:
        make_adapter("telegram", read_timeout=0.5).publish(Payload(text="Hi"), idempotency_key="k")
    assert "may have been accepted" in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert len(sandbox.posts("telegram")) == 1


def test_accept_then_drop_is_unconfirmed_and_posted_once(sandbox, make_adapter):
    sandbox.set_behaviour("telegram", drop=1)
    with pytest.raises(UnconfirmedError) as caught:
        make_adapter("telegram").publish(Payload(text="Hi"), idempotency_key="k")
    assert TOKEN not in str(caught.value)
    assert len(sandbox.posts("telegram")) == 1


def test_connection_refused_is_transient_and_hides_the_token(make_adapter, dead_url):
    with pytest.raises(TransientError) as caught:
        make_adapter("telegram", api_base=dead_url).publish(Payload(text="Hi"), idempotency_key="k")
    assert TOKEN not in str(caught.value)
    assert "sandbox-telegram-bot-token" not in str(caught.value)


def test_a_wrong_token_is_auth_expired(sandbox, make_adapter):
    adapter = make_adapter("telegram", secrets={"bot_token": "999:not-the-token"})
    with pytest.raises(AuthExpiredError) as caught:
        adapter.publish(Payload(text="Hi"), idempotency_key="k")
    assert "999:not-the-token" not in str(caught.value)
    assert "not-the-token" not in str(caught.value)


def test_unknown_chat_is_permanent(sandbox, make_adapter):
    with pytest.raises(PermanentError, match=r"the chat was not found \(check chat_id\)") as caught:
        make_adapter("telegram", chat_id="@nobody").publish(Payload(text="Hi"), idempotency_key="k")
    assert "chat not found" in caught.value.platform_message


def test_a_caption_too_long_for_images_is_refused_before_sending(sandbox, make_adapter):
    with pytest.raises(PermanentError, match="1024"):
        make_adapter("telegram").publish(Payload(text="a" * 1025, media=(image(),)), idempotency_key="k")
    assert sandbox.requests("telegram") == []


def test_withdraw_deletes_the_message(sandbox, make_adapter):
    adapter = make_adapter("telegram")
    result = adapter.publish(Payload(text="Oops"), idempotency_key="k")
    adapter.withdraw(result.external_id)
    assert sandbox.posts("telegram") == []
    adapter.withdraw(result.external_id)  # "message to delete not found": already gone


def test_check_is_get_me(sandbox, make_adapter):
    adapter = make_adapter("telegram")
    assert adapter.check().state == "ok"
    assert adapter.check().detail == "the Bot API accepted the bot token"
    sandbox.set_behaviour("telegram", auth_expired=True)
    health = adapter.check()
    assert health.state == "auth_expired"
    assert TOKEN not in health.detail


def test_the_token_never_reaches_the_httpx_log(sandbox, make_adapter, caplog):
    with caplog.at_level(logging.INFO, logger="httpx"):
        make_adapter("telegram").publish(Payload(text="Hi"), idempotency_key="k")
    messages = [record.getMessage() for record in caplog.records if record.name == "httpx"]
    assert messages, "httpx logs each request at INFO"
    assert all(TOKEN not in m and "sandbox-telegram-bot-token" not in m for m in messages)
    assert any("/bot[redacted]/sendMessage" in m for m in messages)


def test_numeric_chat_ids_link_through_channel_username(make_adapter):
    adapter = make_adapter("telegram", chat_id="-1001234567890")
    assert adapter._message_url("5") == "https://t.me/c/1234567890/5"
    adapter = make_adapter("telegram", chat_id="-1001234567890", channel_username="@engage_sandbox")
    assert adapter._message_url("5") == "https://t.me/engage_sandbox/5"


def test_capabilities_and_counting(make_adapter):
    adapter = make_adapter("telegram")
    assert (adapter.supports_withdraw, adapter.honours_idempotency_key, adapter.can_lookup) == (
        True,
        False,
        False,
    )
    assert adapter.limit == 4096
    assert adapter.count("😀") == 2  # UTF-16 code units
