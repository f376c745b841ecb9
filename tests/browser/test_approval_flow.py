"""Issue 3 in a real browser: from a playbook template to an approved message, by two people."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from campaigns.models import Message, MessageStatus
from tests.browser.conftest import ensure_playbook_library, shot, sign_in, sign_out
from tests.factories import PASSWORD, make_submitted, make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEMPLATE = "Travel advice"  # a shipped "before" template: {event} {date} {place} {hashtag}
SHOUTING = "PROHIBITED!! Flares are not allowed at the derby. #DerbyDay"


def _is_check(response) -> bool:
    return response.url.endswith("/api/v1/checks/") and response.request.method == "POST"


def test_officer_drafts_from_a_playbook_and_a_supervisor_approves(page, live_server, artifacts_dir):
    world = make_world()
    ensure_playbook_library()
    event = world.a.event

    # The officer opens Playbooks and picks a template for the event.
    sign_in(page, live_server, world.a.officer.email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Playbooks").click()
    expect(page.locator("h1")).to_have_text("Playbooks")
    page.get_by_label("Fill in from event").select_option(label=event.name)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"event={event.pk}"))
    card = page.locator("article.card").filter(has=page.get_by_role("heading", name=TEMPLATE, exact=True))
    card.get_by_role("link", name="Use this template").click()

    # The editor has the event's details filled in, and the checker has run on them.
    expect(page.locator("h1")).to_have_text("New message")
    expect(page.locator(".alert.info")).to_contain_text(f"{TEMPLATE} for {event.name}")
    body = page.get_by_label("Message", exact=True)
    filled = body.input_value()
    for detail in (event.name, event.location, "#DerbyDay"):
        assert detail in filled, f"{detail!r} not filled in: {filled!r}"
    assert "{" not in filled, f"a placeholder was left: {filled!r}"
    findings = page.locator("#checker-findings")
    expect(findings.locator("li:not(.muted)").first).to_be_visible()  # the first check came back

    # Shouting text: tone warnings appear live, fetched from /api/v1/checks/.
    with page.expect_response(_is_check) as checked:
        body.fill(SHOUTING)
    assert checked.value.status == 200
    expect(findings.locator("li.warning[data-code='tone.shouting']")).to_be_visible()
    expect(findings.locator("li.warning[data-code='tone.exclamations']")).to_be_visible()
    shot(page, artifacts_dir, "approval-editor-warnings")

    # Fixed: the warnings go away.
    with page.expect_response(_is_check):
        body.fill(filled)
    expect(findings.locator("li[data-code^='tone.']")).to_have_count(0)

    # A channel, save the draft, submit it. Ticked, the channel's preview shows the text as it goes out.
    page.get_by_label(re.compile(rf"^{re.escape(world.a.public.name)} ")).check()
    expect(page.locator(f'.preview-card[data-channel="{world.a.public.pk}"] [data-part=text]')).to_have_text(filled)
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/desk/messages/\d+/$"))
    expect(page.get_by_role("status").filter(has_text="Draft saved.")).to_be_visible()
    message = Message.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert message.author_id == world.a.officer.pk and message.body == filled
    assert list(message.channels.values_list("pk", flat=True)) == [world.a.public.pk]
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.locator("h1 .status").first).to_have_text("In review")
    page.console.assert_clean()
    sign_out(page)

    # A supervisor finds it in the review queue and approves it.
    sign_in(page, live_server, world.a.supervisor.email, PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/desk/review/")
    row = page.locator("#review-queue > li").filter(has_text=world.a.officer.display_name)
    expect(row).to_have_count(1)
    shot(page, artifacts_dir, "approval-review-queue")
    row.get_by_role("link").first.click()
    expect(page).to_have_url(f"{live_server.url}/desk/messages/{message.pk}/")
    page.get_by_role("button", name="Approve this version").click()
    expect(page.locator("h1 .status").first).to_have_text("Approved")
    expect(page.locator("p.meta").first).to_contain_text(f"approved by {world.a.supervisor.display_name}")
    shot(page, artifacts_dir, "approval-message-approved")
    page.console.assert_clean()

    message.refresh_from_db()
    assert message.status == MessageStatus.APPROVED
    assert message.approved_by_id == world.a.supervisor.pk
    assert message.approved_hash == message.content_hash


def test_a_supervisor_cannot_approve_their_own_routine_message(page, live_server, artifacts_dir):
    world = make_world()
    message = make_submitted(world.a, author=world.a.supervisor)
    approve = re.compile(r"^Approve")

    sign_in(page, live_server, world.a.supervisor.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/messages/{message.pk}/")
    expect(page.locator("h1 .status").first).to_have_text("In review")
    expect(page.get_by_role("button", name=approve)).to_have_count(0)
    expect(page.locator("#own-message-note")).to_contain_text("another supervisor must approve it")
    shot(page, artifacts_dir, "approval-own-message-note")
    page.console.assert_clean()
    sign_out(page)

    # Not a page that hides the button from everyone: the other supervisor has it.
    sign_in(page, live_server, world.a.supervisor2.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/messages/{message.pk}/")
    expect(page.get_by_role("button", name="Approve this version")).to_be_visible()
    expect(page.locator("#own-message-note")).to_have_count(0)
