"""The after-action report: the printable page and the PDF (opens, has its sections and charts)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from campaigns.models import Delivery, Message
from campaigns.services import events as event_services
from engage.metrics import reports
from tests.engage.metrics_helpers import build_case, make_reply
from tests.engage.public_helpers import corrected_rumour, publish

pytestmark = pytest.mark.django_db

SECTIONS = ("Summary", "Timeline: what was published and when", "Delivery outcomes",
            "Replies and how fast they were answered", "Sentiment before, during and after", "Rumours and corrections",
            "Equity: who was answered", "How these figures are computed")


@pytest.fixture
def case(world):
    return build_case(world.a, world.b)


def _pdf(client, user, event_id):
    client.force_login(user)
    return client.get(f"/desk/dashboard/events/{event_id}/report.pdf")


def test_pdf_opens_with_its_sections_charts_and_figures(world, case, client):
    from pypdf import PdfReader

    response = _pdf(client, world.a.supervisor, case.event.pk)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(response.content))
    assert reader.metadata.title == "After-action report: Past derby"
    assert [item.title for item in reader.outline] == list(SECTIONS)
    text = "\n".join(page.extract_text() for page in reader.pages)
    for section in SECTIONS:
        assert section in text
    # The hand-computed figures: 7 replies to the event, 5 of 6 answered, median 1 h.
    assert "5 (83%)" in text and "1 h / 3 h 48 min" in text
    # Charts are drawn as vector paths: rectangles filled in the charts' colours, and their labels.
    content = b"".join(page.get_contents().get_data() for page in reader.pages)
    assert len(re.findall(rb" re f", content)) > 30
    assert b"0.0431 0.2392 0.4 rg" in content  # the bars' blue (#0b3d66)
    assert "Under 5 min" in text and "Positive" in text and "Before" in text
    # No personal data: no reply text, no handle.
    assert "A reply" not in text


def test_pdf_download_is_audited(world, case, client):
    _pdf(client, world.a.supervisor, case.event.pk)
    event = AuditEvent.objects.get(verb="metrics.report_exported")
    assert event.actor == world.a.supervisor and event.target_id == str(case.event.pk)
    assert event.summary["format"] == "pdf" and event.summary["bytes"] > 1000


def test_another_teams_event_is_not_found(world, case, client):
    assert _pdf(client, world.a.supervisor, world.b.event.pk).status_code == 404
    client.force_login(world.a.supervisor)
    assert client.get(f"/desk/dashboard/events/{world.b.event.pk}/report/").status_code == 404
    assert not AuditEvent.objects.filter(verb="metrics.report_exported").exists()


def test_printable_page_has_every_section(world, case, client):
    client.force_login(world.a.supervisor)
    response = client.get(f"/desk/dashboard/events/{case.event.pk}/report/")
    assert response.status_code == 200
    html = response.content.decode()
    for section in SECTIONS[1:]:
        assert section in html
    assert "Before" in html and "During" in html and "After" in html
    assert not re.search(r"\sstyle=", html)


def test_timeline_lists_what_was_published_in_order_with_outcomes(world, client):
    tw = world.a
    first = publish(tw, body="Roads near the stadium close at noon on Saturday. Please allow extra time. #DerbyDay")
    second = publish(tw, body="Trains to the derby run every ten minutes on Saturday. Please plan ahead. #DerbyDay")
    earlier = timezone.now() - timedelta(hours=5)
    Message.objects.filter(pk=second.pk).update(published_at=earlier)
    make_reply(tw.team.pk, received_at=timezone.now() - timedelta(minutes=5), message=first, response_after=60)
    data = reports.event_report(user=tw.supervisor, event_id=tw.event.pk)
    assert [row["id"] for row in data["timeline"]] == [second.pk, first.pk]
    assert data["timeline"][1]["replies"] == 1
    assert data["timeline"][0]["sent"] == Delivery.objects.filter(message=second, status="sent").count() == 1
    assert data["timeline"][0]["phase"] == "before"
    assert data["timeline_total"] == 2


def test_report_tables_export(world, case, client):
    client.force_login(world.a.supervisor)
    phases = client.get(f"/api/v1/metrics/export/phases.json?event={case.event.pk}").json()
    rows = {row["label"]: row for row in phases["rows"]}
    assert rows["During"]["replies"] == 4 and rows["Before"]["replies"] == 1 and rows["After"]["replies"] == 2
    assert rows["During"]["negative"] == 3
    timeline = client.get(f"/api/v1/metrics/export/timeline.csv?event={case.event.pk}")
    assert timeline.status_code == 200 and timeline.content.decode().startswith("Published,Phase,Message")


def test_pdf_with_names_in_other_scripts(world, client):
    tw = world.a
    event = event_services.event_create(actor=tw.officer, team=tw.team, name="Marsz “Równość” – Łódź / Ελλάδα",
                                        kind="protest", starts_at=timezone.now() - timedelta(days=2),
                                        ends_at=timezone.now() - timedelta(days=1))
    content, filename = reports.report_pdf(actor=tw.supervisor, event_id=event.pk)
    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert "Równość" in text and "Łódź" in text and filename == f"after-action-event-{event.pk}.pdf"


def test_rumours_and_corrections_are_in_the_report(world, client):
    corrected_rumour(world.a)
    data = reports.event_report(user=world.a.supervisor, event_id=world.a.event.pk)
    assert data["rumours"]["raised"] == 1 and data["rumours"]["decided"] == 1 and data["rumours"]["false"] == 1
    assert data["corrections_published"]["rumour_decisions"] == 2
    assert data["rumour_list"][0]["claim"] == "The bridge has collapsed"
    text = reports.render_pdf(data)
    from pypdf import PdfReader

    pages = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(text)).pages)
    assert "The bridge has collapsed" in pages and "1 false" in pages


def test_replies_whose_sentiment_could_not_be_scored_show_as_unknown(world, case, client):
    # A reply in a language without a sentiment lexicon is "unknown", not "neutral" (issue 15).
    make_reply(world.a.team.pk, received_at=case.event.starts_at + timedelta(minutes=30), sentiment="unknown",
               language="ti", message=case.replies[2].message)
    client.force_login(world.a.supervisor)
    phases = client.get(f"/api/v1/metrics/export/phases.json?event={case.event.pk}").json()
    rows = {row["label"]: row for row in phases["rows"]}
    assert rows["During"]["unknown"] == 1, rows
    page = client.get(f"/desk/dashboard/events/{case.event.pk}/report/").content.decode()
    table = page[page.index("Replies, answers and sentiment by phase"):]
    assert '<th scope="col" class="num">Unknown</th>' in table
