"""Telegram replies as the platform sends them (issue 13): served by the sandbox's getUpdates, delivered
to our webhook, stored or counted as ignored, never dropped silently."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from django.test import Client

from campaigns.models import Delivery
from engage.inbound.processing import reply_process
from engage.models import InboundDrop, Reply
from platforms import get_adapter
from platforms.base import Payload
from platforms.telegram.inbound import parse_telegram_update
from tests.engage.inbound_helpers import post_telegram, post_twilio, sms_channel, telegram_channel
from tests.factories import make_approved

pytestmark = pytest.mark.django_db


@pytest.fixture
def box(sandbox):
    sandbox.reset()
    return sandbox


@pytest.fixture
def client():
    return Client()


def _publish(box: Any, text: str = "Road closed at the stadium until 9pm.") -> str:
    """Our post in the sandbox's channel; its message id, as the adapter stores it."""
    config, secrets = box.config_for("telegram")
    with get_adapter("telegram", config=config, secrets=secrets) as adapter:
        return adapter.publish(Payload(text=text), idempotency_key="k").external_id


def _get_updates(box: Any) -> list[dict[str, Any]]:
    """What a bot reads from ``getUpdates`` (then confirms, as a bot does with ``offset``)."""
    base = f"{box.url}/bot{box.credentials.telegram_token}"
    answer = httpx.post(f"{base}/getUpdates", json={"allowed_updates": ["message", "channel_post"]}).json()
    assert answer["ok"] is True
    if answer["result"]:
        httpx.post(f"{base}/getUpdates", json={"offset": answer["result"][-1]["update_id"] + 1})
    return answer["result"]


def _deliver(box: Any, client: Client, channel: Any, kind: str, *, post: str = "", text: str = "Is gate B open?"):
    box.telegram_update(kind, post=post, text=text)
    [update] = _get_updates(box)
    return post_telegram(client, channel, json.dumps(update).encode())


def _linked_delivery(world: Any, channel: Any, external_id: str) -> Delivery:
    message = make_approved(world.a)
    return Delivery.objects.create(message=message, channel=channel, idempotency_key=f"k-{external_id}",
                                   due_at=message.created_at, status="sent", external_id=external_id)


def test_a_reply_posted_as_a_channel_is_stored_with_the_channel_as_author(world, box, client):
    channel = telegram_channel(world.a)  # chat_id @engage_sandbox: the sandbox's default channel
    post = _publish(box)
    delivery = _linked_delivery(world, channel, post)
    response = _deliver(box, client, channel, "reply_as_channel", post=post)
    assert response.status_code == 200 and response.json() == {"accepted": 1, "duplicates": 0}
    reply = Reply.objects.get()
    assert (reply.author_handle, reply.author_name) == ("@hood_news", "Neighbourhood news")
    assert reply.in_reply_to == post
    assert reply_process(reply_id=reply.pk) is True
    reply.refresh_from_db()
    assert reply.message_id == delivery.message_id
    assert not InboundDrop.objects.exists()


def test_a_reply_by_an_anonymous_group_admin_is_stored_with_the_group_as_author(world, box, client):
    channel = telegram_channel(world.a)
    post = _publish(box)
    response = _deliver(box, client, channel, "reply_as_anonymous_admin", post=post)
    assert response.json()["accepted"] == 1
    reply = Reply.objects.get()
    assert reply.author_name == "Engage Sandbox chat" and reply.author_handle.startswith("tg:-100")
    assert reply.in_reply_to == post


def test_a_genuine_bot_is_still_ignored_and_counted(world, box, client):
    channel = telegram_channel(world.a)
    post = _publish(box)
    for _ in range(2):
        assert _deliver(box, client, channel, "reply_from_bot", post=post).json()["accepted"] == 0
    assert not Reply.objects.exists()
    drop = InboundDrop.objects.get()
    assert (drop.channel_id, drop.reason, drop.count) == (channel.pk, "telegram.bot", 2)
    assert drop.last_seen_at is not None and "bot" in drop.last_detail


