from __future__ import annotations

import re

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from platforms.base import (
    AuthExpiredError,
    Payload,
    PermanentError,
    TransientError,
    UnconfirmedError,
)
from platforms.x.adapter import refresh_access_token
from tests.platforms.conftest import PNG, image
from tests.platforms.lookup_helpers import assert_safe, post_texts, query

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
    # multipart media + media_category only: MediaUploadRequest is additionalProperties: false
    assert [u.fields for u in uploads] == [{"media_category": "tweet_image"}] * 2
    assert [u.files[0].content_type for u in uploads] == ["image/png"] * 2
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
        True,
    )
    assert type(adapter).lookup_offered({}) is True
    assert adapter.limit == 280
    assert adapter.count("Read https://example.org/a/very/long/path/indeed") == 5 + 23


# --- against X's production spec (xdk specs/openapi.json, X API v2 2.167) ----------------------------
APP_ONLY = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4X"


def _raw(sandbox, method, path, **kwargs):
    headers = {"Authorization": f"Bearer {kwargs.pop('token', TOKEN)}"}
    return httpx.request(method, f"{sandbox.url}{path}", headers=headers, timeout=5, **kwargs)


@pytest.mark.contract_exempt  # sends what X refuses, to see the sandbox refuse it
def test_the_sandbox_refuses_unknown_query_parameters_like_x(sandbox, make_adapter):
    post = make_adapter("x").publish(Payload(text="Counted"), idempotency_key="k").external_id
    old = _raw(sandbox, "GET", "/2/tweets", params={"ids": post, "tweet.fields": "public_metrics"})
    assert old.status_code == 400
    body = old.json()
    assert body["type"] == "https://api.x.com/2/problems/invalid-request"
    assert body["errors"][0]["parameters"] == {"tweet.fields": []}
    assert "The query parameter [tweet.fields] is not one of [" in body["errors"][0]["message"]
    assert _raw(sandbox, "GET", "/2/users/me", params={"since": "1"}).status_code == 400
    assert _raw(sandbox, "GET", "/2/tweets", params={"ids": post, "post.fields": "tweet_count"}).status_code == 400
    ok = _raw(sandbox, "GET", "/2/tweets", params={"ids": post, "post.fields": "public_metrics"})
    assert ok.status_code == 200 and "impression_count" in ok.json()["data"][0]["public_metrics"]


@pytest.mark.contract_exempt
def test_the_sandbox_refuses_fields_the_upload_and_post_schemas_do_not_allow(sandbox):
    png = ("a.png", PNG, "image/png")
    with_type = _raw(sandbox, "POST", "/2/media/upload", files={"media": png},
                     data={"media_category": "tweet_image", "media_type": "image/png"})
    assert with_type.status_code == 400
    assert with_type.json()["errors"][0]["parameters"] == {"media_type": []}
    assert "does not allow additional properties" in with_type.json()["errors"][0]["message"]
    bad_category = _raw(sandbox, "POST", "/2/media/upload", files={"media": png}, data={"media_category": "image"})
    assert bad_category.status_code == 400
    assert _raw(sandbox, "POST", "/2/media/upload", files={"media": png},
                data={"media_category": "tweet_image"}).status_code == 200
    extra = _raw(sandbox, "POST", "/2/tweets", json={"text": "Hi", "media": {"media_ids": ["1"], "alt": "x"}})
    assert extra.status_code == 400 and extra.json()["errors"][0]["parameters"] == {"media.alt": []}
    assert _raw(sandbox, "POST", "/2/tweets", json={"text": "Hi", "status": "Hi"}).status_code == 400
    assert sandbox.posts("x") == []


def test_over_length_text_is_refused_counted_the_twitter_text_way(sandbox, make_adapter):
    adapter = make_adapter("x")
    # 140 CJK characters weigh 2 each: 280, the limit; one more is over.
    adapter.publish(Payload(text="漢" * 140), idempotency_key="a")
    with pytest.raises(PermanentError) as caught:
        adapter.publish(Payload(text="字" * 141), idempotency_key="b")
    assert caught.value.http_status == 403
    assert len(sandbox.posts("x")) == 1


