"""Facebook Graph as Meta runs it since November 2025: the views metric that replaced
``post_impressions``, the API version from ``ENGAGE_FACEBOOK_GRAPH_VERSION`` with warnings before
its end of life, and a sandbox that refuses what Graph refuses (deprecated metrics, unknown
versions, out-of-spec insights parameters)."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from django.conf import settings

from platforms.base import Payload, PostStats
from platforms.facebook.graph_versions import CURRENT, GRAPH_VERSIONS, version_warning

FB_TOKEN = "sandbox-facebook-page-token"
INVALID_METRIC = {"message": "(#100) The value must be a valid insights metric", "type": "OAuthException",
                  "code": 100}


def _graph(sandbox, path: str, **params) -> httpx.Response:
    return httpx.get(f"{sandbox.url}{path}", params=params, headers={"Authorization": f"Bearer {FB_TOKEN}"})


def _error(response: httpx.Response) -> dict:
    error = dict(response.json()["error"])
    error.pop("fbtrace_id")
    return error


def test_views_come_from_the_views_metric_that_replaced_post_impressions(sandbox, make_adapter):
    adapter = make_adapter("facebook")
    post = adapter.publish(Payload(text="Gates open 6pm"), idempotency_key="k").external_id
    sandbox.set_stats("facebook", post, views=2400, reposts=5, quotes=1, replies=7, likes=40)

    assert adapter.stats(post) == PostStats(views=2400, shares=6, replies=7, likes=40)
    (call,) = [r for r in sandbox.requests("facebook") if r.op == "insights"]
    assert call.fields == {"metric": "post_media_view", "period": "lifetime"} and call.status == 200
    assert adapter.stats_problems(post) == []


def test_a_deprecated_metric_leaves_views_empty_and_says_so(sandbox, make_adapter):
    adapter = make_adapter("facebook", views_metric="post_impressions")
    post = adapter.publish(Payload(text="Hi"), idempotency_key="k").external_id
    figures = adapter.stats(post)
    assert figures is not None and figures.views is None and figures.likes is not None
    (problem,) = adapter.stats_problems(post)
    assert "'post_impressions'" in problem and "error 100" in problem and "post_media_view" in problem
    assert "valid insights metric" not in problem  # Graph's own words are never quoted


def test_the_sandbox_refuses_deprecated_metrics_as_graph_does(sandbox, make_adapter):
    post = make_adapter("facebook").publish(Payload(text="Hi"), idempotency_key="k").external_id
    for metric in ("post_impressions", "post_impressions_unique", "post_media_view,post_impressions"):
        refused = _graph(sandbox, f"/{CURRENT}/{post}/insights", metric=metric)
        assert refused.status_code == 400 and _error(refused) == INVALID_METRIC, metric
    served = _graph(sandbox, f"/{CURRENT}/{post}/insights", metric="post_media_view,post_total_media_view_unique")
    assert [m["name"] for m in served.json()["data"]] == ["post_media_view", "post_total_media_view_unique"]
    assert served.headers["facebook-api-version"] == CURRENT


def test_the_sandbox_refuses_insights_parameters_outside_the_spec(sandbox, make_adapter):
    post = make_adapter("facebook").publish(Payload(text="Hi"), idempotency_key="k").external_id
    bad_period = _graph(sandbox, f"/{CURRENT}/{post}/insights", metric="post_media_view", period="forever")
    assert bad_period.status_code == 400 and _error(bad_period)["code"] == 100
    assert "param period must be one of {day, days_28, lifetime" in _error(bad_period)["message"]
    bad_preset = _graph(sandbox, f"/{CURRENT}/{post}/insights", metric="post_media_view", date_preset="ever")
    assert bad_preset.status_code == 400 and "date_preset" in _error(bad_preset)["message"]
    nothing = _graph(sandbox, f"/{CURRENT}/{post}/insights")
    assert (_error(nothing)["code"], _error(nothing)["error_subcode"]) == (3001, 1504028)


def test_the_sandbox_refuses_a_version_graph_does_not_have(sandbox):
    refused = _graph(sandbox, "/v99.0/me", fields="id,name")
    assert refused.status_code == 400
    assert _error(refused) == {"message": "Unknown path components: /me", "type": "OAuthException", "code": 2500}
    past = _graph(sandbox, "/v19.0/me", fields="id,name")  # ended May 2026: Graph answers as the oldest one left
    assert past.status_code == 200 and past.headers["facebook-api-version"] != "v19.0"


def test_the_version_comes_from_the_setting_unless_the_channel_names_one(sandbox, make_adapter, settings):
    settings.ENGAGE_FACEBOOK_GRAPH_VERSION = "v24.0"
    make_adapter("facebook").publish(Payload(text="One"), idempotency_key="a")
    make_adapter("facebook", api_version="v23.0").publish(Payload(text="Two"), idempotency_key="b")
    paths = [r.path for r in sandbox.requests("facebook") if r.op == "feed"]
    assert paths == ["/v24.0/100000000000001/feed", "/v23.0/100000000000001/feed"]


def test_the_default_version_is_current_and_has_a_published_end(settings):
    assert settings.ENGAGE_FACEBOOK_GRAPH_VERSION == CURRENT == "v25.0"
    assert GRAPH_VERSIONS[CURRENT].available_until == date(2028, 7, 29)


def test_check_warns_before_the_versions_end_of_life(sandbox, make_adapter, settings):
    assert make_adapter("facebook").check().warnings == ()
    health = make_adapter("facebook", api_version="v21.0").check()
    assert health.state == "ok"
    (warning,) = health.warnings
    assert "v21.0 reaches its end of life on 21 January 2027" in warning
    settings.ENGAGE_FACEBOOK_VERSION_WARNING_DAYS = 10
    assert make_adapter("facebook", api_version="v21.0").check().warnings == ()


@pytest.mark.parametrize(("version", "today", "expected"), [
    ("v25.0", date(2026, 12, 4), None),
    ("v25.0", date(2028, 5, 1), "reaches its end of life on 29 July 2028 (in 89 days)"),
    ("v21.0", date(2027, 1, 21), "reached its end of life on 21 January 2027"),
    ("v26.0", date(2026, 12, 4), None),  # Meta has not published its end yet
    ("v31.0", date(2026, 12, 4), "not a version Engage knows"),
])
def test_version_warnings(version, today, expected):
    warning = version_warning(version, today, warn_days=90)
    assert (warning is None) if expected is None else (expected in warning)


def test_the_setting_is_documented_in_the_readme():
    readme = (settings.BASE_DIR / "README.md").read_text()
    assert "`ENGAGE_FACEBOOK_GRAPH_VERSION`" in readme and "`ENGAGE_FACEBOOK_VERSION_WARNING_DAYS`" in readme
