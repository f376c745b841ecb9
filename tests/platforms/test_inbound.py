"""Reading a webhook by channel kind (platforms.inbound.read_webhook): each kind's scheme, its raw data."""

from __future__ import annotations

import json
import time

import pytest

from core.signing import sign
from platforms.inbound import WebhookRejected, WebhookRequest, read_webhook
from platforms.sms.inbound import twilio_signature
from platforms.telegram.inbound import TELEGRAM_TOKEN_HEADER

UPDATE = {"update_id": 1, "message": {"message_id": 7, "date": 1_780_000_000, "text": "Is the road open?",
                                      "chat": {"id": 42, "type": "private"}, "from": {"id": 5, "first_name": "Sam"}}}


@pytest.mark.parametrize("kind", ["mastodon", "x", "facebook", "email", "public", "nonsense"])
def test_a_kind_that_takes_no_webhooks_is_404(kind):
    with pytest.raises(WebhookRejected) as caught:
        read_webhook(kind, WebhookRequest(headers={}, body=b"{}"), config={}, secrets={})
    assert (caught.value.status, caught.value.code) == (404, "channel.no_inbound")


def test_telegram_by_its_secret_token_keeps_the_whole_update():
    body = json.dumps(UPDATE).encode()
    items, raws = read_webhook("telegram", WebhookRequest(headers={TELEGRAM_TOKEN_HEADER: "s3cret"}, body=body),
                               config={"chat_id": "@ours"}, secrets={"secret_token": "s3cret"})
    assert [item.provider_id for item in items] == ["42:7"] and raws == [UPDATE]
    with pytest.raises(WebhookRejected) as caught:
        read_webhook("telegram", WebhookRequest(headers={TELEGRAM_TOKEN_HEADER: "other"}, body=body),
                     config={}, secrets={"secret_token": "s3cret"})
    assert caught.value.code == "auth.invalid"


def test_sms_is_checked_against_the_pinned_inbound_url_and_keeps_the_form():
    form = {"MessageSid": "SM1", "From": "+447700900123", "Body": "Where do I go?"}
    pinned = "https://engage.example.org/api/v1/inbound/3/"
    signature = twilio_signature(url=pinned, params=form, auth_token="tok")
    request = WebhookRequest(headers={"HTTP_X_TWILIO_SIGNATURE": signature}, body=b"",
                             url="http://internal:8000/api/v1/inbound/3/", form=form)
    items, raws = read_webhook("sms", request, config={"inbound_url": pinned}, secrets={"auth_token": "tok"})
    assert [item.text for item in items] == ["Where do I go?"] and raws == [form]
    with pytest.raises(WebhookRejected) as caught:  # without the pin, the URL we saw is not the one signed
        read_webhook("sms", request, config={}, secrets={"auth_token": "tok"})
    assert caught.value.code == "auth.invalid"


def test_a_partner_batch_keeps_each_item_as_its_raw_data():
    batch = {"items": [{"id": f"r{n}", "author": "@jo", "text": f"Reply {n}", "sent_at": "2026-06-01T18:30:00Z"}
                       for n in range(2)]}
    body = json.dumps(batch).encode()
    timestamp = int(time.time())
    headers = {"X-Engage-Timestamp": str(timestamp),
               "X-Engage-Signature": sign(secret="partner", body=body, timestamp=timestamp)}
    items, raws = read_webhook("webhook", WebhookRequest(headers=headers, body=body), config={},
                               secrets={"inbound_secret": "partner"})
    assert [item.provider_id for item in items] == ["r0", "r1"] and raws == batch["items"]
