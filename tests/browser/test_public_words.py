"""Issue 12, section 2 in a real browser: an officer's event edit waits for a second person, who
publishes it from the desk with a diff; a template waits for a second supervisor's approval."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from campaigns.services import events as event_services
from tests.browser.conftest import shot
from tests.engage.public_helpers import private_cache  # noqa: F401 - autouse: a cache of the test's own
from tests.factories import PASSWORD, make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_officers_event_edit_is_published_by_a_supervisor_from_the_diff(page, live_server, artifacts_dir):
    from tests.browser.conftest import sign_in, sign_out

    world = make_world()
    tw = world.a
    sign_in(page, live_server, tw.officer.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/events/{tw.event.pk}/")
    page.get_by_label("Where to get help").fill("Casualty point at Gate Z.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="wait for a supervisor")).to_be_visible()
    publication = page.locator("#publication")
    expect(publication).to_contain_text("Waiting to be published")
    expect(publication.get_by_role("button", name="Publish revision 2")).to_have_count(0)
    page.goto(f"{live_server.url}/events/{tw.event.pk}/")
    expect(page.locator("body")).not_to_contain_text("Casualty point at Gate Z.")
    page.console.assert_clean()
    page.goto(f"{live_server.url}/desk/events/")
    sign_out(page)

    sign_in(page, live_server, tw.supervisor.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/review/")
    page.get_by_role("link", name="Public words to review").click()
    expect(page.locator("#ev-h + ul")).to_contain_text("Derby A")
    shot(page, artifacts_dir, "staff-public-words-to-review")
    page.locator("#ev-h + ul").get_by_role("link", name="Derby A").click()
    publication = page.locator("#publication")
    expect(publication.locator("table.diff")).to_contain_text("Casualty point at Gate Z.")
    shot(page, artifacts_dir, "staff-event-publish-diff")
    publication.get_by_role("button", name="Publish revision 2").click()
    expect(page.get_by_role("status").filter(has_text="Published on the public pages")).to_be_visible()
    expect(page.locator("#publication")).to_contain_text("The public page shows the latest version.")
    page.console.assert_clean()
    page.goto(f"{live_server.url}/events/{tw.event.pk}/")
    expect(page.locator("body")).to_contain_text("Casualty point at Gate Z.")


def test_a_new_event_shows_as_not_published_in_the_desk(page, live_server, artifacts_dir):
    from datetime import timedelta

    from django.utils import timezone

    from tests.browser.conftest import sign_in

    world = make_world()
    tw = world.a
    event = event_services.event_create(actor=tw.officer, team=tw.team, name="Night march", kind="protest",
                                        starts_at=timezone.now() + timedelta(hours=2),
                                        ends_at=timezone.now() + timedelta(hours=5), location="Bridge Street")
    sign_in(page, live_server, tw.supervisor.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/events/")
    expect(page.locator("article.card").filter(has_text="Night march")).to_contain_text("Not published")
    shot(page, artifacts_dir, "staff-event-list-unpublished")
    page.goto(f"{live_server.url}/desk/events/{event.pk}/")
    expect(page.locator("#publication")).to_contain_text("Not public")
    shot(page, artifacts_dir, "staff-event-new-publish")
    page.console.assert_clean()


def test_a_template_waits_for_a_second_supervisor(page, live_server, artifacts_dir):
    from tests.browser.conftest import sign_in, sign_out

    world = make_world()
    tw = world.a
    sign_in(page, live_server, tw.supervisor.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/inbox/settings/")
    page.get_by_label("Title").fill("Gates")
    page.get_by_label("Text", exact=True).fill("Gates open two hours before kick-off.")
    page.get_by_role("button", name="Save for approval").click()
    expect(page.get_by_role("status").filter(has_text="Another supervisor approves it")).to_be_visible()
    expect(page.locator("#template-version-" + str(tw.team.answer_templates.get().versions.get().pk))).to_contain_text(
        "You wrote this version: another supervisor approves it.")
    sign_out(page)

    sign_in(page, live_server, tw.supervisor2.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/inbox/settings/")
    shot(page, artifacts_dir, "staff-template-approval")
    page.get_by_role("button", name="Approve this version").click()
    expect(page.get_by_role("status").filter(has_text="Template approved")).to_be_visible()
    page.console.assert_clean()
    template = tw.team.answer_templates.get()
    assert template.approved_by == tw.supervisor2