def test_an_app_only_token_is_refused_before_anything_is_sent(sandbox, make_adapter):
    adapter = make_adapter("x", secrets={"access_token": APP_ONLY})
    with pytest.raises(PermanentError) as caught:
        adapter.publish(Payload(text="Hi"), idempotency_key="k")
    assert "app-only bearer token" in caught.value.detail and "user-context token" in caught.value.detail
    assert APP_ONLY not in str(caught.value)
    health = adapter.check()
    assert health.state == "failing" and "app-only" in health.detail
    assert sandbox.requests("x") == []


def test_the_sandbox_lets_an_app_only_token_read_and_nothing_else(sandbox, make_adapter):
    """Whatever it looks like, X answers an app-only token on a writing operation with its 403
    "Unsupported Authentication" (the spec's security: OAuth2UserToken or UserToken only)."""
    sandbox.add_account("x", token="sandbox-x-app-token", app_only=True)
    post = make_adapter("x").publish(Payload(text="Readable"), idempotency_key="k").external_id
    adapter = make_adapter("x", secrets={"access_token": "sandbox-x-app-token"})
    assert adapter.stats(post) is not None
    with pytest.raises(PermanentError) as caught:
        adapter.publish(Payload(text="Hi"), idempotency_key="k")
    assert caught.value.http_status == 403
    assert "app-only bearer token" in caught.value.detail
    assert adapter.check().state == "failing"
    refused = [r for r in sandbox.requests("x") if r.outcome == "auth_refused"]
    assert [r.op for r in refused] == ["tweet", "users_me"]
    assert len(sandbox.posts("x")) == 1


# --- look-up: the account's posts (GET /2/users/{id}/tweets) ------------------------------------------
def test_lookup_finds_the_post_publish_made(sandbox, make_adapter):
    adapter = make_adapter("x")
    payload = Payload(text="Road closed & diverted: see https://example.police.uk/roads?a=1&b=2 #StaySafe")
    published = adapter.publish(payload, idempotency_key="k")
    adapter.publish(Payload(text="Another post in the same window"), idempotency_key="k2")
    result = adapter.lookup(query(payload))
    assert (result.state, result.external_id, result.external_url) == (
        "found", published.external_id, published.external_url)
    assert_safe(result, payload.text)
    (listing,) = [r for r in sandbox.requests("x") if r.op == "user_posts"]
    assert listing.path == "/2/users/1500000000000000001/tweets"
    assert listing.fields["post.fields"] == "created_at,text" and listing.fields["max_results"] == "100"
    assert "start_time" in listing.fields and "end_time" not in listing.fields  # the window has not ended
    adapter.lookup(query(payload, after=-600, before=-300))
    ended = [r for r in sandbox.requests("x") if r.op == "user_posts"][-1]
    assert ended.fields["start_time"] < ended.fields["end_time"]


def test_a_post_without_words_is_not_looked_up(sandbox, make_adapter):
    adapter = make_adapter("x")
    for text in ("", "  ", "https://example.org/only-a-link"):
        result = adapter.lookup(query(Payload(text=text, media=(image(),))))
        assert result.state == "unknown" and "no words" in result.detail
    assert sandbox.requests("x") == []


def test_lookup_asks_for_the_user_id_once(sandbox, make_adapter):
    adapter = make_adapter("x")
    for _ in range(2):
        assert adapter.lookup(query(Payload(text="Nothing sent"))).state == "absent"
    assert [r.op for r in sandbox.requests("x")] == ["users_me", "user_posts", "user_posts"]


def test_lookup_answers_absent_when_nothing_matches(sandbox, make_adapter):
    adapter = make_adapter("x")
    assert adapter.lookup(query(Payload(text="Never sent"))).state == "absent"
    adapter.publish(Payload(text="Something else entirely"), idempotency_key="k")
    result = adapter.lookup(query(Payload(text="Never sent")))
    assert result.state == "absent" and result.external_id == ""
    assert_safe(result, "Never sent Something else entirely")


