"""Issue 16's desk pages in a real browser, at desktop width and at 390 px: the event page (its
messages, its notices, the after-action report link), the message page's meta line and deliveries
summary, the audit trail (readable details, a keyboard-reachable table), the publishing page's
"handled" action and the desk's own 404. Screenshots, axe, and no sideways scrolling on the phone."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from accounts.audit import audit_record
from campaigns import publishing
from campaigns.models import Delivery, DeliveryStatus
from tests.browser.conftest import shot, sign_in, sign_out
from tests.browser.test_public import run_axe
from tests.factories import PASSWORD, make_approved, make_message, make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _check(page, artifacts_dir, name: str, phone: bool) -> None:
    shot(page, artifacts_dir, f"issue16-{name}-{'390' if phone else 'desktop'}")
    bad = run_axe(page, f"issue16-{name}-{'390' if phone else 'desktop'}", artifacts_dir)
    assert not bad, json.dumps(bad, indent=1)
    if phone:
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow} px at 390 px"


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_issue_16_desk_pages(viewport, page, phone_page, live_server, artifacts_dir):
    phone = viewport == "phone"
    page = phone_page if phone else page
    world = make_world()
    tw = world.a
    make_message(tw, title="Road closures on Saturday")
    message = make_approved(tw, channels=[tw.public, tw.sms], title="Kick-off moved")
    publishing.message_schedule(actor=tw.officer, message=message, scheduled_at=None)
    sms = Delivery.objects.get(message=message, channel=tw.sms)
    Delivery.objects.filter(pk=sms.pk).update(status=DeliveryStatus.SENT)
    audit_record(actor=tw.officer, verb="message.checked", target=tw.event,
                 summary={"reason": "a long reason " * 6, "status": {"from": "approved", "to": "sent"}})

    # The event page: no message title as a notice; the after-action report is one click away.
    sign_in(page, live_server, tw.supervisor.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/events/{tw.event.pk}/")
    expect(page.get_by_role("link", name="Road closures on Saturday")).to_be_visible()
    expect(page.locator('main > .alert[role="status"]')).to_have_count(0)
    expect(page.get_by_role("link", name="After-action report")).to_be_visible()
    _check(page, artifacts_dir, "event", phone)

    # The message page: the event named once, the counts apart.
    page.goto(f"{live_server.url}/desk/messages/{message.pk}/")
    expect(page.locator("#deliveries-summary")).to_contain_text("1 pending · 1 sent")
    _check(page, artifacts_dir, "message", phone)

    # Withdrawn: SMS cannot be deleted, so it waits for a person, who records it from the problems list.
    publishing.message_withdraw(actor=tw.supervisor, message=message, reason="Wrong time")
    publishing.delivery_take_down(delivery_id=sms.pk)
    page.goto(f"{live_server.url}/desk/publishing/")
    handled = page.get_by_role("button", name="Handled: it is removed")
    expect(handled).to_have_count(1)
    _check(page, artifacts_dir, "publishing", phone)
    with page.expect_navigation():
        handled.click()
    expect(page.get_by_text("Recorded: the post was removed by hand.")).to_be_visible()
    expect(page.get_by_role("button", name="Handled: it is removed")).to_have_count(0)

    # The desk's own 404.
    page.goto(f"{live_server.url}/desk/events/999999999/")
    expect(page.get_by_role("heading", name="We could not find that page")).to_be_visible()
    expect(page.get_by_role("link", name="Back to the desk")).to_be_visible()
    _check(page, artifacts_dir, "404", phone)
    page.console.assert_clean(allow=("HTTP 404",))

    # The audit trail, as an administrator: readable details; the table's scroll area takes focus.
    sign_out(page)
    sign_in(page, live_server, tw.admin.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/audit/?verb=message.checked")
    expect(page.get_by_text("status: approved → sent")).to_be_visible()
    region = page.get_by_role("region", name="Audit events (scrolls sideways)")
    region.focus()
    assert page.evaluate("() => document.activeElement.getAttribute('role')") == "region"
    _check(page, artifacts_dir, "audit", phone)