def test_a_post_staff_make_in_our_own_channel_is_not_a_citizen_reply(world, box, client):
    channel = telegram_channel(world.a)
    response = _deliver(box, client, channel, "channel_post", text="Update: the road is open again.")
    assert response.status_code == 200 and response.json()["accepted"] == 0
    assert not Reply.objects.exists()
    assert InboundDrop.objects.get().reason == "telegram.own_channel"


def test_own_channel_by_numeric_id_too_but_another_channel_s_post_is_kept(world, box):
    update = box.telegram_update("channel_post", text="Staff post")
    body = json.dumps(update).encode()
    chat_id = str(box.credentials.telegram_chat_id)
    ignored = parse_telegram_update(body, own_chat=chat_id)
    assert list(ignored) == [] and ignored.ignored[0].reason == "telegram.own_channel"
    [kept] = parse_telegram_update(body, own_chat="@some_other_channel")
    assert kept.author_handle == "@engage_sandbox"


def test_a_reply_quoting_our_post_from_another_chat_is_threaded(world, box, client):
    channel = telegram_channel(world.a)
    post = _publish(box)
    delivery = _linked_delivery(world, channel, post)
    response = _deliver(box, client, channel, "external_reply", post=post, text="Which road exactly?")
    assert response.json()["accepted"] == 1
    reply = Reply.objects.get()
    assert reply.in_reply_to == post
    assert reply_process(reply_id=reply.pk) is True
    reply.refresh_from_db()
    assert reply.message_id == delivery.message_id


def test_an_external_reply_to_another_chat_s_message_is_not_threaded(world, box):
    post = _publish(box)
    update = box.telegram_update("external_reply", post=post, text="Which road?")
    [item] = parse_telegram_update(json.dumps(update).encode(), own_chat="@not_our_channel")
    assert item.in_reply_to == ""


def test_a_plain_citizen_reply_still_works_through_the_sandbox(world, box, client):
    channel = telegram_channel(world.a)
    post = _publish(box)
    assert _deliver(box, client, channel, "reply", post=post).json()["accepted"] == 1
    reply = Reply.objects.get()
    assert (reply.author_handle, reply.in_reply_to) == ("@amira_k", post)


def test_other_update_kinds_and_textless_messages_are_counted_with_their_reason(world, client):
    channel = telegram_channel(world.a)
    reaction = {"update_id": 7, "message_reaction": {"chat": {"id": 1, "type": "supergroup"}, "message_id": 3,
                                                     "date": 1780000000, "old_reaction": [], "new_reaction": []}}
    sticker = {"update_id": 8, "message": {"message_id": 4, "date": 1780000000,
                                           "chat": {"id": 1, "type": "supergroup"},
                                           "from": {"id": 9, "is_bot": False, "first_name": "A"},
                                           "sticker": {"file_id": "s"}}}
    for update in (reaction, sticker):
        assert post_telegram(client, channel, json.dumps(update).encode()).json()["accepted"] == 0
    reasons = dict(InboundDrop.objects.values_list("reason", "last_detail"))
    assert reasons == {"telegram.not_a_message": "message_reaction",
                       "telegram.no_text": "message without text or caption"}


def test_an_mms_without_text_is_counted(world, client):
    channel = sms_channel(world.a)
    response = post_twilio(client, channel, {"MessageSid": "MM1", "From": "+447700900123", "Body": "",
                                             "NumMedia": "1"})
    assert response.status_code == 200
    drop = InboundDrop.objects.get()
    assert (drop.reason, drop.count, drop.last_detail) == ("sms.no_text", 1, "MMS with 1 media and no text")


def test_a_refused_request_is_not_counted_as_an_ignored_item(world, box, client):
    channel = telegram_channel(world.a)
    post = _publish(box)
    box.telegram_update("reply_from_bot", post=post, text="x")
    [update] = _get_updates(box)
    assert post_telegram(client, channel, json.dumps(update).encode(), secret="wrong").status_code == 403
    assert not InboundDrop.objects.exists()  # refusals are RejectedInbound rows, not ignored items
