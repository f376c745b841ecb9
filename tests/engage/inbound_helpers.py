"""Building and delivering inbound webhooks the way the platforms do, for the inbound tests."""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from campaigns.models import Channel
from campaigns.services.channels import channel_create
from core.signing import sign
from platforms.sms.inbound import twilio_signature

TG_SECRET = "tg-inbound-secret-1234"
PARTNER_SECRET = "partner-inbound-secret-5678"
TWILIO_TOKEN = "twilio-auth-token-9012"
CHAT_ID = -1001234567890  # the sandbox's default Telegram chat

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror=alert(1)>',
    '<svg onload=alert(1)>',
    '"><script>alert(document.cookie)</script>',
    "<a href=\"javascript:alert(1)\">click</a>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<body onload=alert(1)>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    "<details open ontoggle=alert(1)>",
    "javascript:/*--></title></style></textarea></script><svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+alert(1)//'>",
]


def xss_text(length: int = 10_000) -> str:
    parts: list[str] = []
    total = 0
    i = 0
    while total < length:
        piece = XSS_PAYLOADS[i % len(XSS_PAYLOADS)] + " "
        parts.append(piece)
        total += len(piece)
        i += 1
    return "".join(parts)[:length]


def telegram_channel(tw: Any, *, name: str = "Telegram in", secret: str = TG_SECRET, **config: Any) -> Channel:
    return channel_create(actor=tw.admin, team=tw.team, kind="telegram", name=name,
                          config={"chat_id": "@engage_sandbox", "bot_token": "123:abc", "secret_token": secret,
                                  **config})


def partner_channel(tw: Any, *, name: str = "Partner in", secret: str = PARTNER_SECRET, **config: Any) -> Channel:
    return channel_create(actor=tw.admin, team=tw.team, kind="webhook", name=name,
                          config={"url": "http://127.0.0.1:9/hook", "signing_secret": "out-secret",
                                  "inbound_secret": secret, **config})


def sms_channel(tw: Any, *, name: str = "SMS in", token: str = TWILIO_TOKEN, **config: Any) -> Channel:
    return channel_create(actor=tw.admin, team=tw.team, kind="sms", name=name,
                          config={"api_base": "http://127.0.0.1:9", "account_sid": "AC1",
                                  "from_number": "+447700900000", "auth_token": token, **config})


def telegram_update(*, update_id: int = 1, message_id: int = 10, chat_id: int = CHAT_ID, text: str = "Hello",
                    user_id: int = 4242, username: str = "jane_doe", first_name: str = "Jane",
                    reply_to: int | None = None, date: int | None = None) -> bytes:
    message: dict[str, Any] = {
        "message_id": message_id, "date": date or int(time.time()),
        "chat": {"id": chat_id, "type": "supergroup", "title": "Discussion"},
        "from": {"id": user_id, "is_bot": False, "first_name": first_name, "username": username},
        "text": text,
    }
    if reply_to is not None:
        message["reply_to_message"] = {"message_id": reply_to, "chat": {"id": chat_id, "type": "supergroup"}}
    return json.dumps({"update_id": update_id, "message": message}).encode()


def post_telegram(client: Any, channel: Channel, body: bytes, *, secret: str = TG_SECRET):
    return client.post(f"/api/v1/inbound/{channel.pk}/", data=body, content_type="application/json",
                       HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=secret)


def partner_item(*, item_id: str = "p-1", author: str = "@sam", text: str = "Where is gate B?",
                 in_reply_to: str | None = None, sent_at: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"id": item_id, "author": author, "text": text,
                            "sent_at": sent_at or datetime.now(UTC).isoformat()}
    if in_reply_to is not None:
        item["in_reply_to"] = in_reply_to
    return item


