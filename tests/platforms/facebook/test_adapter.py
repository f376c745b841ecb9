from __future__ import annotations

import json

import httpx
import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from platforms.base import (
    AuthExpiredError,
    Payload,
    PermanentError,
    TransientError,
    UnconfirmedError,
)
from tests.platforms.conftest import PNG, image
from tests.platforms.lookup_helpers import assert_safe, post_texts, query

TOKEN = "sandbox-facebook-page-token"
GRAPH = settings.ENGAGE_FACEBOOK_GRAPH_VERSION
PAGE = "100000000000001"


def test_text_post_goes_to_the_feed_with_the_link(sandbox, make_adapter):
    result = make_adapter("facebook").publish(
        Payload(text="Gates open 6pm", link="https://engage.example/news/3/"), idempotency_key="k"
    )
    (post,) = sandbox.posts("facebook")
    assert post.path == f"/{GRAPH}/{PAGE}/feed"
    assert post.headers["authorization"] == f"Bearer {TOKEN}"
    assert post.fields == {"message": "Gates open 6pm", "link": "https://engage.example/news/3/"}
    assert result.external_id == post.id
    assert result.external_url == f"https://www.facebook.com/{post.id}"
    # the token never travels in the URL
    assert all("access_token" not in r.path and TOKEN not in r.path for r in sandbox.requests("facebook"))


def test_one_image_is_a_photo_post_with_alt_text(sandbox, make_adapter):
    result = make_adapter("facebook").publish(
        Payload(text="Map", media=(image("map.png", "Closed roads map"),)), idempotency_key="k"
    )
    (post,) = sandbox.posts("facebook")
    assert post.path == f"/{GRAPH}/{PAGE}/photos"
    assert post.fields == {"caption": "Map", "alt_text_custom": "Closed roads map", "published": "true"}
    (source,) = post.files
    assert (source.name, source.filename, source.content) == ("source", "map.png", PNG)
    assert result.external_id == post.id  # the post id, which is what DELETE takes


def test_several_images_are_unpublished_photos_attached_to_one_feed_post(sandbox, make_adapter):
    payload = Payload(
        text="Maps", link="https://ignored.example/", media=(image("a.png", "A"), image("b.png", "B"))
    )
    make_adapter("facebook").publish(payload, idempotency_key="k")
    photos = [r for r in sandbox.records("facebook") if r.op == "photo"]
    assert [(p.fields["alt_text_custom"], p.fields["published"]) for p in photos] == [
        ("A", "false"),
        ("B", "false"),
    ]
    (post,) = sandbox.posts("facebook")
    assert post.op == "feed"
    assert post.fields["message"] == "Maps"
    assert "link" not in post.fields
    assert json.loads(post.fields["attached_media[0]"]) == {"media_fbid": photos[0].id}
    assert json.loads(post.fields["attached_media[1]"]) == {"media_fbid": photos[1].id}


def test_reply_is_a_comment(sandbox, make_adapter):
    adapter = make_adapter("facebook")
    first = adapter.publish(Payload(text="Update"), idempotency_key="a")
    reply = adapter.publish(
        Payload(text="Thanks for asking", in_reply_to=first.external_id), idempotency_key="b"
    )
    comment = sandbox.posts("facebook")[1]
    assert comment.path == f"/{GRAPH}/{first.external_id}/comments"
    assert comment.fields == {"message": "Thanks for asking"}
    assert reply.external_id == comment.id


def test_rate_limit_reads_the_business_use_case_header(sandbox, make_adapter):
    sandbox.set_behaviour("facebook", rate_limit=1, retry_after=90)
    with pytest.raises(TransientError) as caught:
        make_adapter("facebook").publish(Payload(text="Hi"), idempotency_key="k")
    assert caught.value.retry_after == 120  # two minutes, Graph's granularity
    assert "80001" in str(caught.value)


def test_server_error_is_transient(sandbox, make_adapter):
    sandbox.set_behaviour("facebook", fail=1)
    with pytest.raises(TransientError):
        make_adapter("facebook").publish(Payload(text="Hi"), idempotency_key="k")
    assert sandbox.posts("facebook") == []