def test_two_posts_that_look_the_same_are_unknown(sandbox, make_adapter):
    """X shows every link as t.co: two posts differing only in their link cannot be told apart."""
    adapter = make_adapter("x")
    adapter.publish(Payload(text="Appeal: https://example.police.uk/appeal/1"), idempotency_key="a")
    adapter.publish(Payload(text="Appeal: https://example.police.uk/appeal/2"), idempotency_key="b")
    result = adapter.lookup(query(Payload(text="Appeal: https://example.police.uk/appeal/1")))
    assert result.state == "unknown" and "2 matching" in result.detail
    assert_safe(result, "Appeal example police appeal")


def test_a_listing_that_is_not_complete_is_unknown(sandbox, make_adapter):
    adapter = make_adapter("x", lookup_max_pages=1, lookup_page_size=5)
    payload = Payload(text="The first post")
    adapter.publish(payload, idempotency_key="first")
    for index in range(5):
        adapter.publish(Payload(text=f"Later post {index}"), idempotency_key=str(index))
    result = adapter.lookup(query(payload))
    assert result.state == "unknown" and "without reaching the end" in result.detail
    assert make_adapter("x", lookup_max_pages=2, lookup_page_size=5).lookup(query(payload)).state == "found"


@pytest.mark.parametrize(("behaviour", "status"), [({"rate_limit": 1}, 429), ({"fail": 1}, 500)])
def test_a_rate_limit_or_server_error_is_unknown(sandbox, make_adapter, behaviour, status):
    adapter = make_adapter("x")
    payload = Payload(text="Sent once")
    adapter.publish(payload, idempotency_key="k")
    adapter.lookup(query(Payload(text="warm the user id")))
    sandbox.set_behaviour("x", applies_to="all", **behaviour)
    result = adapter.lookup(query(payload))
    assert (result.state, result.http_status) == ("unknown", status)
    assert_safe(result, payload.text)
    assert adapter.lookup(query(payload)).state == "found"


def test_a_post_outside_the_window_is_not_matched(sandbox, make_adapter):
    adapter = make_adapter("x")
    payload = Payload(text="Same words, earlier")
    published = adapter.publish(payload, idempotency_key="k")
    assert adapter.lookup(query(payload, after=600, before=900)).state == "absent"  # the window is later
    sandbox.age_post("x", published.external_id, hours=2)
    assert adapter.lookup(query(payload)).state == "absent"  # the same text, posted before the window
    assert adapter.lookup(query(payload, after=-3 * 3600, before=-3600)).state == "found"


@pytest.mark.contract_exempt
def test_the_sandbox_lists_posts_as_strictly_as_x(sandbox, make_adapter):
    path = "/2/users/1500000000000000001/tweets"
    for params in ({"max_results": "4"}, {"max_results": "101"}, {"start_time": "2026-01-01"},
                   {"start_time": "2026-01-02T00:00:00Z", "end_time": "2026-01-01T00:00:00Z"},
                   {"tweet.fields": "created_at"}, {"since": "1"}, {"pagination_token": "!"}):
        answer = _raw(sandbox, "GET", path, params=params)
        assert answer.status_code == 400, params
        assert answer.json()["type"] == "https://api.x.com/2/problems/invalid-request"
    missing = _raw(sandbox, "GET", "/2/users/42/tweets").json()
    assert missing["errors"][0]["resource_type"] == "user" and "data" not in missing
    make_adapter("x").publish(Payload(text="Read more at https://example.org/a?b=1&c=<2>"), idempotency_key="k")
    listed = _raw(sandbox, "GET", path, params={"post.fields": "created_at,text"}).json()
    (post,) = listed["data"]
    assert re.fullmatch(r"Read more at https://t\.co/\w{10}", post["text"])
    assert post["created_at"].endswith("Z") and listed["meta"]["result_count"] == 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=post_texts(max_words=8))
def test_whatever_publish_sends_lookup_finds(sandbox, make_adapter, text):
    sandbox.reset()
    adapter = make_adapter("x")
    published = adapter.publish(Payload(text=text), idempotency_key="k")
    result = adapter.lookup(query(Payload(text=text)))
    assert (result.state, result.external_id) == ("found", published.external_id), text