def post_partner(client: Any, channel: Channel, body: bytes, *, secret: str = PARTNER_SECRET,
                 timestamp: int | None = None, signature: str | None = None):
    stamp = int(time.time()) if timestamp is None else timestamp
    sig = signature if signature is not None else sign(secret=secret, body=body, timestamp=stamp)
    return client.post(f"/api/v1/inbound/{channel.pk}/", data=body, content_type="application/json",
                       HTTP_X_ENGAGE_TIMESTAMP=str(stamp), HTTP_X_ENGAGE_SIGNATURE=sig)


def post_twilio(client: Any, channel: Channel, params: dict[str, str], *, token: str = TWILIO_TOKEN,
                signature: str | None = None):
    url = f"http://testserver/api/v1/inbound/{channel.pk}/"
    sig = signature if signature is not None else twilio_signature(url=url, params=params, auth_token=token)
    return client.post(f"/api/v1/inbound/{channel.pk}/", data=params, HTTP_X_TWILIO_SIGNATURE=sig)


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) >= {"code", "message", "fields"}, body
    return body["error"]


@contextmanager
def celery_broker(url: str):
    """Point this process's Celery app (and its connection pools) at ``url`` for a while."""
    from core.queue import broker_backoff_reset
    from engage.celery import app

    old_url, old_options = app.conf.broker_url, app.conf.broker_transport_options

    def reset() -> None:
        # Let the app take the pool for its (new) URL from kombu's registry. Never close a pool here:
        # the registry keeps it under its URL (shared with every app in the process, a test's own
        # sender app too), and the next enqueue to that URL would fail ("Acquire on closed pool").
        app._pool = None
        app.amqp._producer_pool = None
        broker_backoff_reset()

    app.conf.broker_url = url
    app.conf.broker_transport_options = {}
    reset()
    try:
        yield app
    finally:
        app.conf.broker_url, app.conf.broker_transport_options = old_url, old_options
        reset()


def private_cache(settings: Any) -> None:
    """A cache of this test's own: the embedded file cache is shared by every test run on the machine."""
    import uuid

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"engage-test-{uuid.uuid4().hex}"}}


def process_all() -> dict[str, int]:
    """What the sweeper does, without waiting for replies to age."""
    from engage.inbound.sweeper import replies_sweep

    return replies_sweep(older_than_seconds=-1)


_counter = iter(range(1, 10**9))


def make_reply(tw: Any, *, text: str = "What time do the gates open?", channel: Channel | None = None,
               source: str | None = None, author: str = "@jane", received_at: Any = None, process: bool = True,
               message: Any = None, team: Any = None):
    """A stored (and by default processed) reply in ``tw``'s team."""
    from django.utils import timezone

    from engage.inbound.ingest import reply_store
    from engage.inbound.processing import reply_process
    from engage.models import Reply

    n = next(_counter)
    stored = reply_store(
        team_id=(team or tw.team).pk, channel=channel, source=source or (channel.kind if channel else "web"),
        provider_id=f"test-{n}", text=text, author_handle=author, author_name="Jane Doe",
        received_at=received_at or timezone.now(), message_id=message.pk if message is not None else None,
        raw_payload={"text": text})
    if process:
        reply_process(reply_id=stored.reply_id)
    return Reply.objects.get(pk=stored.reply_id)


FORBIDDEN_TAGS = frozenset({"script", "iframe", "object", "embed", "svg", "math", "style", "base", "body"})


def assert_nothing_executable(html: str) -> None:
    """Parse the page as a browser would and fail on anything that could run: a script, an
    element that loads or runs code, an on* handler, a javascript: URL."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Scan(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in FORBIDDEN_TAGS and not (tag == "body" and not found_body):
                found.append(f"<{tag}>")
            if tag == "body":
                found_body.append(tag)
            for name, value in attrs:
                if name.lower().startswith("on"):
                    found.append(f"<{tag} {name}=...>")
                if value and value.strip().lower().startswith(("javascript:", "data:text/html")):
                    found.append(f"<{tag} {name}={value[:30]}>")

    found_body: list[str] = []
    Scan(convert_charrefs=True).feed(html)
    assert "<script" not in html.lower()
    assert found == [], found[:10]
