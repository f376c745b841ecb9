"""Issue 12, section 9, in a real browser: withdrawing asks for a reason and a confirmation, and a
time that has passed is not quietly "Scheduled." but offered as an explicit "Send now"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import AuditEvent
from campaigns import publishing
from campaigns.models import MessageStatus
from tests.browser.conftest import shot, sign_in
from tests.factories import PASSWORD, make_approved, make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_withdraw_asks_for_a_reason_and_a_confirmation(page, live_server, artifacts_dir):
    world = make_world()
    message = make_approved(world.a, channels=[world.a.public], title="Derby day: roads busy")
    publishing.message_schedule(actor=world.a.officer, message=message,
                                scheduled_at=timezone.now() + timedelta(days=1))

    sign_in(page, live_server, world.a.supervisor.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/messages/{message.pk}/")
    form = page.locator("#withdraw")
    form.scroll_into_view_if_needed()
    expect(form.get_by_label("Why is it withdrawn?")).to_be_visible()
    expect(form.get_by_text("This cannot be undone.")).to_be_visible()
    shot(page, artifacts_dir, "withdraw-confirmation")

    # The browser will not submit without the reason and the tick; nothing happens.
    form.get_by_role("button", name="Withdraw everywhere").click()
    message.refresh_from_db()
    assert message.status == MessageStatus.SCHEDULED

    form.get_by_label("Why is it withdrawn?").fill("Match postponed by the league")
    form.get_by_label("I understand").check()
    with page.expect_navigation():
        form.get_by_role("button", name="Withdraw everywhere").click()
    expect(page.locator("h1 .status").first).to_have_text("Withdrawn")
    expect(page.get_by_text("message.withdrawn: “Match postponed by the league”")).to_be_visible()
    shot(page, artifacts_dir, "withdraw-done")
    page.console.assert_clean()
    event = AuditEvent.objects.get(verb="message.withdrawn", target_id=str(message.pk))
    assert event.summary["reason"] == "Match postponed by the league"


def test_a_past_time_is_refused_and_send_now_is_its_own_action(page, live_server, artifacts_dir):
    world = make_world()
    message = make_approved(world.a, channels=[world.a.public])
    sign_in(page, live_server, world.a.officer.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/messages/{message.pk}/")
    past = timezone.localtime(timezone.now() - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    page.locator("#id_scheduled_at").fill(past)
    with page.expect_navigation():
        page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.get_by_text("That time has passed")).to_be_visible()
    message.refresh_from_db()
    assert message.status == MessageStatus.APPROVED
    page.locator("#schedule").scroll_into_view_if_needed()
    shot(page, artifacts_dir, "schedule-past-refused")

    send_now = page.locator("#send-now")
    send_now.get_by_label("Send it now").check()
    with page.expect_navigation():
        send_now.get_by_role("button", name="Send now").click()
    expect(page.get_by_text("Sending now.")).to_be_visible()
    message.refresh_from_db()
    assert message.status == MessageStatus.SCHEDULED
    page.console.assert_clean()
