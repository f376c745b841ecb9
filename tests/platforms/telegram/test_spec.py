"""Telegram as the Bot API 10.1 spec says (issue 13): lengths in UTF-16 units everywhere, no deleting
after 48 hours, no parameter the spec does not list. The sandbox refuses what Telegram refuses."""

from __future__ import annotations

import httpx
import pytest

from campaigns.checker.core import check_message
from platforms import textcount
from platforms.base import Payload, PermanentError
from platforms.telegram import counting as counting_telegram
from platforms.telegram import sandbox as sandbox_telegram
from platforms.telegram.adapter import TooOldToDelete
from tests.platforms.conftest import image

EMOJI = "\N{POLICE CARS REVOLVING LIGHT}"  # U+1F6A8: one code point, two UTF-16 units


def _bot(sandbox) -> str:
    return f"{sandbox.url}/bot{sandbox.credentials.telegram_token}"


def test_one_count_for_adapter_checker_and_sandbox():
    assert counting_telegram.utf16_units is textcount.utf16_units
    assert sandbox_telegram.utf16_units is textcount.utf16_units
    assert textcount.utf16_units(EMOJI * 3 + "ab") == 8


def test_a_caption_with_emoji_over_1024_units_is_refused_before_sending(sandbox, make_adapter):
    caption = EMOJI * 30 + "x" * 970  # 1000 code points, 1030 UTF-16 units
    adapter = make_adapter("telegram")
    with pytest.raises(PermanentError, match=r"1024 characters as Telegram counts them \(an emoji counts as 2\), this text has 1030"):
        adapter.publish(Payload(text=caption, media=(image(),)), idempotency_key="k")
    assert sandbox.requests("telegram") == []  # nothing was sent
    # ... and the checker says the same about the same text.
    finding = next(f for f in check_message(body=caption, channels=["telegram"], caption=True)
                   if f.code.startswith("length"))
    assert "1030 of 1024" in finding.message


@pytest.mark.parametrize(("text", "fragment"), [
    ("x" * 4000 + EMOJI * 50, r"4096 characters as Telegram counts them \(an emoji counts as 2\), this text has 4100"),  # 4050 code points
    ("   ", "must not be empty"),
])
def test_a_message_text_outside_1_to_4096_units_is_refused_before_sending(sandbox, make_adapter, text, fragment):
    with pytest.raises(PermanentError, match=fragment):
        make_adapter("telegram").publish(Payload(text=text), idempotency_key="k")
    assert sandbox.requests("telegram") == []


def test_texts_that_fit_go_out(sandbox, make_adapter):
    adapter = make_adapter("telegram")
    adapter.publish(Payload(text="x" * 4094 + EMOJI), idempotency_key="k1")  # exactly 4096 units
    adapter.publish(Payload(text="y" * 1022 + EMOJI, media=(image(),)), idempotency_key="k2")  # 1024
    assert len(sandbox.posts("telegram")) == 2


def test_the_sandbox_counts_utf16_units_like_telegram(sandbox):
    chat = sandbox.credentials.telegram_chat
    too_long = httpx.post(f"{_bot(sandbox)}/sendMessage", json={"chat_id": chat, "text": "x" * 4090 + EMOJI * 4})
    assert too_long.status_code == 400
    assert too_long.json() == {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"}
    caption = httpx.post(f"{_bot(sandbox)}/sendPhoto", data={"chat_id": chat, "caption": EMOJI * 513},
                         files={"photo": ("a.png", b"\x89PNG", "image/png")})
    assert caption.status_code == 400
    assert caption.json()["description"] == "Bad Request: message caption is too long"
    assert sandbox.posts("telegram") == []


def test_the_sandbox_refuses_parameters_the_spec_does_not_list(sandbox):
    chat = sandbox.credentials.telegram_chat
    typo = httpx.post(f"{_bot(sandbox)}/sendMessage", json={"chat_id": chat, "text": "Hi", "reply_parameter": {}})
    assert typo.status_code == 400 and typo.json()["ok"] is False
    assert "'reply_parameter'" in typo.json()["description"]
    legacy = httpx.post(f"{_bot(sandbox)}/deleteMessage", json={"chat_id": chat, "message_id": 1, "revoke": True})
    assert legacy.status_code == 400
    stray_file = httpx.post(f"{_bot(sandbox)}/sendPhoto", data={"chat_id": chat},
                            files={"photo": ("a.png", b"\x89PNG", "image/png"),
                                   "thumbnail": ("b.png", b"\x89PNG", "image/png")})
    assert stray_file.status_code == 400 and "'thumbnail'" in stray_file.json()["description"]
    assert sandbox.posts("telegram") == []


def test_what_the_adapter_sends_is_all_in_the_spec(sandbox, make_adapter):
    adapter = make_adapter("telegram")
    first = adapter.publish(Payload(text="Roads reopen at 9pm.", link="https://engage.example/n/1"),
                            idempotency_key="k1")
    adapter.publish(Payload(text="Map", media=(image("a.png"), image("b.png")), in_reply_to=first.external_id),
                    idempotency_key="k2")
    adapter.publish(Payload(text="One map", media=(image(),)), idempotency_key="k3")
    adapter.withdraw(first.external_id)
    assert adapter.check().state == "ok"
    assert {r.outcome for r in sandbox.requests("telegram")} == {"answered"}


def test_a_message_48_hours_old_cannot_be_deleted(sandbox, make_adapter):
    adapter = make_adapter("telegram")
    old = adapter.publish(Payload(text="Three weeks of road works start today."), idempotency_key="k1")
    new = adapter.publish(Payload(text="Today's update."), idempotency_key="k2")
    sandbox.age_post("telegram", old.external_id, hours=48)
    raw = httpx.post(f"{_bot(sandbox)}/deleteMessage",
                     json={"chat_id": sandbox.credentials.telegram_chat, "message_id": int(old.external_id)})
    assert raw.status_code == 400
    assert raw.json() == {"ok": False, "error_code": 400, "description": "Bad Request: message can't be deleted"}
    with pytest.raises(TooOldToDelete) as caught:
        adapter.withdraw(old.external_id)
    assert "less than 48 hours old" in caught.value.detail and "remove this post by hand" in caught.value.detail
    assert [p.id for p in sandbox.posts("telegram")] == [old.external_id, new.external_id]  # still there
    adapter.withdraw(new.external_id)  # a young one still goes
    assert [p.id for p in sandbox.posts("telegram")] == [old.external_id]


def test_the_sandbox_serves_updates_and_forgets_confirmed_ones(sandbox, make_adapter):
    post = make_adapter("telegram").publish(Payload(text="Our post"), idempotency_key="k").external_id
    first = sandbox.telegram_update("reply", post=post, text="Thanks")
    second = sandbox.telegram_update("channel_post", text="Staff")
    got = httpx.post(f"{_bot(sandbox)}/getUpdates", json={}).json()["result"]
    assert [u["update_id"] for u in got] == [first["update_id"], second["update_id"]]
    only_posts = httpx.post(f"{_bot(sandbox)}/getUpdates", json={"allowed_updates": ["channel_post"]}).json()
    assert [u["update_id"] for u in only_posts["result"]] == [second["update_id"]]
    after = httpx.post(f"{_bot(sandbox)}/getUpdates", json={"offset": second["update_id"] + 1}).json()["result"]
    assert after == []
    with pytest.raises(ValueError, match="not a message of ours"):
        sandbox.telegram_update("reply", post="999999", text="?")
