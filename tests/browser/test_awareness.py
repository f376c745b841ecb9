"""Event awareness (issue 18) in a real browser, at desktop width and at 390 px: the event page's
awareness panel (charts with their tables, the language mix, a masked rumour candidate), the list of
watches, the set-up form, and the public transparency page that lists the watch. Screenshots, axe, and
no sideways scrolling on the phone."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from engage.awareness import worker
from platforms.signals import PublicPost, SourceResult
from tests.browser.conftest import sign_in
from tests.browser.test_desk_pages_issue16 import _check
from tests.engage.awareness.conftest import approved_watch, make_desk
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLAIM = ["They say a bomb was found at the north stand, ring 07700 900123",
         "they say a bomb was found at the north stand!!", "They say a BOMB was found at the north stand",
         "they say a bomb was found at the north stand", "Queues at gate 3 are long but moving"]


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_awareness_pages(viewport, page, phone_page, live_server, artifacts_dir, settings):
    settings.ENGAGE_REQUIRE_2FA = False
    phone = viewport == "phone"
    page = phone_page if phone else page
    desk = make_desk("A")
    watch = approved_watch(desk)
    now = timezone.now()
    worker.watches_run(now=now, reader=lambda key, cursor: SourceResult(
        posts=[PublicPost(text=t, language="en", created_at=now) for t in CLAIM], cursor="1"))

    sign_in(page, live_server, desk.supervisor.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/events/{desk.event.pk}/")
    panel = page.locator("#awareness")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("bomb was found at the north stand")
    expect(panel).not_to_contain_text("07700")
    expect(panel.get_by_role("button", name="Make a rumour")).to_be_visible()
    _check(page, artifacts_dir, "awareness-panel", phone)

    page.goto(f"{live_server.url}/desk/awareness/")
    expect(page.get_by_text(watch.purpose).first).to_be_visible()
    _check(page, artifacts_dir, "awareness-watches", phone)
    page.goto(f"{live_server.url}/desk/awareness/event/{desk.event.pk}/new/")
    expect(page.locator("main form.card")).to_be_visible()
    _check(page, artifacts_dir, "awareness-new", phone)

    page.goto(f"{live_server.url}/transparency/")
    expect(page.get_by_text("#DerbyDay").first).to_be_visible()
    _check(page, artifacts_dir, "awareness-transparency", phone)
    page.goto(f"{live_server.url}/transparency/?lang=ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    _check(page, artifacts_dir, "awareness-transparency-ar", phone)
