"""Post statistics (``stats``/``stats_many``) and token expiry in ``check()``, against the sandbox."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import httpx
import pytest
from django.conf import settings

from platforms.base import AuthExpiredError, Payload, PostStats, TransientError
from platforms.facebook.adapter import STATS_FIELDS

GRAPH = settings.ENGAGE_FACEBOOK_GRAPH_VERSION
PAGE = "100000000000001"
FB_TOKEN = "sandbox-facebook-page-token"


# --- Mastodon ------------------------------------------------------------------------------------
def test_mastodon_stats_are_the_status_counts_without_views(sandbox, make_adapter):
    adapter = make_adapter("mastodon")
    post = adapter.publish(Payload(text="Road closures from 6pm."), idempotency_key="k")
    sandbox.set_stats("mastodon", post.external_id, views=9999, reposts=12, quotes=0, replies=4, likes=57)

    assert adapter.supports_stats and adapter.stats_figures == {"shares", "replies", "likes"}
    assert adapter.stats(post.external_id) == PostStats(views=None, shares=12, replies=4, likes=57)
    (call,) = [r for r in sandbox.requests("mastodon") if r.op == "get_status"]
    assert (call.method, call.path) == ("GET", f"/api/v1/statuses/{post.external_id}")
    assert call.headers["authorization"] == "Bearer sandbox-mastodon-token"


def test_mastodon_counts_the_replies_the_instance_holds(sandbox, make_adapter):
    adapter = make_adapter("mastodon")
    post = adapter.publish(Payload(text="Gates open at 6."), idempotency_key="a")
    before = adapter.stats(post.external_id).replies
    adapter.publish(Payload(text="Thanks!", in_reply_to=post.external_id), idempotency_key="b")
    assert adapter.stats(post.external_id).replies == before + 1


def test_mastodon_stats_of_a_deleted_status_are_none(sandbox, make_adapter):
    adapter = make_adapter("mastodon")
    post = adapter.publish(Payload(text="Oops"), idempotency_key="k")
    adapter.withdraw(post.external_id)
    assert adapter.stats(post.external_id) is None
    assert adapter.stats_many([post.external_id]) == {}


def test_mastodon_stats_rate_limit_is_transient_with_the_reset(sandbox, make_adapter):
    adapter = make_adapter("mastodon")
    post = adapter.publish(Payload(text="Hi"), idempotency_key="k")
    sandbox.set_behaviour("mastodon", rate_limit=1, retry_after=90, applies_to="all")
    with pytest.raises(TransientError) as caught:
        adapter.stats(post.external_id)
    assert caught.value.http_status == 429
    assert 80 <= caught.value.retry_after <= 91


# --- X ---------------------------------------------------------------------------------------------
def test_x_stats_come_in_one_lookup_with_public_metrics(sandbox, make_adapter):
    adapter = make_adapter("x")
    first = adapter.publish(Payload(text="First"), idempotency_key="a").external_id
    second = adapter.publish(Payload(text="Second"), idempotency_key="b").external_id
    sandbox.set_stats("x", first, views=1500, reposts=10, quotes=3, replies=6, likes=80)
    sandbox.set_stats("x", second, views=0, reposts=0, quotes=0, replies=0, likes=0)
    missing = "1880000000000999999"

    found = adapter.stats_many([first, second, missing])

    assert found == {
        first: PostStats(views=1500, shares=13, replies=6, likes=80),
        second: PostStats(views=0, shares=0, replies=0, likes=0),
    }
    (call,) = [r for r in sandbox.requests("x") if r.op == "lookup_tweets"]
    assert call.method == "GET" and call.path == "/2/tweets"
    # The production spec (xdk specs/openapi.json, PostFieldsParameter) names it post.fields.
    assert call.fields == {"ids": f"{first},{second},{missing}", "post.fields": "public_metrics"}
    assert call.headers["authorization"] == "Bearer sandbox-x-access-token"
    assert adapter.stats(first) == found[first]
    assert adapter.stats(missing) is None


def test_x_stats_are_batched_100_ids_a_request(sandbox, make_adapter):
    adapter = make_adapter("x")
    ids = [str(1_880_000_000_000_100_000 + n) for n in range(150)]
    assert adapter.stats_many(ids) == {}  # none of them exist
    calls = [r for r in sandbox.requests("x") if r.op == "lookup_tweets"]
    assert [len(c.fields["ids"].split(",")) for c in calls] == [100, 50]
    assert all(c.status == 200 for c in calls)


@pytest.mark.contract_exempt  # 101 ids: the spec's maxItems is 100, the sandbox must refuse it too
def test_the_x_sandbox_refuses_more_than_100_ids(sandbox):
    ids = ",".join(str(1_880_000_000_000_100_000 + n) for n in range(101))
    response = httpx.get(f"{sandbox.url}/2/tweets", params={"ids": ids},
                         headers={"Authorization": "Bearer sandbox-x-access-token"})
    assert response.status_code == 400
    assert "is not between 1 and 100" in response.json()["errors"][0]["message"]


def test_x_stats_rate_limit_is_transient(sandbox, make_adapter):
    adapter = make_adapter("x")
    sandbox.set_behaviour("x", rate_limit=1, retry_after=120, applies_to="all")
    with pytest.raises(TransientError) as caught:
        adapter.stats_many(["1880000000000000001"])
    assert caught.value.http_status == 429 and caught.value.retry_after > 100


def test_x_check_reports_the_expiry_kept_with_a_user_token(make_adapter):
    assert make_adapter("x").check().expires_at is None  # an app-only bearer token never expires
    health = make_adapter("x", expires_at="2030-01-02T03:04:05Z").check()
    assert (health.state, health.expires_at) == ("ok", datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert make_adapter("x", expires_at=1893456000).check().expires_at == datetime(2030, 1, 1, tzinfo=UTC)


# --- Facebook ------------------------------------------------------------------------------------
def test_facebook_stats_from_the_post_summaries_and_insights(sandbox, make_adapter):
    adapter = make_adapter("facebook")
    post = adapter.publish(Payload(text="Gates open 6pm"), idempotency_key="k").external_id
    sandbox.set_stats("facebook", post, views=2400, reposts=5, quotes=1, replies=7, likes=40)

    assert adapter.stats(post) == PostStats(views=2400, shares=6, replies=7, likes=40)
    calls = [r for r in sandbox.requests("facebook") if r.op in ("get_object", "insights")]
    assert [(c.op, c.path, c.fields) for c in calls] == [
        ("get_object", f"/{GRAPH}/{post}", {"fields": STATS_FIELDS}),
        ("insights", f"/{GRAPH}/{post}/insights", {"metric": "post_media_view", "period": "lifetime"}),
    ]
    assert all(c.headers["authorization"] == f"Bearer {FB_TOKEN}" for c in calls)
    assert all(FB_TOKEN not in c.path and "access_token" not in c.fields for c in calls)


def test_facebook_leaves_shares_out_when_nobody_shared_and_views_can_be_skipped(sandbox, make_adapter):
    adapter = make_adapter("facebook", views_metric="")
    post = adapter.publish(Payload(text="Quiet post"), idempotency_key="k").external_id
    sandbox.set_stats("facebook", post, reposts=0, quotes=0, replies=0, likes=2)
    assert adapter.stats(post) == PostStats(views=None, shares=0, replies=0, likes=2)
    assert [r.op for r in sandbox.requests("facebook") if r.op == "insights"] == []


def test_facebook_views_are_none_when_insights_are_refused(sandbox, make_adapter):
    adapter = make_adapter("facebook", views_metric="page_fans")  # not a post metric: Graph refuses it
    post = adapter.publish(Payload(text="Hi"), idempotency_key="k").external_id
    figures = adapter.stats(post)
    assert figures is not None and figures.views is None and figures.likes is not None


def test_facebook_stats_of_a_deleted_post_are_none(sandbox, make_adapter):
    adapter = make_adapter("facebook")
    post = adapter.publish(Payload(text="Oops"), idempotency_key="k").external_id
    adapter.withdraw(post)
    assert adapter.stats(post) is None


def test_facebook_stats_rate_limit_is_transient(sandbox, make_adapter):
    adapter = make_adapter("facebook")
    post = adapter.publish(Payload(text="Hi"), idempotency_key="k").external_id
    sandbox.set_behaviour("facebook", rate_limit=1, retry_after=300, applies_to="all")
    with pytest.raises(TransientError) as caught:
        adapter.stats(post)
    assert caught.value.retry_after == 300.0


def test_facebook_check_asks_debug_token_and_a_page_token_that_never_expires_has_no_expiry(sandbox, make_adapter):
    health = make_adapter("facebook").check()
    assert (health.state, health.expires_at) == ("ok", None)
    (call,) = [r for r in sandbox.requests("facebook") if r.op == "debug_token"]
    assert call.path == f"/{GRAPH}/debug_token"
    assert call.fields == {"input_token": FB_TOKEN}
    assert call.headers["authorization"] == f"Bearer {FB_TOKEN}"


def test_facebook_check_reports_the_expiry_and_uses_the_app_token_when_given(sandbox, make_adapter):
    expires = int(time.time()) + 10 * 86400
    sandbox.add_account("facebook", token="EAAexpiring", page_id=PAGE, name="Expiring Page", expires_at=expires)
    sandbox.add_account("facebook", token="app-id|app-secret", page_id="555")  # stands in for the app token
    adapter = make_adapter("facebook", secrets={"page_access_token": "EAAexpiring",
                                                "app_access_token": "app-id|app-secret"})
    health = adapter.check()
    assert (health.state, health.expires_at) == ("ok", datetime.fromtimestamp(expires, UTC))
    (call,) = [r for r in sandbox.requests("facebook") if r.op == "debug_token"]
    assert call.fields == {"input_token": "EAAexpiring"}
    assert call.headers["authorization"] == "Bearer app-id|app-secret"


def test_facebook_check_of_an_expired_token_is_auth_expired(sandbox, make_adapter):
    sandbox.add_account("facebook", token="EAAold", page_id=PAGE, expires_at=int(time.time()) - 60)
    health = make_adapter("facebook", secrets={"page_access_token": "EAAold"}).check()
    assert health.state == "auth_expired"
    assert "EAAold" not in health.detail
    with pytest.raises(AuthExpiredError, match="190/463"):
        make_adapter("facebook", secrets={"page_access_token": "EAAold"}).publish(Payload(text="x"), idempotency_key="k")


def test_facebook_check_with_debug_token_unreachable_keeps_the_expiry_unknown(sandbox, make_adapter):
    adapter = make_adapter("facebook")
    sandbox.set_behaviour("facebook", fail=1, after=1, applies_to="all")  # /me answers, debug_token fails
    health = adapter.check()
    assert (health.state, health.expires_at, health.expiry_unknown) == ("ok", None, True)


def test_the_debug_token_input_is_redacted_from_httpx_logs(sandbox, make_adapter, caplog):
    with caplog.at_level(logging.INFO, logger="httpx"):
        make_adapter("facebook").check()
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("debug_token?input_token=[redacted]" in line for line in lines)
    assert not any(FB_TOKEN in line for line in lines)


# --- platforms without statistics ------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["telegram", "sms", "webhook"])
def test_platforms_without_post_statistics_say_none(make_adapter, kind):
    adapter = make_adapter(kind)
    assert adapter.supports_stats is False and adapter.stats_figures == frozenset()
    assert adapter.stats("12345") is None and adapter.stats_many(["1", "2"]) == {}
    assert adapter.check().expires_at is None


def test_sandbox_figures_are_steady_and_plausible(sandbox, make_adapter):
    adapter = make_adapter("x")
    post = adapter.publish(Payload(text="Made-up figures"), idempotency_key="k").external_id
    one, two = adapter.stats(post), adapter.stats(post)
    assert one == two
    assert 300 <= one.views < 5000 and one.likes < one.views and one.shares < one.views


def test_stats_control_api(sandbox):
    response = httpx.post(f"{sandbox.url}/_sandbox/stats",
                          json={"platform": "mastodon", "id": "110", "likes": 3, "views": 10})
    assert response.status_code == 200 and response.json()["figures"] == {"likes": 3, "views": 10}
    bad = httpx.post(f"{sandbox.url}/_sandbox/stats", json={"platform": "mastodon", "id": "110", "hugs": 1})
    assert bad.status_code == 400
