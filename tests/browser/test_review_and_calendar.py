"""A supervisor on a phone (390 px) reviews and approves: the review queue, a message back in review
with what changed since its approval at the top, and the approve and request-changes actions, with
no sideways scrolling. And on the calendar a scheduled message is dragged to another day: the same
schedule service, its approval kept. Screenshots of each page and axe on the phone pages."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from campaigns import publishing
from campaigns.models import Approval, Message, MessageStatus, VariantFormat
from campaigns.services import messages as message_services
from campaigns.services import workflow
from tests.browser.conftest import shot, sign_in
from tests.browser.test_public import run_axe
from tests.factories import PASSWORD, make_approved, make_submitted, make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page, name: str) -> None:
    widths = page.evaluate("() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")
    assert widths[0] <= widths[1], f"{name} scrolls sideways at 390 px: {widths[0]} > {widths[1]}"


def _axe(page, artifacts_dir, name: str) -> None:
    bad = run_axe(page, name, artifacts_dir)
    assert not bad, json.dumps(bad, indent=1)


def test_a_supervisor_reviews_and_approves_on_a_phone(phone_page, live_server, artifacts_dir):
    page = phone_page
    world = make_world()
    tw = world.a
    # Approved once, then edited (a channel, a Farsi easy-read variant, new words) and back in review.
    changed = make_approved(tw, channels=[tw.public], title="Kick-off moved to 8pm on Saturday evening")
    message_services.message_update(actor=tw.officer, message=changed, channels=[tw.public, tw.mastodon],
                                    segments=[tw.segment], body="Kick-off is now at 8pm. Please use the train "
                                    "and allow extra time: https://derby.example/travel?route=stadiumnorthgateandcarparkseventeenandeighteen")
    message_services.variant_add(actor=tw.officer, message=changed, language="fa", format=VariantFormat.EASY_READ,
                                 body="بازی ساعت ۸ شب شروع می‌شود.", segment=tw.segment)
    workflow.message_submit(actor=tw.officer, message=changed)
    other = make_submitted(tw, channels=[tw.public, tw.sms], title="Road closures near the stadium")

    sign_in(page, live_server, tw.supervisor.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/review/")
    item = page.locator(f'#review-queue > li[data-message="{changed.pk}"]')
    expect(item).to_contain_text(tw.mastodon.name)
    expect(item).to_contain_text(tw.segment.name)
    expect(item).to_contain_text(f"Farsi · Easy read · {tw.segment.name}")
    expect(item).to_contain_text(tw.officer.display_name)
    expect(item.locator("dd.waiting time")).to_have_text(re.compile(r"^(just now|\d+ min)$"))
    _fits(page, "the review queue")
    shot(page, artifacts_dir, "review-queue-390")
    _axe(page, artifacts_dir, "review-queue-390")

    with page.expect_navigation():
        item.get_by_role("link").first.click()
    since = page.locator("#since-approval")
    expect(since).to_be_visible()
    expect(since).to_contain_text(f"{tw.supervisor.display_name} approved version 1")
    expect(since.locator('dd[data-kind="channels"]')).to_contain_text(tw.mastodon.name)
    expect(since.locator('dd[data-kind="segments"]')).to_contain_text(tw.segment.name)
    expect(since.locator('dd[data-kind="variant_added"]')).to_be_visible()
    expect(since.locator('dd[data-kind="body"] ins').first).to_be_visible()
    _fits(page, "the message page with its diff")
    shot(page, artifacts_dir, "review-message-diff-390")
    _axe(page, artifacts_dir, "review-message-diff-390")
    with page.expect_navigation():
        page.get_by_role("button", name="Approve this version").click()
    expect(page.locator("#message-status")).to_contain_text("Approved")
    _fits(page, "the approved message")
    changed.refresh_from_db()
    assert changed.status == MessageStatus.APPROVED and changed.approved_by_id == tw.supervisor.pk

    page.goto(f"{live_server.url}/desk/messages/{other.pk}/")
    page.get_by_label("Request changes: what needs to change?").fill("Please name the closed roads.")
    with page.expect_navigation():
        page.get_by_role("button", name="Request changes").click()
    expect(page.locator("#message-status")).to_contain_text("Changes requested")
    expect(page.get_by_text("Please name the closed roads.")).to_be_visible()
    _fits(page, "the message sent back")
    shot(page, artifacts_dir, "review-changes-requested-390")
    assert Message.objects.get(pk=other.pk).status == MessageStatus.CHANGES_REQUESTED
    page.console.assert_clean()


def test_a_scheduled_message_is_dragged_to_another_day_and_keeps_its_approval(page, live_server, artifacts_dir):
    world = make_world()
    tw = world.a
    when = timezone.localtime(timezone.now() + timedelta(days=3)).replace(hour=10, minute=15, second=0,
                                                                           microsecond=0)
    message = publishing.message_schedule(actor=tw.officer, message=make_approved(tw, title="Gates open early"),
                                          scheduled_at=when)
    approved_hash = message.approved_hash
    day = when.date()
    target = day + timedelta(days=1) if day.weekday() < 6 else day - timedelta(days=1)

    sign_in(page, live_server, tw.officer.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/calendar/?view=week&start={day.isoformat()}")
    item = page.locator(f"#cal-item-{message.pk}")
    expect(item).to_have_attribute("draggable", "true")
    shot(page, artifacts_dir, "calendar-before-drag")
    dialogs: list[str] = []

    def accept(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    with page.expect_navigation():
        item.drag_to(page.locator(f'td[data-date="{target.isoformat()}"]'))
    assert dialogs and "Gates open early" in dialogs[0] and "keeps its approval" in dialogs[0]
    expect(page.get_by_role("status").filter(has_text="Scheduled for")).to_be_visible()
    expect(page.locator(f'td[data-date="{target.isoformat()}"] #cal-item-{message.pk}')).to_be_visible()
    shot(page, artifacts_dir, "calendar-after-drag")

    message.refresh_from_db()
    moved = timezone.localtime(message.scheduled_at)
    assert (moved.date(), moved.hour, moved.minute) == (target, 10, 15)
    assert message.status == MessageStatus.SCHEDULED and message.approved_hash == approved_hash
    assert Approval.objects.filter(message=message, voided_at__isnull=True).exists()

    # The keyboard way: the item's own "Move" form.
    item = page.locator(f"#cal-item-{message.pk}")
    item.locator("summary").click()
    item.get_by_label("New day and time (your team's local time)").fill(f"{day.isoformat()}T09:45")
    with page.expect_navigation():
        item.get_by_role("button", name="Move it").click()
    expect(page.get_by_role("status").filter(has_text="Scheduled for")).to_be_visible()
    message.refresh_from_db()
    moved = timezone.localtime(message.scheduled_at)
    assert (moved.date(), moved.hour, moved.minute) == (day, 9, 45) and message.approved_hash == approved_hash
    page.console.assert_clean()
