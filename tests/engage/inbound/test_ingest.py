"""Ingestion: verified, stored raw, deduplicated, acknowledged only after the commit, never 500."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client

from campaigns.models import Delivery
from campaigns.services.channels import channel_create, channel_update
from engage.inbound.api import InboundThrottle
from engage.inbound.ingest import mastodon_poll, reply_store
from engage.inbound.processing import reply_process
from engage.models import InboundCursor, RejectedInbound, Reply, ReplySource
from tests.engage.inbound_helpers import (
    CHAT_ID,
    PARTNER_SECRET,
    error_of,
    partner_channel,
    partner_item,
    post_partner,
    post_telegram,
    post_twilio,
    private_cache,
    process_all,
    sms_channel,
    telegram_channel,
    telegram_update,
)
from tests.factories import make_approved

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client()


def test_the_same_telegram_update_twice_is_one_reply(world, client):
    channel = telegram_channel(world.a)
    body = telegram_update(message_id=77, text="Where is <b>gate</b> B?")
    first = post_telegram(client, channel, body)
    second = post_telegram(client, channel, body)
    assert first.status_code == 200 and first.json() == {"accepted": 1, "duplicates": 0}
    assert second.status_code == 200 and second.json() == {"accepted": 0, "duplicates": 1}
    reply = Reply.objects.get()
    assert (reply.channel_id, reply.provider_id, reply.source) == (channel.pk, f"{CHAT_ID}:77", "telegram")
    assert reply.team_id == world.a.team.pk
    assert reply.text == "Where is gate B?"  # sanitised on the way in
    assert reply.raw_text == "Where is <b>gate</b> B?"  # raw kept until retention
    assert reply.raw_payload["message"]["message_id"] == 77
    assert reply.author_handle == "@jane_doe" and reply.author_key == "jane_doe"
    assert reply.processed_at is None


def test_a_partner_signature_one_byte_off_is_refused_and_recorded(world, client):
    channel = partner_channel(world.a)
    body = json.dumps(partner_item()).encode()
    stamp = int(time.time())
    from core.signing import sign

    good = sign(secret=PARTNER_SECRET, body=body, timestamp=stamp)
    last = good[-1]
    bad = good[:-1] + ("0" if last != "0" else "1")
    response = post_partner(client, channel, body, timestamp=stamp, signature=bad)
    assert response.status_code == 403
    assert error_of(response)["code"] == "auth.invalid"
    assert not Reply.objects.exists()
    rejected = RejectedInbound.objects.get()
    assert (rejected.channel_id, rejected.code, rejected.status) == (channel.pk, "auth.invalid", 403)
    assert rejected.body_size == len(body)
    # ...and the same body with the right signature goes in.
    assert post_partner(client, channel, body, timestamp=stamp, signature=good).status_code == 200
    assert Reply.objects.count() == 1


def test_a_timestamp_six_minutes_old_is_refused(world, client):
    channel = partner_channel(world.a)
    body = json.dumps(partner_item()).encode()
    response = post_partner(client, channel, body, timestamp=int(time.time()) - 6 * 60)
    assert response.status_code == 401
    assert error_of(response)["code"] == "auth.expired"
    assert not Reply.objects.exists()
    assert RejectedInbound.objects.filter(code="auth.expired").count() == 1
    # Four minutes is inside the window.
    assert post_partner(client, channel, body, timestamp=int(time.time()) - 4 * 60).status_code == 200


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[1, 2]", b'{"id": 5}'])
def test_malformed_partner_bodies_are_400_in_the_error_format(world, client, body):
    channel = partner_channel(world.a)
    response = post_partner(client, channel, body)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] in ("payload.malformed", "payload.invalid")
    assert error["message"]
    assert not Reply.objects.exists()


def test_malformed_telegram_json_is_400(world, client):
    channel = telegram_channel(world.a)
    response = post_telegram(client, channel, b'{"update_id": 1, "message": ')
    assert response.status_code == 400 and error_of(response)["code"] == "payload.malformed"


def test_wrong_or_missing_telegram_token(world, client):
    channel = telegram_channel(world.a)
    assert post_telegram(client, channel, telegram_update(), secret="nope").status_code == 403
    missing = client.post(f"/api/v1/inbound/{channel.pk}/", data=telegram_update(), content_type="application/json")
    assert missing.status_code == 401 and error_of(missing)["code"] == "auth.missing"
    assert not Reply.objects.exists()


def test_a_flood_is_throttled_with_429(world, client, monkeypatch, settings):
    private_cache(settings)
    monkeypatch.setattr(InboundThrottle, "rate", "3/min", raising=False)
    channel = telegram_channel(world.a)
    codes = [post_telegram(client, channel, telegram_update(update_id=i, message_id=i)).status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    response = post_telegram(client, channel, telegram_update(update_id=9, message_id=9))
    assert error_of(response)["code"] == "throttled"
    assert Reply.objects.count() == 3


def test_unknown_inactive_or_outbound_only_channels_are_404(world, client):
    channel = telegram_channel(world.a)
    assert post_telegram(client, type(channel)(pk=999999), telegram_update()).status_code == 404
    assert client.post("/api/v1/inbound/abc/", data=b"{}", content_type="application/json").status_code == 404
    public = world.a.public
    assert client.post(f"/api/v1/inbound/{public.pk}/", data=b"{}", content_type="application/json").status_code == 404
    channel_update(actor=world.a.admin, channel=channel, is_active=False)
    response = post_telegram(client, channel, telegram_update())
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    assert not Reply.objects.exists()


def test_twilio_sms_needs_the_signature_over_the_full_url(world, client):
    channel = sms_channel(world.a)
    params = {"MessageSid": "SM123", "From": "+447700900555", "Body": "Is the road to the stadium open?"}
    ok = post_twilio(client, channel, params)
    assert ok.status_code == 200 and ok["Content-Type"].startswith("text/xml") and b"<Response>" in ok.content
    reply = Reply.objects.get()
    assert (reply.provider_id, reply.author_handle, reply.author_key) == ("SM123", "+447700900555", "+447700900555")
    assert post_twilio(client, channel, params, token="wrong-token").status_code == 403
    assert post_twilio(client, channel, {**params, "MessageSid": "SM124"}, signature="").status_code == 401
    assert Reply.objects.count() == 1


def test_a_partner_batch_is_stored_item_by_item_and_redelivery_is_deduplicated(world, client):
    channel = partner_channel(world.a)
    body = json.dumps({"items": [partner_item(item_id="a"), partner_item(item_id="b", text="Thank you!")]}).encode()
    assert post_partner(client, channel, body).json() == {"accepted": 2, "duplicates": 0}
    assert post_partner(client, channel, body).json() == {"accepted": 0, "duplicates": 2}
    assert sorted(Reply.objects.values_list("provider_id", flat=True)) == ["a", "b"]
    assert Reply.objects.get(provider_id="b").raw_payload["text"] == "Thank you!"


def test_the_same_provider_id_on_two_channels_is_two_replies(world, client):
    one, two = partner_channel(world.a, name="P1"), partner_channel(world.a, name="P2")
    body = json.dumps(partner_item(item_id="same")).encode()
    assert post_partner(client, one, body).status_code == 200
    assert post_partner(client, two, body).status_code == 200
    assert Reply.objects.count() == 2


def test_a_future_sent_at_is_clamped_and_nul_characters_are_stored(world, client):
    channel = partner_channel(world.a)
    future = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    body = json.dumps(partner_item(text="a\x00b <i>c</i>", sent_at=future)).encode()
    assert post_partner(client, channel, body).status_code == 200
    reply = Reply.objects.get()
    assert reply.received_at <= datetime.now(UTC)
    assert "\x00" not in reply.raw_text and reply.text == "ab c"


def test_processing_links_a_reply_to_the_delivery_it_answers_even_in_an_album(world, client):
    channel = telegram_channel(world.a)
    message = make_approved(world.a)
    Delivery.objects.create(message=message, channel=channel, idempotency_key="k-album", due_at=message.created_at,
                            status="sent", external_id="11,12,13")
    post_telegram(client, channel, telegram_update(message_id=90, reply_to=12, text="When does it start?"))
    reply = Reply.objects.get()
    assert reply.in_reply_to == "12"
    assert reply_process(reply_id=reply.pk) is True
    reply.refresh_from_db()
    assert reply.message_id == message.pk and reply.delivery.external_id == "11,12,13"
    assert reply.processed_at is not None and reply.category == "question"
    assert reply.sla_due_at == reply.received_at + timedelta(minutes=60)
    assert reply_process(reply_id=reply.pk) is False  # processed once


def test_stored_replies_are_processed_by_the_sweeper(world, client):
    channel = telegram_channel(world.a)
    for i in range(3):
        post_telegram(client, channel, telegram_update(update_id=i, message_id=i, text=f"Thanks for the update {i}!"))
    assert Reply.objects.filter(processed_at__isnull=True).count() == 3
    assert process_all()["processed"] == 3
    assert not Reply.objects.filter(processed_at__isnull=True).exists()
    assert set(Reply.objects.values_list("category", flat=True)) == {"praise"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_provider_id_make_exactly_one_row(world):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for real concurrent transactions")
    channel = partner_channel(world.a)
    barrier = threading.Barrier(8)
    results: list = []
    errors: list = []

    def deliver() -> None:
        from django.db import connection as thread_connection

        try:
            barrier.wait(timeout=10)
            results.append(reply_store(team_id=channel.team_id, channel=channel, source="webhook",
                                       provider_id="race-1", text="Is the bridge closed?",
                                       received_at=datetime.now(UTC)))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert Reply.objects.filter(channel=channel, provider_id="race-1").count() == 1
    assert sum(1 for r in results if r.created) == 1
    assert len({r.reply_id for r in results}) == 1 and len(results) == 8


# --- Mastodon polling ---------------------------------------------------------------------------

class _Mastodon(BaseHTTPRequestHandler):
    notifications: list[dict] = []
    seen: list[dict] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        type(self).seen.append({"path": parts.path, "query": query, "auth": self.headers.get("Authorization")})
        if self.headers.get("Authorization") != "Bearer masto-token":
            self.send_response(401)
            self.end_headers()
            return
        min_id = int(query.get("min_id", ["0"])[0])
        limit = int(query.get("limit", ["40"])[0])
        newer = [n for n in self.notifications if int(n["id"]) > min_id]
        page = sorted(newer, key=lambda n: int(n["id"]))[:limit]
        body = json.dumps(list(reversed(page))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        return


def _mention(n: int, text: str, in_reply_to: str | None = None) -> dict:
    return {"id": str(1000 + n), "type": "mention", "created_at": "2026-06-01T18:00:00Z",
            "account": {"acct": f"user{n}@example.social", "display_name": f"User {n}"},
            "status": {"id": str(5000 + n), "content": f"<p>{text}</p>", "in_reply_to_id": in_reply_to,
                       "created_at": "2026-06-01T18:00:00Z", "spoiler_text": "",
                       "account": {"acct": f"user{n}@example.social", "display_name": f"User {n}"}}}


@pytest.fixture
def mastodon_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Mastodon)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Mastodon.seen = []
    yield server
    server.shutdown()
    server.server_close()


def test_mastodon_mentions_are_polled_since_the_last_id(world, mastodon_server):
    base = f"http://127.0.0.1:{mastodon_server.server_address[1]}"
    channel = channel_create(actor=world.a.admin, team=world.a.team, kind="mastodon", name="Masto in",
                             config={"instance_url": base, "access_token": "masto-token"})
    _Mastodon.notifications = [_mention(i, f"Question {i}?") for i in range(45)] + [
        {"id": "1100", "type": "favourite", "account": {"acct": "x"}}]
    assert mastodon_poll(channel=channel).new == 45
    assert Reply.objects.filter(channel=channel, source=ReplySource.MASTODON).count() == 45
    assert InboundCursor.objects.get(channel=channel).last_id == "1100"
    assert _Mastodon.seen[0]["query"]["types[]"] == ["mention", "quote"] and "min_id" not in _Mastodon.seen[0]["query"]
    assert _Mastodon.seen[0]["query"]["include_filtered"] == ["true"]
    assert _Mastodon.seen[1]["query"]["min_id"] == ["1039"]  # the second page starts after the first
    _Mastodon.notifications.append(_mention(150, "And now?"))
    assert mastodon_poll(channel=channel).new == 1
    assert _Mastodon.seen[-1]["query"]["min_id"] == ["1100"]
    assert InboundCursor.objects.get(channel=channel).last_id == "1150"
    reply = Reply.objects.get(provider_id="5150")
    assert (reply.author_handle, reply.text) == ("@user150@example.social", "And now?")
    assert mastodon_poll(channel=channel).new == 0
    assert Reply.objects.filter(channel=channel).count() == 46


def test_mastodon_polling_records_a_refused_token(world, mastodon_server):
    base = f"http://127.0.0.1:{mastodon_server.server_address[1]}"
    channel = channel_create(actor=world.a.admin, team=world.a.team, kind="mastodon", name="Masto bad",
                             config={"instance_url": base, "access_token": "wrong"})
    assert mastodon_poll(channel=channel).new == 0
    assert "401" in InboundCursor.objects.get(channel=channel).last_error