def test_hang_and_drop_are_unconfirmed(sandbox, make_adapter):
    sandbox.set_behaviour("facebook", hang=1, hang_seconds=2)
    with pytest.raises(UnconfirmedError):
        make_adapter("facebook", read_timeout=0.5).publish(Payload(text="Hi"), idempotency_key="k")
    assert len(sandbox.posts("facebook")) == 1
    sandbox.reset()
    sandbox.set_behaviour("facebook", drop=1)
    with pytest.raises(UnconfirmedError):
        make_adapter("facebook").publish(Payload(text="Hi"), idempotency_key="k")
    assert len(sandbox.posts("facebook")) == 1


def test_unpublished_photo_uploads_are_retry_safe(sandbox, make_adapter):
    sandbox.set_behaviour("facebook", drop=1, applies_to="all")
    payload = Payload(text="Maps", media=(image("a.png"), image("b.png")))
    with pytest.raises(TransientError):  # the first (invisible) upload was dropped: nothing is public
        make_adapter("facebook").publish(payload, idempotency_key="k")
    assert sandbox.posts("facebook") == []


def test_connection_refused_is_transient(make_adapter, dead_url):
    with pytest.raises(TransientError) as caught:
        make_adapter("facebook", api_base=dead_url).publish(Payload(text="Hi"), idempotency_key="k")
    assert TOKEN not in str(caught.value)


def test_invalid_and_expired_tokens_are_auth_expired(sandbox, make_adapter):
    with pytest.raises(AuthExpiredError, match="code 190") as caught:
        make_adapter("facebook", secrets={"page_access_token": "EAAbad"}).publish(
            Payload(text="Hi"), idempotency_key="k"
        )
    assert "EAAbad" not in str(caught.value)
    sandbox.set_behaviour("facebook", auth_expired=True)
    with pytest.raises(AuthExpiredError, match="190/463"):
        make_adapter("facebook").publish(Payload(text="Hi"), idempotency_key="k")


def test_a_comment_reply_with_images_is_refused(make_adapter):
    with pytest.raises(PermanentError, match="text only"):
        make_adapter("facebook").publish(
            Payload(text="x", in_reply_to="1_2", media=(image(),)), idempotency_key="k"
        )


def test_withdraw(sandbox, make_adapter):
    adapter = make_adapter("facebook")
    result = adapter.publish(Payload(text="Oops", media=(image(),)), idempotency_key="k")
    adapter.withdraw(result.external_id)
    assert sandbox.posts("facebook") == []
    request = [r for r in sandbox.requests("facebook") if r.method == "DELETE"][0]
    assert request.path == f"/{GRAPH}/{result.external_id}"


def test_check(sandbox, make_adapter):
    adapter = make_adapter("facebook")
    health = adapter.check()
    assert (health.state, health.detail) == ("ok", "the Page token was accepted")
    assert [r.fields for r in sandbox.requests("facebook") if r.op == "me"] == [{"fields": "id,name"}]
    assert make_adapter("facebook", page_id="999").check().state == "failing"
    sandbox.set_behaviour("facebook", auth_expired=True)
    assert adapter.check().state == "auth_expired"


def test_capabilities_and_counting(make_adapter):
    adapter = make_adapter("facebook")
    assert (adapter.supports_withdraw, adapter.honours_idempotency_key, adapter.can_lookup) == (
        True,
        False,
        True,
    )
    assert type(adapter).lookup_offered({}) is True
    assert adapter.limit == 63206


# --- look-up: the Page's published posts (GET /{page-id}/published_posts) -----------------------------
@pytest.mark.parametrize("media", [(), (image("a.png", "A"),), (image("a.png", "A"), image("b.png", "B"))],
                         ids=["text", "photo", "photos"])
