from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from platforms.base import (
    AuthExpiredError,
    Payload,
    PermanentError,
    TransientError,
)
from tests.platforms.conftest import image
from tests.platforms.lookup_helpers import assert_safe, post_texts, query

TOKEN = "sandbox-mastodon-token"


def test_publish_sends_the_exact_status_request(sandbox, make_adapter):
    adapter = make_adapter("mastodon", visibility="unlisted")
    result = adapter.publish(Payload(text="Road closures from 6pm.", language="cy"), idempotency_key="key-1")

    posts = sandbox.posts("mastodon")
    assert len(posts) == 1
    post = posts[0]
    assert result.external_id == post.id
    assert result.external_url == f"{sandbox.url}/@engage/{post.id}"
    assert result.http_status == 200
    assert post.headers["authorization"] == f"Bearer {TOKEN}"
    assert post.headers["idempotency-key"] == "key-1"
    assert post.headers["user-agent"] == "Engage/0.1"
    assert post.headers["content-type"] == "application/x-www-form-urlencoded"
    assert post.fields == {"status": "Road closures from 6pm.", "visibility": "unlisted", "language": "cy"}


def test_images_are_uploaded_with_alt_text_and_attached(sandbox, make_adapter):
    adapter = make_adapter("mastodon")
    payload = Payload(text="Closed roads", media=(image("a.png", "Map A"), image("b.png", "Map B")))
    adapter.publish(payload, idempotency_key="key-media")

    uploads = [r for r in sandbox.records("mastodon") if r.op == "media"]
    assert [u.fields["description"] for u in uploads] == ["Map A", "Map B"]
    assert [u.files[0].filename for u in uploads] == ["a.png", "b.png"]
    assert all(u.files[0].name == "file" and u.files[0].content_type == "image/png" for u in uploads)
    assert all(u.path == "/api/v2/media" for u in uploads)
    (post,) = sandbox.posts("mastodon")
    assert post.fields["media_ids[]"] == [u.id for u in uploads]
    assert [m["description"] for m in post.data["media_attachments"]] == ["Map A", "Map B"]


def test_asynchronous_media_processing_is_polled_until_ready(sandbox, make_adapter):
    sandbox.set_behaviour("mastodon", media_processing=2)
    adapter = make_adapter("mastodon", media_poll_interval=0.01)
    adapter.publish(Payload(text="Closed roads", media=(image(),)), idempotency_key="key-async")

    statuses = [r.status for r in sandbox.requests("mastodon") if r.op in ("media", "media_status")]
    assert statuses == [202, 206, 206, 200]
    assert len(sandbox.posts("mastodon")) == 1


def test_media_still_processing_after_the_bounded_polls_is_transient(sandbox, make_adapter):
    sandbox.set_behaviour("mastodon", media_processing=50)
    adapter = make_adapter("mastodon", media_poll_interval=0.01, media_poll_attempts=3)
    with pytest.raises(TransientError, match="still processing"):
        adapter.publish(Payload(text="Closed roads", media=(image(),)), idempotency_key="key-slow")
    assert sandbox.posts("mastodon") == []


def test_reply_threads_under_the_status(sandbox, make_adapter):
    adapter = make_adapter("mastodon")
    first = adapter.publish(Payload(text="Question?"), idempotency_key="k1")
    adapter.publish(Payload(text="Answer.", in_reply_to=first.external_id), idempotency_key="k2")
    assert sandbox.posts("mastodon")[1].fields["in_reply_to_id"] == first.external_id


def test_server_error_is_transient_and_nothing_is_posted(sandbox, make_adapter):
    sandbox.set_behaviour("mastodon", fail=1)
    adapter = make_adapter("mastodon")
    with pytest.raises(TransientError) as caught:
        adapter.publish(Payload(text="Hello"), idempotency_key="k")
    assert caught.value.http_status == 500
    assert sandbox.posts("mastodon") == []
    adapter.publish(Payload(text="Hello"), idempotency_key="k")
    assert len(sandbox.posts("mastodon")) == 1


def test_rate_limit_is_transient_with_the_reset_time(sandbox, make_adapter):
    sandbox.set_behaviour("mastodon", rate_limit=1, retry_after=30)
    with pytest.raises(TransientError) as caught:
        make_adapter("mastodon").publish(Payload(text="Hello"), idempotency_key="k")
    assert caught.value.http_status == 429
    assert 25 <= caught.value.retry_after <= 30


def test_a_hang_is_transient_because_the_key_makes_the_retry_safe(sandbox, make_adapter):
    sandbox.set_behaviour("mastodon", hang=1, hang_seconds=2)
    adapter = make_adapter("mastodon", read_timeout=0.5)
    with pytest.raises(TransientError, match="safe to retry"):
        adapter.publish(Payload(text="Hello"), idempotency_key="same-key")
    assert len(sandbox.posts("mastodon")) == 1  # the instance did accept it

    result = adapter.publish(Payload(text="Hello"), idempotency_key="same-key")
    posts = sandbox.posts("mastodon")
    assert len(posts) == 1
    assert result.external_id == posts[0].id


