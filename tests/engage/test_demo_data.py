"""The demo a new user starts with (``manage.py run`` seeds it): what issue 8's "done when" needs.

A supervisor opens the dashboard for the football derby, sees the under-served segment flagged and
the "Did this answer help?" votes; the encampment's after-action PDF shows its Arabic and Farsi text
shaped (issue 15); and the seeding is safe to repeat.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import Membership, Role, User
from campaigns.models import Campaign, Event, Message, Segment
from campaigns.services import messages as message_services
from campaigns.services import workflow
from engage.management.commands.seed_demo import USERS
from engage.metrics.dashboard import dashboard
from engage.metrics.scope import resolve_scope
from engage.metrics.transparency import transparency_figures
from engage.models import AnswerFeedback, Reply, ReplyAnswer

pytestmark = pytest.mark.django_db

DERBY = "Northshire v Westport derby"
FARSI = "Farsi-speaking residents near the stadium"


def test_the_demo_derby_shows_an_under_served_segment_and_votes_and_seeding_twice_adds_nothing():
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo_replies", verbosity=0)
    counts = (Reply.objects.count(), ReplyAnswer.objects.count(), AnswerFeedback.objects.count())
    assert counts[0] > 300 and counts[1] > 200

    supervisor = User.objects.get(email="supervisor@engage.test")
    derby = Event.objects.get(name=DERBY)
    data = dashboard(resolve_scope(user=supervisor, event=derby.pk))
    flagged = {row["label"] for row in data["segments"] if row["under_served"]}
    assert flagged == {FARSI}, data["segments"]

    votes = data["helpfulness"]
    assert votes["overall"]["votes"] >= 20 and votes["overall"]["asked"] >= votes["overall"]["votes"]
    by_segment = {row["name"]: row for row in votes["segments"]}
    others = [row for name, row in by_segment.items() if name != FARSI and row["votes"]]
    assert others and all(by_segment[FARSI]["rate"] < row["rate"] for row in others)
    # Anonymous: the only way from a vote back to an answer would be a key it does not have.
    assert {f.name for f in AnswerFeedback._meta.get_fields()}.isdisjoint({"reply", "answer", "ip_address"})

    # The README describes the demo as it is.
    readme = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text().split())
    words = {4: "four", 6: "six", 11: "eleven"}
    assert f"{words.get(Event.objects.count())} events" in readme
    assert f"{words.get(Segment.objects.count())} audience segments" in readme
    assert f"{words.get(Message.objects.count())} messages of the Events team" in readme
    for email, *_rest in USERS:
        assert f"`{email}`" in readme

    # The transparency page's 90-day block counts replies the 30-day block does not.
    periods = {p["days"]: p for p in transparency_figures()["forces"][0]["periods"]}
    assert periods[30]["needing_answer"] < periods[90]["needing_answer"]

    # Issue 15: the encampment's after-action PDF shows the Arabic and Farsi claims joined, right to left.
    from engage.metrics import reports
    from tests.engage.metrics.test_report_scripts import _contains, _drawn_glyphs, _harfbuzz

    encampment = Event.objects.get(name="Riverside encampment")
    pdf, _name = reports.report_pdf(actor=User.objects.get(email="community-officer@engage.test"),
                                    event_id=encampment.pk)
    drawn = _drawn_glyphs(pdf, "Noto Naskh Arabic")
    for word in ("المخيم", "آشامیدنی"):
        assert _contains(drawn, _harfbuzz("NotoNaskhArabic-Regular.ttf", word)[0]), word
    assert encampment.rumours.count() == 2


def test_every_team_that_drafts_has_a_supervisor_who_can_approve_its_messages():
    """Issue 16: the Community Desk's messages to Arabic, Farsi and Tigrinya speakers could never be
    approved, as no one supervised that team."""
    call_command("seed_demo", verbosity=0)
    drafting = set(Membership.objects.filter(role=Role.OFFICER).values_list("team_id", flat=True))
    supervised = set(Membership.objects.filter(role=Role.SUPERVISOR).values_list("team_id", flat=True))
    assert drafting and drafting <= supervised

    officer = User.objects.get(email="community-officer@engage.test")
    segment = Segment.objects.get(name__startswith="Encampment residents")
    campaign = Campaign.objects.get(event__name="Riverside encampment")
    message = message_services.message_create(
        actor=officer, campaign=campaign, segments=[segment],
        body="Free legal advice at the Refugee Support Network tent today, 10:00 to 16:00. #RiversideSupport",
        channels=list(campaign.team.channels.filter(kind="public")))
    workflow.message_submit(actor=officer, message=message)
    supervisor = User.objects.get(email="community-supervisor@engage.test")
    approved = workflow.message_approve(actor=supervisor, message=message)
    assert approved.status == "approved" and approved.approved_by == supervisor