def test_lookup_finds_the_post_publish_made(sandbox, make_adapter, media):
    """A text post, a photo post (published through /photos, listed with its caption as message)
    and a post with several photos are all found under the id publish returned."""
    adapter = make_adapter("facebook")
    payload = Payload(text="Road closed: https://example.police.uk/roads #StaySafe", media=media,
                      link="https://engage.example/news/3/")
    published = adapter.publish(payload, idempotency_key="k")
    adapter.publish(Payload(text="Another post"), idempotency_key="k2")
    result = adapter.lookup(query(payload))
    assert (result.state, result.external_id, result.external_url) == (
        "found", published.external_id, published.external_url)
    assert_safe(result, payload.text)
    (listing,) = [r for r in sandbox.requests("facebook") if r.op == "published_posts"]
    assert listing.path == f"/{GRAPH}/{PAGE}/published_posts"
    assert listing.fields["fields"] == "id,message,created_time" and listing.fields["limit"] == "100"
    assert int(listing.fields["since"]) < int(listing.fields["until"])
    assert listing.headers["authorization"] == f"Bearer {TOKEN}" and TOKEN not in listing.query


def test_a_post_without_words_is_not_looked_up(sandbox, make_adapter):
    result = make_adapter("facebook").lookup(query(Payload(text="", link="https://engage.example/news/3/")))
    assert result.state == "unknown" and sandbox.requests("facebook") == []


def test_lookup_answers_absent_when_nothing_matches(sandbox, make_adapter):
    adapter = make_adapter("facebook")
    assert adapter.lookup(query(Payload(text="Never sent"))).state == "absent"
    adapter.publish(Payload(text="Something else"), idempotency_key="k")
    result = adapter.lookup(query(Payload(text="Never sent")))
    assert result.state == "absent"
    assert_safe(result, "Never sent Something else")


def test_two_identical_posts_are_unknown(sandbox, make_adapter):
    adapter = make_adapter("facebook")
    payload = Payload(text="Twice")
    adapter.publish(payload, idempotency_key="a")
    adapter.publish(payload, idempotency_key="b")
    result = adapter.lookup(query(payload))
    assert result.state == "unknown" and "2 matching" in result.detail


def test_a_comment_reply_is_looked_up_among_the_comments_on_its_object(sandbox, make_adapter):
    """An answer to a citizen is a comment: found among the Page's own direct comments on the object;
    a citizen's comment with the same words is not ours."""
    adapter = make_adapter("facebook")
    post = adapter.publish(Payload(text="Appeal for witnesses"), idempotency_key="p").external_id
    sandbox.add_account("facebook", token="citizen-token", page_id="100000000000777", name="A citizen")
    citizen = make_adapter("facebook", page_id="100000000000777", secrets={"page_access_token": "citizen-token"})
    question = citizen.publish(Payload(text="Thanks, we have passed it on", in_reply_to=post),
                               idempotency_key="q").external_id
    answer = Payload(text="Thanks, we have passed it on", in_reply_to=post)
    assert adapter.lookup(query(answer)).state == "absent"  # same words, but the citizen's
    published = adapter.publish(answer, idempotency_key="a")
    result = adapter.lookup(query(answer))
    assert (result.state, result.external_id) == ("found", published.external_id)
    listing = [r for r in sandbox.requests("facebook") if r.op == "list_comments"][-1]
    assert listing.path == f"/{GRAPH}/{post}/comments"
    assert {k: listing.fields[k] for k in ("fields", "filter", "order")} == {
        "fields": "id,message,created_time,from", "filter": "toplevel", "order": "reverse_chronological"}
    nested = Payload(text="Nested answer", in_reply_to=question)
    nested_id = adapter.publish(nested, idempotency_key="n").external_id
    assert adapter.lookup(query(nested)).external_id == nested_id
    assert adapter.lookup(query(Payload(text="Nested answer", in_reply_to=post))).state == "absent"  # toplevel
    assert adapter.lookup(query(answer, after=600, before=900)).state == "absent"


def test_a_listing_that_is_not_complete_is_unknown(sandbox, make_adapter):
    payload = Payload(text="The first post")
    make_adapter("facebook").publish(payload, idempotency_key="first")
    for index in range(3):
        make_adapter("facebook").publish(Payload(text=f"Later {index}"), idempotency_key=str(index))
    result = make_adapter("facebook", lookup_page_size=2, lookup_max_pages=1).lookup(query(payload))
    assert result.state == "unknown" and "without reaching the end" in result.detail
    assert make_adapter("facebook", lookup_page_size=2, lookup_max_pages=2).lookup(query(payload)).state == "found"
    second = [r for r in sandbox.requests("facebook") if r.op == "published_posts"][-1]
    assert second.fields["after"] and second.fields["limit"] == "2"


