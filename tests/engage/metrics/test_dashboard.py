"""The dashboard page, the metrics API (series and exports) and who may see what."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest

from accounts.models import AuditEvent
from campaigns.services.segments import segment_create
from tests.engage.metrics_helpers import build_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(world):
    return build_case(world.a, world.b)


def _page(client, user, query=""):
    client.force_login(user)
    return client.get(f"/desk/dashboard/{query}")


def test_dashboard_shows_the_figures_charts_and_their_tables(world, case, client):
    response = _page(client, world.a.supervisor, f"?event={case.event.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Trust dashboard" in html and "Past derby" in html
    # Headline: 5 of 6 answered (83%), median 1 h.
    assert "83%" in html and "5 of 6" in html and "1 h" in html
    # Four charts at least, each an accessible SVG with a title, a description and a data table.
    assert html.count('role="img"') >= 6
    for chart_id in ("chart-response-times", "chart-sentiment", "chart-categories", "chart-segments"):
        assert f'aria-labelledby="{chart_id}-t {chart_id}-d"' in html
        assert f'id="{chart_id}-h"' in html
    assert html.count("The figures as a table") >= 5
    # The event's phases are shaded in the sentiment chart.
    assert ">Before</text>" in html and ">During</text>" in html and ">After</text>" in html
    # Landmarks and headings.
    assert '<main id="main"' in html and "<h1>" in html and 'aria-labelledby="equity-h"' in html
    # Strict CSP: no inline style attributes and no inline script.
    assert not re.search(r"\sstyle=", html)
    assert "<script" not in html
    assert 'href="/desk/dashboard/"' in html  # the nav item
    assert f"/desk/dashboard/events/{case.event.pk}/report.pdf" in html


def test_the_under_served_segment_is_flagged_on_the_page(world, client):
    tw = world.a
    from datetime import timedelta

    from django.utils import timezone

    from campaigns.services import messages as message_services
    from tests.engage.metrics_helpers import make_reply

    farsi = segment_create(actor=tw.officer, team=tw.team, name="Farsi speakers", languages=["fa"], channels=[],
                           needs=[])
    fa = message_services.message_create(actor=tw.officer, campaign=tw.campaign, body="x", segments=[farsi])
    en = message_services.message_create(actor=tw.officer, campaign=tw.campaign, body="y", segments=[tw.segment])
    base = timezone.now() - timedelta(days=2)
    for i in range(20):
        make_reply(tw.team.pk, received_at=base, message=fa, language="fa", response_after=600 if i < 4 else None)
        make_reply(tw.team.pk, received_at=base, message=en, response_after=600)
    html = _page(client, tw.supervisor).content.decode()
    assert "Under-served" in html
    assert "Farsi speakers: 20% answered, against 60% overall" in html


def test_filters_of_another_team_are_not_found(world, case, client):
    for query in (f"?event={world.b.event.pk}", f"?segment={world.b.segment.pk}", f"?channel={world.b.sms.pk}",
                  f"?team={world.b.team.pk}"):
        assert _page(client, world.a.supervisor, query).status_code == 404, query
    assert _page(client, world.a.supervisor, "?event=nonsense").status_code == 404


def test_someone_in_no_team_is_refused_and_anonymous_is_sent_to_sign_in(world, client):
    assert _page(client, world.outsider).status_code == 403
    client.logout()
    response = client.get("/desk/dashboard/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_period_filters_are_whole_days(world, case, client):
    html = _page(client, world.a.supervisor, "?period=7d").content.decode()
    assert "No replies in this selection yet." in html  # the case is ten days old
    html = _page(client, world.a.supervisor, "?period=all").content.decode()
    assert "Replies</dt><dd>9<" in html


def test_dashboard_query_count_is_pinned(world, case, client, django_assert_max_num_queries):
    client.force_login(world.a.supervisor)
    with django_assert_max_num_queries(45):
        assert client.get(f"/desk/dashboard/?event={case.event.pk}").status_code == 200


def test_export_csv_is_audited_and_matches_the_page(world, case, client):
    client.force_login(world.a.supervisor)
    response = client.get(f"/api/v1/metrics/export/segments.csv?event={case.event.pk}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="engage-segments-event-' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    farsi = next(r for r in rows if r["Group"] == "Farsi speakers")
    assert (farsi["Replies"], farsi["Needing an answer"], farsi["Answered"], farsi["Response rate"]) == \
        ("2", "2", "1", "0.5")
    event = AuditEvent.objects.filter(verb="metrics.exported").latest("at")
    assert event.actor == world.a.supervisor and event.target_id == "segments"
    assert event.summary == {"table": "segments", "format": "csv", "filters": {"event": case.event.pk}, "rows": 2}


def test_every_table_exports_as_json(world, case, client):
    from engage.metrics.exports import TABLES

    client.force_login(world.a.supervisor)
    before = AuditEvent.objects.filter(verb="metrics.exported").count()
    for name in TABLES:
        response = client.get(f"/api/v1/metrics/export/{name}.json")
        assert response.status_code == 200, name
        document = json.loads(response.content)
        assert document["table"] == name and isinstance(document["rows"], list)
        assert [c["key"] for c in document["columns"]]
    assert AuditEvent.objects.filter(verb="metrics.exported").count() == before + len(TABLES)
    summary = json.loads(client.get("/api/v1/metrics/export/summary.json").content)["rows"][0]
    assert summary["replies"] == 9 and summary["median_seconds"] == 3600.0


def test_export_refuses_unknown_tables_and_report_tables_without_an_event(world, case, client):
    client.force_login(world.a.supervisor)
    assert client.get("/api/v1/metrics/export/nope.csv").status_code == 404
    assert client.get("/api/v1/metrics/export/summary.pdf").status_code == 404
    response = client.get("/api/v1/metrics/export/timeline.csv")
    assert response.status_code == 400 and response.json()["error"]["fields"]["event"]
    assert client.get(f"/api/v1/metrics/export/summary.csv?event={world.b.event.pk}").status_code == 404
    client.logout()
    assert client.get("/api/v1/metrics/export/summary.csv").status_code in (401, 403)


def test_csv_cells_cannot_run_as_formulas(world, client):
    segment_create(actor=world.a.officer, team=world.a.team, name="=HYPERLINK(\"http://x\")", languages=[],
                   channels=[], needs=[])
    from django.utils import timezone

    from campaigns.models import Segment
    from campaigns.services import messages as message_services
    from tests.engage.metrics_helpers import make_reply

    segment = Segment.objects.get(name__startswith="=")
    message = message_services.message_create(actor=world.a.officer, campaign=world.a.campaign, body="z",
                                              segments=[segment])
    make_reply(world.a.team.pk, received_at=timezone.now(), message=message)
    client.force_login(world.a.supervisor)
    text = client.get("/api/v1/metrics/export/segments.csv").content.decode()
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text


def test_series_api(world, case, client):
    client.force_login(world.a.supervisor)
    response = client.get(f"/api/v1/metrics/series/?metric=replies&interval=hour&event={case.event.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["interval"] == "hour" and body["timezone"] == "Europe/London"
    assert sum(p["value"] for p in body["points"]) == 7
    sentiment = client.get("/api/v1/metrics/series/?metric=sentiment&interval=day").json()
    assert sum(p["negative"] for p in sentiment["points"]) == 3
    assert client.get("/api/v1/metrics/series/?metric=nope").status_code == 400
    assert client.get(f"/api/v1/metrics/series/?metric=replies&event={world.b.event.pk}").status_code == 404


def test_series_query_count_does_not_grow(world, case, client, django_assert_max_num_queries):
    client.force_login(world.a.supervisor)
    with django_assert_max_num_queries(12):
        client.get("/api/v1/metrics/series/?metric=median_response_seconds&interval=day")


def test_the_sla_figure_says_what_it_counts_beside_needing_an_answer(world, case, client):
    """Issue 16: the SLA totals (replies with a deadline) are not the replies needing an answer, and
    the page says so: here 6 with a deadline (4 met, 2 missed) against 7 needing an answer."""
    html = _page(client, world.a.supervisor, "?period=all").content.decode()
    assert "7 needing an answer" in html
    assert "4 met, 2 missed, 0 still running, of 6 with a deadline" in html
    assert "praise and abuse have one" in html and "So its totals differ from “needing an answer”" in html


def test_languages_are_named_never_a_bare_code(world, client):
    from django.utils import timezone

    from tests.engage.metrics_helpers import make_reply

    now = timezone.now()
    for i, code in enumerate(["ti", "ti", "so", "ps", "ckb", "fa"]):
        make_reply(world.a.team.pk, received_at=now - timedelta(minutes=10 + i), language=code, response_after=60)
    html = _page(client, world.a.supervisor).content.decode()
    for name in ("Tigrinya", "Somali", "Pashto", "Sorani", "Farsi"):
        assert name in html
    for code in ("ti", "so", "ps", "ckb"):
        assert f">{code}<" not in html and f">{code} speakers<" not in html


def test_a_language_filter_is_described_by_its_name(world):
    from engage.metrics.scope import resolve_scope

    scope = resolve_scope(user=world.a.supervisor, language="ti")
    assert "language Tigrinya (ti)" in scope.describe()
