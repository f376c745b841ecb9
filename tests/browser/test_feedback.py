""""Did this answer help?" in a real browser on a phone: the question in English and Arabic, one
click to vote, the thanks, and axe-core finding no serious or critical problems."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.services import team_update_settings
from campaigns.services.channels import channel_create
from engage.inbound import answers
from engage.inbound.ingest import reply_store
from engage.inbound.processing import reply_process
from engage.models import AnswerFeedback, AnswerTemplate, Reply
from tests.browser.conftest import PHONE, open_page, shot
from tests.browser.test_public import run_axe
from tests.engage.public_helpers import private_cache  # noqa: F401 - autouse: a cache of the test's own
from tests.factories import ensure_shipped_answers, make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _link(world, n: int, text: str, language: str) -> str:
    stored = reply_store(team_id=world.a.team.pk, channel=None, source="web", provider_id=f"web-browser-{n}",
                         text=text, author_handle=f"person{n}@example.org")
    reply_process(reply_id=stored.reply_id)
    ensure_shipped_answers()
    template = AnswerTemplate.objects.get(team=None, title="Thank you, we have read it", language=language)
    answers.reply_respond(actor=world.a.liaison, reply=Reply.objects.get(pk=stored.reply_id), template=template)
    found = re.search(r"https?://\S+/(feedback/\S+)", mail.outbox[-1].body)
    assert found, mail.outbox[-1].body
    return "/" + found.group(1)


def test_the_feedback_page_on_a_phone(browser, live_server, artifacts_dir):
    world = make_world()
    team_update_settings(team=world.a.team, actor=world.a.admin, changes={"answer_feedback": True})
    channel_create(actor=world.a.admin, team=world.a.team, kind="email", name="Email answers",
                   config={"from_email": "community@police.example"})
    english = _link(world, 1, "Where is the lost property office?", "en")
    arabic = _link(world, 2, "هل الطريق إلى الملعب مغلق؟", "ar")

    context, page, console = open_page(browser, PHONE)
    try:
        page.goto(live_server.url + english)
        expect(page.get_by_role("heading", name="Did this answer help?")).to_be_visible()
        shot(page, artifacts_dir, "feedback-ask-en")
        bad = run_axe(page, "feedback-ask-en", artifacts_dir)
        assert not bad, bad
        assert AnswerFeedback.objects.count() == 0  # opening the link is not a vote
        with page.expect_navigation():
            page.get_by_role("button", name="Yes, it helped").click()
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
        shot(page, artifacts_dir, "feedback-thanks-en")
        assert list(AnswerFeedback.objects.values_list("helpful", flat=True)) == [True]

        page.goto(live_server.url + arabic)
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.get_by_role("button", name="لا، لم يساعدني")).to_be_visible()
        shot(page, artifacts_dir, "feedback-ask-ar")
        bad = run_axe(page, "feedback-ask-ar", artifacts_dir)
        assert not bad, bad
        console.assert_clean()
    finally:
        context.close()