@pytest.mark.parametrize(("behaviour", "status"), [({"rate_limit": 1}, 400), ({"fail": 1}, 500)])
def test_a_rate_limit_or_server_error_is_unknown(sandbox, make_adapter, behaviour, status):
    adapter = make_adapter("facebook")
    payload = Payload(text="Sent once")
    adapter.publish(payload, idempotency_key="k")
    sandbox.set_behaviour("facebook", applies_to="all", **behaviour)
    result = adapter.lookup(query(payload))
    assert (result.state, result.http_status) == ("unknown", status)
    assert_safe(result, payload.text)
    assert adapter.lookup(query(payload)).state == "found"


def test_a_post_outside_the_window_is_not_matched(sandbox, make_adapter):
    adapter = make_adapter("facebook")
    payload = Payload(text="Same words, earlier")
    published = adapter.publish(payload, idempotency_key="k")
    assert adapter.lookup(query(payload, after=600, before=900)).state == "absent"
    sandbox.age_post("facebook", published.external_id, hours=2)
    assert adapter.lookup(query(payload)).state == "absent"
    assert adapter.lookup(query(payload, after=-3 * 3600, before=-3600)).state == "found"


def test_the_sandbox_lists_published_posts_as_graph_does(sandbox, make_adapter):
    adapter = make_adapter("facebook")
    adapter.publish(Payload(text="First"), idempotency_key="a")
    adapter.publish(Payload(text="Second", media=(image(),)), idempotency_key="b")
    url = f"{sandbox.url}/{GRAPH}/{PAGE}/published_posts"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    listed = httpx.get(url, params={"fields": "id,message,created_time", "limit": "1", "bogus": "1"},
                       headers=auth, timeout=5)
    body = listed.json()
    assert [p["message"] for p in body["data"]] == ["Second"]  # newest first; a photo post's caption
    assert body["data"][0]["created_time"].endswith("+0000") and set(body["data"][0]) == {
        "id", "message", "created_time"}
    assert listed.headers["X-Sandbox-Ignored-Params"] == "bogus" and body["paging"]["next"]
    after = httpx.get(url, params={"limit": "1", "after": body["paging"]["cursors"]["after"]}, headers=auth,
                      timeout=5).json()
    assert [p["message"] for p in after["data"]] == ["First"] and "next" not in after["paging"]
    for params in ({"fields": "id,views"}, {"limit": "101"}, {"since": "yesterday-ish"}):
        refused = httpx.get(url, params=params, headers=auth, timeout=5)
        assert (refused.status_code, refused.json()["error"]["code"]) == (400, 100), params
    assert httpx.get(url, params={"since": "4102444800"}, headers=auth, timeout=5).json() == {"data": []}
    other = httpx.get(f"{sandbox.url}/{GRAPH}/999/published_posts", headers=auth, timeout=5)
    assert other.status_code == 403
    post = body["data"][0]["id"]
    for params in ({"order": "newest"}, {"filter": "all"}, {"fields": "id,views"}):
        refused = httpx.get(f"{sandbox.url}/{GRAPH}/{post}/comments", params=params, headers=auth, timeout=5)
        assert (refused.status_code, refused.json()["error"]["code"]) == (400, 100), params
    missing = httpx.get(f"{sandbox.url}/{GRAPH}/{PAGE}_1/comments", headers=auth, timeout=5)
    assert (missing.status_code, missing.json()["error"]["error_subcode"]) == (400, 33)


@hypothesis_settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=post_texts())
def test_whatever_publish_sends_lookup_finds(sandbox, make_adapter, text):
    sandbox.reset()
    adapter = make_adapter("facebook")
    published = adapter.publish(Payload(text=text), idempotency_key="k")
    result = adapter.lookup(query(Payload(text=text)))
    assert (result.state, result.external_id) == ("found", published.external_id), text
