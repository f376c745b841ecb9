from __future__ import annotations

import json

import pytest
from django.conf import settings

from platforms.base import (
    AuthExpiredError,
    Payload,
    PermanentError,
    TransientError,
    UnconfirmedError,
)
from tests.platforms.conftest import PNG, image

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
        False,
    )
    assert adapter.limit == 63206