def test_accept_then_drop_then_retry_with_the_same_key_posts_once(sandbox, make_adapter):
    sandbox.set_behaviour("mastodon", drop=1)
    adapter = make_adapter("mastodon")
    with pytest.raises(TransientError):
        adapter.publish(Payload(text="Hello"), idempotency_key="drop-key")
    assert len(sandbox.posts("mastodon")) == 1
    adapter.publish(Payload(text="Hello"), idempotency_key="drop-key")
    assert len(sandbox.posts("mastodon")) == 1


def test_a_new_key_is_a_new_post(sandbox, make_adapter):
    adapter = make_adapter("mastodon")
    adapter.publish(Payload(text="Hello"), idempotency_key="a")
    adapter.publish(Payload(text="Hello"), idempotency_key="b")
    assert len(sandbox.posts("mastodon")) == 2


def test_connection_refused_is_transient(make_adapter, dead_url):
    adapter = make_adapter("mastodon", instance_url=dead_url)
    with pytest.raises(TransientError, match="could not connect") as caught:
        adapter.publish(Payload(text="Hello"), idempotency_key="k")
    assert TOKEN not in str(caught.value)


def test_a_revoked_token_is_auth_expired_and_never_shown(sandbox, make_adapter):
    adapter = make_adapter("mastodon", secrets={"access_token": "revoked-token-123"})
    with pytest.raises(AuthExpiredError) as caught:
        adapter.publish(Payload(text="Hello"), idempotency_key="k")
    assert caught.value.http_status == 401
    assert "revoked-token-123" not in str(caught.value)
    # The instance's own words are kept for the adapter and the log, never in the shown detail.
    assert "The access token is invalid" in caught.value.platform_message
    assert "The access token is invalid" not in str(caught.value)
    assert str(caught.value) == "mastodon status: HTTP 401: the platform refused our credentials"


def test_validation_failure_is_permanent(sandbox, make_adapter):
    with pytest.raises(PermanentError, match="HTTP 422: the platform refused the content") as caught:
        make_adapter("mastodon").publish(Payload(text="   "), idempotency_key="k")
    assert "can't be blank" in caught.value.platform_message


def test_too_many_images_are_refused_before_sending(sandbox, make_adapter):
    payload = Payload(text="x", media=tuple(image(f"{i}.png") for i in range(5)))
    with pytest.raises(PermanentError, match="at most 4"):
        make_adapter("mastodon").publish(payload, idempotency_key="k")
    assert sandbox.requests("mastodon") == []


def test_withdraw_deletes_the_status(sandbox, make_adapter):
    adapter = make_adapter("mastodon")
    result = adapter.publish(Payload(text="Oops"), idempotency_key="k")
    adapter.withdraw(result.external_id)
    assert sandbox.posts("mastodon") == []
    assert sandbox.posts("mastodon", include_deleted=True)[0].deleted
    adapter.withdraw(result.external_id)  # already gone: still fine


def test_check_reports_ok_and_auth_expired(sandbox, make_adapter):
    adapter = make_adapter("mastodon")
    health = adapter.check()
    assert (health.state, health.detail) == ("ok", "the instance accepted the access token")
    sandbox.set_behaviour("mastodon", auth_expired=True)
    health = adapter.check()
    assert health.state == "auth_expired"
    assert TOKEN not in health.detail


def test_check_reports_failing_when_unreachable(make_adapter, dead_url):
    assert make_adapter("mastodon", instance_url=dead_url).check().state == "failing"


def test_capabilities_and_counting(make_adapter):
    adapter = make_adapter("mastodon")
    assert (adapter.supports_withdraw, adapter.honours_idempotency_key, adapter.can_lookup) == (
        True,
        True,
        True,
    )
    assert type(adapter).lookup_offered({}) is True
    assert adapter.limit == 500
    assert adapter.count("See https://example.org/" + "a" * 100) == 4 + 23
    assert make_adapter("mastodon", max_characters=1000).limit == 1000
    assert make_adapter("telegram").lookup(None).state == "unknown"  # the default: a person checks


# --- look-up: the account's statuses (GET /api/v1/accounts/:id/statuses) ---------------------------
def test_lookup_finds_the_status_publish_made(sandbox, make_adapter):
    adapter = make_adapter("mastodon")
    payload = Payload(text="Road closed & diverted <until 6pm>:\nhttps://example.police.uk/roads/closures/2026/12?a=1\n\n#StaySafe")
    published = adapter.publish(payload, idempotency_key="k")
    adapter.publish(Payload(text="Another status"), idempotency_key="k2")
    result = adapter.lookup(query(payload))
    assert (result.state, result.external_id, result.external_url) == (
        "found", published.external_id, published.external_url)
    assert_safe(result, payload.text)
    listing = [r for r in sandbox.requests("mastodon") if r.op == "account_statuses"]
    # newest first, paged back until an empty page (or a status older than the window)
    assert [r.path for r in listing] == ["/api/v1/accounts/109000000000000001/statuses"] * 2
    assert listing[0].fields == {"limit": "40", "exclude_reblogs": "true"}
    assert listing[1].fields == {"limit": "40", "exclude_reblogs": "true", "max_id": published.external_id}
    assert adapter.lookup(query(payload)).state == "found"
    assert [r.op for r in sandbox.requests("mastodon")].count("verify_credentials") == 1


