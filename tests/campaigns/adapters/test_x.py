from __future__ import annotations

import httpx
import pytest

from campaigns.adapters.base import (
    AuthExpiredError,
    Payload,
    PermanentError,
    TransientError,
    UnconfirmedError,
)
from campaigns.adapters.x import refresh_access_token

from .conftest import image

TOKEN = "sandbox-x-access-token"


def test_post_request_and_result(sandbox, make_adapter):
    result = make_adapter("x").publish(Payload(text="Stadium gates open at 6pm."), idempotency_key="k")
    (post,) = sandbox.posts("x")
    assert post.path == "/2/tweets"
    assert post.headers["authorization"] == f"Bearer {TOKEN}"
    assert post.headers["content-type"] == "application/json"
    assert post.fields == {"text": "Stadium gates open at 6pm."}
    assert result.external_id == post.id
    assert result.http_status == 201
    assert result.external_url == f"https://x.com/engage_sandbox/status/{post.id}"


def test_images_are_uploaded_with_alt_text(sandbox, make_adapter):
    payload = Payload(text="Map", media=(image("a.png", "Route A"), image("b.png", "Route B")))
    make_adapter("x").publish(payload, idempotency_key="k")
    uploads = [r for r in sandbox.requests("x") if r.op == "media_upload"]
    assert [(u.fields["media_category"], u.fields["media_type"]) for u in uploads] == [
        ("tweet_image", "image/png")
    ] * 2
    assert [u.files[0].name for u in uploads] == ["media", "media"]
    metadata = [r.fields for r in sandbox.requests("x") if r.op == "media_metadata"]
    media = [r for r in sandbox.records("x") if r.op == "media"]
    assert metadata == [
        {"id": media[0].id, "metadata": {"alt_text": {"text": "Route A"}}},
        {"id": media[1].id, "metadata": {"alt_text": {"text": "Route B"}}},
    ]
    (post,) = sandbox.posts("x")
    assert post.fields == {"text": "Map", "media": {"media_ids": [m.id for m in media]}}


def test_reply(sandbox, make_adapter):
    adapter = make_adapter("x")
    first = adapter.publish(Payload(text="Question"), idempotency_key="a")
    adapter.publish(Payload(text="Answer", in_reply_to=first.external_id), idempotency_key="b")
    assert sandbox.posts("x")[1].fields["reply"] == {"in_reply_to_tweet_id": first.external_id}


def test_rate_limit_uses_the_reset_header(sandbox, make_adapter):
    sandbox.set_behaviour("x", rate_limit=1, retry_after=20)
    with pytest.raises(TransientError) as caught:
        make_adapter("x").publish(Payload(text="Hi"), idempotency_key="k")
    assert 18 <= caught.value.retry_after <= 20


def test_server_error_is_transient(sandbox, make_adapter):
    sandbox.set_behaviour("x", fail=1)
    with pytest.raises(TransientError):
        make_adapter("x").publish(Payload(text="Hi"), idempotency_key="k")
    assert sandbox.posts("x") == []


def test_hang_is_unconfirmed(sandbox, make_adapter):
    sandbox.set_behaviour("x", hang=1, hang_seconds=2)
    with pytest.raises(UnconfirmedError):
        make_adapter("x", read_timeout=0.5).publish(Payload(text="Hi"), idempotency_key="k")
    assert len(sandbox.posts("x")) == 1


def test_drop_is_unconfirmed_and_a_blind_retry_would_hit_the_duplicate_check(sandbox, make_adapter):
    sandbox.set_behaviour("x", drop=1)
    adapter = make_adapter("x")
    with pytest.raises(UnconfirmedError):
        adapter.publish(Payload(text="Hi there"), idempotency_key="k")
    assert len(sandbox.posts("x")) == 1
    with pytest.raises(PermanentError, match="probably published"):
        adapter.publish(Payload(text="Hi there"), idempotency_key="k")
    assert len(sandbox.posts("x")) == 1


def test_connection_refused_is_transient(make_adapter, dead_url):
    with pytest.raises(TransientError) as caught:
        make_adapter("x", api_base=dead_url).publish(Payload(text="Hi"), idempotency_key="k")
    assert TOKEN not in str(caught.value)


def test_a_bad_token_is_auth_expired(sandbox, make_adapter):
    with pytest.raises(AuthExpiredError) as caught:
        make_adapter("x", secrets={"access_token": "stale-x-token"}).publish(
            Payload(text="Hi"), idempotency_key="k"
        )
    assert "stale-x-token" not in str(caught.value)


def test_withdraw(sandbox, make_adapter):
    adapter = make_adapter("x")
    result = adapter.publish(Payload(text="Oops"), idempotency_key="k")
    adapter.withdraw(result.external_id)
    assert sandbox.posts("x") == []
    adapter.withdraw(result.external_id)  # 404: already gone


def test_check(sandbox, make_adapter):
    adapter = make_adapter("x")
    assert (adapter.check().state, adapter.check().detail) == ("ok", "X accepted the access token")
    sandbox.set_behaviour("x", auth_expired=True)
    assert adapter.check().state == "auth_expired"


def test_refresh_access_token_rotates_the_pair(sandbox, make_adapter):
    with httpx.Client() as http:
        pair = refresh_access_token(
            client_id="sandbox-x-client-id",
            refresh_token="sandbox-x-refresh-token",
            api_base=sandbox.url,
            http=http,
        )
        assert pair.access_token != TOKEN
        assert pair.refresh_token != "sandbox-x-refresh-token"
        assert pair.expires_at is not None
        adapter = make_adapter("x", secrets={"access_token": pair.access_token})
        adapter.publish(Payload(text="With a fresh token"), idempotency_key="k")
        with pytest.raises(AuthExpiredError) as caught:  # the old refresh token was rotated away
            refresh_access_token(
                client_id="sandbox-x-client-id",
                refresh_token="sandbox-x-refresh-token",
                api_base=sandbox.url,
                http=http,
            )
        assert "sandbox-x-refresh-token" not in str(caught.value)
    (token_request,) = [r for r in sandbox.requests("x") if r.op == "oauth2_token" and r.status == 200]
    assert token_request.fields == {
        "grant_type": "refresh_token",
        "refresh_token": "sandbox-x-refresh-token",
        "client_id": "sandbox-x-client-id",
    }


def test_capabilities_and_counting(make_adapter):
    adapter = make_adapter("x")
    assert (adapter.supports_withdraw, adapter.honours_idempotency_key, adapter.can_lookup) == (
        True,
        False,
        False,
    )
    assert adapter.limit == 280
    assert adapter.count("Read https://example.org/a/very/long/path/indeed") == 5 + 23
