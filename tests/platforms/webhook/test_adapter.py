from __future__ import annotations

import base64
import json
import time

import pytest

from core.signing import verify
from platforms.base import (
    AuthExpiredError,
    Payload,
    PermanentError,
    TransientError,
    UnconfirmedError,
)
from tests.platforms.conftest import PNG, image

SECRET = "sandbox-webhook-signing-secret"


def payload(**changes) -> Payload:
    values = {
        "text": "Roads reopen at 9pm.",
        "language": "en",
        "subject": "Roads reopen",
        "link": "https://engage.example/news/4/",
        "metadata": {"message_id": "4", "urgency": "routine"},
        "media": (image("map.png", "Map of reopened roads"),),
    }
    values.update(changes)
    return Payload(**values)


def test_a_signed_json_post(sandbox, make_adapter):
    result = make_adapter("webhook").publish(payload(), idempotency_key="delivery-4-webhook")
    (post,) = sandbox.posts("webhook")
    (request,) = [r for r in sandbox.requests("webhook") if r.op == "delivery"]
    headers = post.headers
    assert headers["content-type"] == "application/json"
    assert headers["idempotency-key"] == "delivery-4-webhook"
    assert abs(int(headers["x-engage-timestamp"]) - time.time()) < 5
    assert headers["x-engage-signature"].startswith("sha256=")
    assert post.fields == {
        "event": "message.published",
        "id": "delivery-4-webhook",
        "text": "Roads reopen at 9pm.",
        "language": "en",
        "title": "Roads reopen",
        "link": "https://engage.example/news/4/",
        "in_reply_to": "",
        "metadata": {"message_id": "4", "urgency": "routine"},
        "media": [
            {
                "filename": "map.png",
                "mime": "image/png",
                "alt_text": "Map of reopened roads",
                "size": len(PNG),
                "content_base64": base64.b64encode(PNG).decode(),
            }
        ],
    }
    assert result.external_id == post.id
    assert request.status == 200


def test_the_signature_verifies_over_the_exact_body(make_adapter):
    adapter = make_adapter("webhook")
    body = adapter.body_for(payload(), idempotency_key="k")
    timestamp = int(time.time())
    from core.signing import sign

    verify(
        secret=SECRET,
        body=body,
        timestamp=str(timestamp),
        signature=sign(secret=SECRET, body=body, timestamp=timestamp),
    )
    assert json.loads(body)["text"] == "Roads reopen at 9pm."


def test_large_media_is_omitted(sandbox, make_adapter):
    make_adapter("webhook", max_inline_media_bytes=10).publish(payload(), idempotency_key="k")
    (media,) = sandbox.posts("webhook")[0].fields["media"]
    assert media["omitted"] is True
    assert "content_base64" not in media


def test_a_partner_that_dedupes_makes_a_retry_safe(sandbox, make_adapter):
    sandbox.set_behaviour("webhook", hang=1, hang_seconds=2)
    adapter = make_adapter("webhook", honours_idempotency_key=True, read_timeout=0.5)
    assert adapter.honours_idempotency_key is True
    with pytest.raises(TransientError):
        adapter.publish(payload(), idempotency_key="same")
    adapter.publish(payload(), idempotency_key="same")
    assert len(sandbox.posts("webhook")) == 1


def test_hang_is_unconfirmed_for_an_ordinary_partner(sandbox, make_adapter):
    sandbox.set_behaviour("webhook", hang=1, hang_seconds=2)
    with pytest.raises(UnconfirmedError):
        make_adapter("webhook", read_timeout=0.5).publish(payload(), idempotency_key="k")
    assert len(sandbox.posts("webhook")) == 1


def test_accept_then_drop_is_unconfirmed(sandbox, make_adapter):
    sandbox.set_behaviour("webhook", drop=1)
    with pytest.raises(UnconfirmedError):
        make_adapter("webhook").publish(payload(), idempotency_key="k")
    assert len(sandbox.posts("webhook")) == 1


def test_server_error_and_rate_limit_are_transient(sandbox, make_adapter):
    sandbox.set_behaviour("webhook", fail=1)
    with pytest.raises(TransientError):
        make_adapter("webhook").publish(payload(), idempotency_key="k")
    sandbox.set_behaviour("webhook", rate_limit=1, retry_after=12)
    with pytest.raises(TransientError) as caught:
        make_adapter("webhook").publish(payload(), idempotency_key="k")
    assert caught.value.retry_after == 12
    assert sandbox.posts("webhook") == []


def test_a_rejected_signature_is_auth_expired_and_the_secret_stays_hidden(sandbox, make_adapter):
    adapter = make_adapter("webhook", secrets={"signing_secret": "the-wrong-secret"})
    with pytest.raises(AuthExpiredError) as caught:
        adapter.publish(payload(), idempotency_key="k")
    assert "the-wrong-secret" not in str(caught.value)
    assert "bad_signature" in caught.value.platform_message
    assert "bad_signature" not in str(caught.value)  # the partner's words are never shown back


def test_a_per_hook_secret(sandbox, make_adapter):
    sandbox.set_hook_secret("partner", "rotated-secret")
    with pytest.raises(AuthExpiredError):
        make_adapter("webhook").publish(payload(), idempotency_key="k")
    make_adapter("webhook", secrets={"signing_secret": "rotated-secret"}).publish(
        payload(), idempotency_key="k"
    )
    assert len(sandbox.posts("webhook")) == 1


def test_connection_refused_is_transient(make_adapter, dead_url):
    with pytest.raises(TransientError):
        make_adapter("webhook", url=f"{dead_url}/hooks/partner").publish(payload(), idempotency_key="k")


def test_withdraw_sends_a_signed_withdrawn_event(sandbox, make_adapter):
    adapter = make_adapter("webhook")
    result = adapter.publish(payload(), idempotency_key="k")
    adapter.withdraw(result.external_id)
    assert sandbox.posts("webhook") == []
    withdrawal = [r for r in sandbox.records("webhook") if r.op == "withdrawal"][0]
    assert withdrawal.fields == {"event": "message.withdrawn", "id": result.external_id}


def test_check(sandbox, make_adapter, dead_url):
    assert make_adapter("webhook").check().state == "ok"
    health = make_adapter("webhook", health_url="").check()
    assert (health.state, health.detail) == ("ok", "reachable (HEAD answered 405)")
    assert make_adapter("webhook", url=f"{dead_url}/h", health_url="").check().state == "failing"


def test_the_url_must_be_http(sandbox):
    from platforms import get_adapter

    with pytest.raises(PermanentError):
        get_adapter("webhook", config={"url": "file:///etc/passwd"}, secrets={"signing_secret": "s"})
