"""Fetching the platforms' post statistics (campaigns.services.stats) and the reach figures built
from them (engage.metrics.reach), against the sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import publishing
from campaigns.models import Delivery, DeliveryStatus
from campaigns.publishing import deliveries_claim_due, delivery_send
from campaigns.services.channels import channel_create
from campaigns.services.stats import deliveries_fetch_stats, stats_kinds
from engage.metrics import reach
from engage.metrics.dashboard import dashboard
from engage.metrics.scope import resolve_scope
from engage.models import Reply
from tests.factories import make_approved

pytestmark = pytest.mark.django_db

STATS_OPS = {"mastodon": "get_status", "x": "lookup_tweets", "facebook": "get_object"}
BODIES = ["Derby day: roads near the stadium close at 2pm. Please use the train. #DerbyDay",
          "Derby day: the fan zone opens at noon, bring water and a coat. #DerbyDay"]


@pytest.fixture(autouse=True)
def _reset(sandbox):
    sandbox.reset()


@pytest.fixture
def channels(world, sandbox):
    made = {}
    for kind in ("mastodon", "x", "facebook", "telegram"):
        config, secrets = sandbox.config_for(kind)
        made[kind] = channel_create(actor=world.a.admin, team=world.a.team, kind=kind, name=f"{kind} live",
                                    config={**config, **secrets, "read_timeout": 2.0})
    return made


def publish(world, channels, body):
    message = make_approved(world.a, channels=list(channels.values()), body=body)
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    outcomes = [delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due()]
    assert outcomes == ["sent"] * len(channels)
    return {d.channel.kind: d for d in Delivery.objects.filter(message=message).select_related("channel")}


def calls(sandbox, kind):
    return [r for r in sandbox.requests(kind) if r.op == STATS_OPS[kind]]


def test_only_platforms_that_give_figures_are_asked():
    assert set(stats_kinds()) == {"mastodon", "x", "facebook"}


def test_figures_are_fetched_and_stored_and_not_refetched_within_15_minutes(world, sandbox, channels):
    posts = publish(world, channels, BODIES[0])
    sandbox.set_stats("mastodon", posts["mastodon"].external_id, reposts=3, quotes=0, replies=2, likes=10)
    sandbox.set_stats("x", posts["x"].external_id, views=1000, reposts=10, quotes=2, replies=5, likes=50)
    sandbox.set_stats("facebook", posts["facebook"].external_id, views=2000, reposts=4, quotes=0, replies=3,
                      likes=30)

    counts = deliveries_fetch_stats()

    assert counts == {"posts": 3, "gone": 0, "channels": 3, "rate_limited": 0, "errors": 0, "backing_off": 0}
    got = {d.channel.kind: d for d in Delivery.objects.select_related("channel")}
    figures = {kind: (d.stats_views, d.stats_shares, d.stats_replies, d.stats_likes) for kind, d in got.items()}
    assert figures == {"mastodon": (None, 3, 2, 10), "x": (1000, 12, 5, 50), "facebook": (2000, 4, 3, 30),
                       "telegram": (None, None, None, None)}
    assert got["telegram"].stats_fetched_at is None
    assert all(got[k].stats_fetched_at is not None for k in STATS_OPS)
    # the platforms saw our credentials and the documented parameters
    (x_call,) = calls(sandbox, "x")
    assert x_call.headers["authorization"] == "Bearer sandbox-x-access-token"
    assert x_call.fields == {"ids": posts["x"].external_id, "post.fields": "public_metrics"}
    (m_call,) = calls(sandbox, "mastodon")
    assert m_call.path == f"/api/v1/statuses/{posts['mastodon'].external_id}"
    assert m_call.headers["authorization"] == "Bearer sandbox-mastodon-token"
    assert [r.op for r in sandbox.requests("telegram") if r.method == "GET"] == []

    # Within 15 minutes nobody is asked again.
    assert deliveries_fetch_stats(now=timezone.now() + timedelta(minutes=10))["posts"] == 0
    assert [len(calls(sandbox, k)) for k in STATS_OPS] == [1, 1, 1]
    # After 15 minutes the figures are refreshed.
    sandbox.set_stats("x", posts["x"].external_id, views=1800)
    assert deliveries_fetch_stats(now=timezone.now() + timedelta(minutes=15))["posts"] == 3
    assert Delivery.objects.get(pk=posts["x"].pk).stats_views == 1800


def test_a_rate_limit_stops_that_channel_for_the_run_and_until_retry_after(world, sandbox, channels):
    first, second = publish(world, channels, BODIES[0]), publish(world, channels, BODIES[1])
    sandbox.set_behaviour("mastodon", rate_limit=1, retry_after=600, applies_to="all")

    counts = deliveries_fetch_stats()

    assert counts["rate_limited"] == 1 and counts["posts"] == 4  # x and facebook, two posts each
    # one request, answered 429, and the second post was not asked for
    assert [(r.status, r.outcome) for r in calls(sandbox, "mastodon")] == [(429, "rate_limited")]
    mastodon = Delivery.objects.filter(channel=channels["mastodon"])
    assert list(mastodon.values_list("stats_fetched_at", flat=True)) == [None, None]

    # The next run respects Retry-After: Mastodon is not asked at all.
    later = timezone.now() + timedelta(minutes=16)
    counts = deliveries_fetch_stats(now=later)
    assert counts["backing_off"] == 1
    assert [r.outcome for r in sandbox.requests("mastodon") if r.method == "GET"] == ["rate_limited"]

    # Once the wait is over (the cache entry lapsed), both posts are fetched.
    from django.core.cache import cache

    cache.delete(f"campaigns:stats:backoff:{channels['mastodon'].pk}")
    assert deliveries_fetch_stats(now=later)["posts"] == 2
    assert mastodon.filter(stats_fetched_at__isnull=False).count() == 2
    assert {first["mastodon"].pk, second["mastodon"].pk} == set(mastodon.values_list("pk", flat=True))


def test_a_failing_channel_never_fails_the_run(world, sandbox, channels):
    publish(world, channels, BODIES[0])
    sandbox.set_behaviour("facebook", fail=100, applies_to="all")
    counts = deliveries_fetch_stats()
    assert counts["errors"] == 1 and counts["posts"] == 2
    assert Delivery.objects.get(channel=channels["facebook"]).stats_fetched_at is None
    assert Delivery.objects.get(channel=channels["x"]).stats_views is not None


def test_a_post_deleted_on_the_platform_keeps_its_last_figures(world, sandbox, channels):
    posts = publish(world, channels, BODIES[0])
    sandbox.set_stats("x", posts["x"].external_id, views=700, reposts=1, quotes=0, replies=0, likes=9)
    deliveries_fetch_stats()
    sandbox.state.find("x", posts["x"].external_id).deleted = True  # someone deleted it on X itself
    counts = deliveries_fetch_stats(now=timezone.now() + timedelta(minutes=20))
    assert counts["gone"] == 1
    delivery = Delivery.objects.get(pk=posts["x"].pk)
    assert (delivery.stats_views, delivery.stats_likes) == (700, 9)
    assert delivery.stats_fetched_at > timezone.now() + timedelta(minutes=19)


def test_only_recent_sent_posts_and_at_most_the_cap_per_run(world, sandbox, channels, settings):
    first, second = publish(world, channels, BODIES[0]), publish(world, channels, BODIES[1])
    Delivery.objects.filter(pk=first["x"].pk).update(sent_at=timezone.now() - timedelta(days=15))
    Delivery.objects.filter(pk=first["mastodon"].pk).update(status=DeliveryStatus.WITHDRAWN)
    settings.ENGAGE_STATS_MAX_POSTS = 2
    assert deliveries_fetch_stats()["posts"] == 2  # the newest first
    assert deliveries_fetch_stats()["posts"] == 2
    assert deliveries_fetch_stats()["posts"] == 0  # the old and the withdrawn post are never asked
    fetched = set(Delivery.objects.filter(stats_fetched_at__isnull=False).values_list("pk", flat=True))
    assert fetched == {first["facebook"].pk, second["x"].pk, second["mastodon"].pk, second["facebook"].pk}


def _two_posts_with_figures(world, sandbox, channels):
    first, second = publish(world, channels, BODIES[0]), publish(world, channels, BODIES[1])
    figures = {
        ("mastodon", 0): {"reposts": 3, "quotes": 0, "replies": 2, "likes": 10},
        ("mastodon", 1): {"reposts": 1, "quotes": 0, "replies": 0, "likes": 5},
        ("x", 0): {"views": 1000, "reposts": 10, "quotes": 2, "replies": 5, "likes": 50},
        ("x", 1): {"views": 500, "reposts": 0, "quotes": 1, "replies": 1, "likes": 20},
        ("facebook", 0): {"views": 2000, "reposts": 4, "quotes": 0, "replies": 3, "likes": 30},
        ("facebook", 1): {"views": 100, "reposts": 0, "quotes": 0, "replies": 0, "likes": 1},
    }
    for (kind, n), values in figures.items():
        sandbox.set_stats(kind, (first, second)[n][kind].external_id, **values)
    deliveries_fetch_stats()


def test_reach_sums_the_platform_figures_per_channel(world, sandbox, channels):
    _two_posts_with_figures(world, sandbox, channels)
    scope = resolve_scope(user=world.a.supervisor, team=world.a.team.pk)
    rows = {r["kind"]: r for r in reach.deliveries_by_channel(scope, Reply.objects.all())}
    picked = {kind: {k: rows[kind][k] for k in ("views", "shares", "platform_replies", "likes", "posts_measured")}
              for kind in rows}
    assert picked == {  # by hand from the figures above
        "mastodon": {"views": None, "shares": 4, "platform_replies": 2, "likes": 15, "posts_measured": 2},
        "x": {"views": 1500, "shares": 13, "platform_replies": 6, "likes": 70, "posts_measured": 2},
        "facebook": {"views": 2100, "shares": 4, "platform_replies": 3, "likes": 31, "posts_measured": 2},
        "telegram": {"views": None, "shares": None, "platform_replies": None, "likes": None, "posts_measured": 0},
    }
    assert rows["mastodon"]["stats_given"] == ["likes", "platform_replies", "shares"]
    assert rows["telegram"]["stats_given"] == []
    assert rows["x"]["sent"] == 2 and rows["x"]["replies"] == 0  # our own reply count is untouched

    totals = reach.delivery_totals(list(rows.values()))
    assert {k: totals[k] for k in ("views", "shares", "platform_replies", "likes", "posts_measured")} == {
        "views": 3600, "shares": 21, "platform_replies": 11, "likes": 116, "posts_measured": 6}
    assert totals["platform_stats_available"] is True
    assert totals["platform_stats_note"].startswith(
        "On the platforms, 6 posts measured: 3,600 views, 21 shares, 11 replies and 116 likes.")

    data = dashboard(scope)
    assert data["reach"]["views"] == 3600
    assert data["reach"]["platform_stats_note"] == totals["platform_stats_note"]


def test_the_dashboard_table_and_the_export_show_the_platform_figures(world, sandbox, channels, client):
    _two_posts_with_figures(world, sandbox, channels)
    client.force_login(world.a.supervisor)
    exported = client.get(f"/api/v1/metrics/export/channels.json?team={world.a.team.pk}").json()
    by_kind = {row["kind"]: row for row in exported["rows"]}
    assert (by_kind["x"]["views"], by_kind["x"]["shares"], by_kind["x"]["likes"]) == (1500, 13, 70)
    assert by_kind["telegram"]["views"] is None  # not given by the platform: not a zero
    page = client.get(f"/desk/dashboard/?team={world.a.team.pk}").content.decode()
    reach_table = page[page.index("<caption>Deliveries and replies per channel</caption>"):]
    reach_table = reach_table[:reach_table.index("</table>")]
    assert "<th scope=\"col\" class=\"num\">Views</th>" in reach_table
    assert "<td class=\"num\">1,500</td>" in reach_table and "<td class=\"num\">2,100</td>" in reach_table


def test_reach_before_any_figures_says_so(world, sandbox, channels):
    publish(world, channels, BODIES[0])
    totals = reach.delivery_totals(reach.deliveries_by_channel(
        resolve_scope(user=world.a.supervisor, team=world.a.team.pk), Reply.objects.all()))
    assert (totals["views"], totals["likes"], totals["posts_measured"]) == (None, None, 0)
    assert totals["platform_stats_available"] is False
    assert totals["platform_stats_note"].startswith("No figures from the platforms yet.")
