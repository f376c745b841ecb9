"""Issue 5 in a real browser: the deliveries panel follows a message going out, without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from campaigns import publishing
from campaigns.publishing import deliveries_claim_due, delivery_send
from tests.browser.conftest import shot, sign_in
from tests.factories import PASSWORD, make_approved, make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_deliveries_panel_updates_itself_as_the_message_goes_out(page, live_server, artifacts_dir):
    world = make_world()
    message = make_approved(world.a, channels=[world.a.public])
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    delivery = message.deliveries.get()

    sign_in(page, live_server, world.a.officer.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/messages/{message.pk}/")
    row = page.locator(f"#delivery-{delivery.pk}")
    expect(row).to_have_attribute("data-status", "pending")
    expect(page.locator("#deliveries-reload")).to_be_hidden()
    expect(page.locator("#deliveries-panel .auto-note")).to_be_visible()  # the script took over
    page.evaluate("window.__same_page = true")  # gone if the page were reloaded
    shot(page, artifacts_dir, "deliveries-pending")

    # The tick and the worker, run here: the page is not told, it asks.
    assert [delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due()] == ["sent"]
    expect(row).to_have_attribute("data-status", "sent", timeout=15_000)
    expect(page.locator("#deliveries-summary")).to_contain_text("Published")
    expect(page.locator("#message-status")).to_have_text("Published")  # the heading follows
    expect(page.locator("#deliveries-reload")).to_contain_text("The message is now Published")
    expect(page.locator("#deliveries-announce")).to_contain_text("1 sent")
    expect(row.get_by_role("link", name="Open")).to_be_visible()
    assert page.evaluate("window.__same_page") is True
    expect(page.locator("#deliveries-panel")).to_have_attribute("data-live", "0")  # and it stops asking
    shot(page, artifacts_dir, "deliveries-sent")
    page.console.assert_clean()