def test_a_status_without_words_is_not_looked_up(sandbox, make_adapter):
    result = make_adapter("mastodon").lookup(query(Payload(text="", media=(image(),))))
    assert result.state == "unknown" and sandbox.requests("mastodon") == []


def test_lookup_answers_absent_when_nothing_matches(sandbox, make_adapter):
    adapter = make_adapter("mastodon")
    assert adapter.lookup(query(Payload(text="Never sent"))).state == "absent"
    adapter.publish(Payload(text="Something else"), idempotency_key="k")
    result = adapter.lookup(query(Payload(text="Never sent")))
    assert result.state == "absent"
    assert_safe(result, "Never sent Something else")


def test_two_identical_statuses_are_unknown(sandbox, make_adapter):
    adapter = make_adapter("mastodon")
    payload = Payload(text="Twice")
    adapter.publish(payload, idempotency_key="a")
    adapter.publish(payload, idempotency_key="b")  # a new key is a new status
    result = adapter.lookup(query(payload))
    assert result.state == "unknown" and "2 matching" in result.detail


def test_a_listing_that_is_not_complete_is_unknown(sandbox, make_adapter):
    payload = Payload(text="The first status")
    make_adapter("mastodon").publish(payload, idempotency_key="first")
    for index in range(3):
        make_adapter("mastodon").publish(Payload(text=f"Later {index}"), idempotency_key=str(index))
    result = make_adapter("mastodon", lookup_page_size=2, lookup_max_pages=2).lookup(query(payload))
    assert result.state == "unknown" and "without reaching the end" in result.detail
    # The start of the window is reached (an empty page): found.
    assert make_adapter("mastodon", lookup_page_size=2, lookup_max_pages=3).lookup(query(payload)).state == "found"
    pages = [r.fields.get("max_id") for r in sandbox.requests("mastodon") if r.op == "account_statuses"][-3:]
    assert pages[0] is None and pages[1] and pages[2]


@pytest.mark.parametrize(("behaviour", "status"), [({"rate_limit": 1}, 429), ({"fail": 1}, 500)])
def test_a_rate_limit_or_server_error_is_unknown(sandbox, make_adapter, behaviour, status):
    adapter = make_adapter("mastodon")
    payload = Payload(text="Sent once")
    adapter.publish(payload, idempotency_key="k")
    sandbox.set_behaviour("mastodon", applies_to="all", **behaviour)
    result = adapter.lookup(query(payload))
    assert (result.state, result.http_status) == ("unknown", status)
    assert_safe(result, payload.text)
    assert adapter.lookup(query(payload)).state == "found"


def test_a_status_outside_the_window_is_not_matched(sandbox, make_adapter):
    adapter = make_adapter("mastodon")
    payload = Payload(text="Same words, earlier")
    published = adapter.publish(payload, idempotency_key="k")
    assert adapter.lookup(query(payload, after=600, before=900)).state == "absent"
    sandbox.age_post("mastodon", published.external_id, hours=2)
    assert adapter.lookup(query(payload)).state == "absent"
    assert adapter.lookup(query(payload, after=-3 * 3600, before=-3600)).state == "found"


def test_the_sandbox_lists_statuses_as_mastodon_does(sandbox, make_adapter):
    adapter = make_adapter("mastodon")
    first = adapter.publish(Payload(text="See https://example.police.uk/a/very/long/path/to/an/appeal #Appeal"),
                            idempotency_key="a")
    adapter.publish(Payload(text="Reply", in_reply_to=first.external_id), idempotency_key="b")
    url = f"{sandbox.url}/api/v1/accounts/109000000000000001/statuses"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    listed = httpx.get(url, params={"limit": "1", "bogus": "1"}, headers=auth, timeout=5)
    (newest,) = listed.json()
    assert newest["content"] == "<p>Reply</p>" and "text" not in newest
    assert listed.headers["X-Sandbox-Ignored-Params"] == "bogus"
    next_url = listed.headers["Link"].split(";")[0].strip("<>")
    (older,) = httpx.get(next_url, headers=auth, timeout=5).json()
    assert older["id"] == first.external_id
    assert '<span class="invisible">https://</span><span class="ellipsis">example.police.uk/a/very/long' in older["content"]
    assert 'class="mention hashtag" rel="tag">#<span>Appeal</span></a>' in older["content"]
    assert len(httpx.get(url, params={"limit": "100"}, headers=auth, timeout=5).json()) == 2
    assert httpx.get(url.replace("109000000000000001", "1"), headers=auth, timeout=5).json() == {
        "error": "Record not found"}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=post_texts())
def test_whatever_publish_sends_lookup_finds(sandbox, make_adapter, text):
    sandbox.reset()
    adapter = make_adapter("mastodon")
    published = adapter.publish(Payload(text=text), idempotency_key="k")
    result = adapter.lookup(query(Payload(text=text)))
    assert (result.state, result.external_id) == ("found", published.external_id), text
