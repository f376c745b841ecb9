"""Issue 12 in a real browser: before approving, the supervisor sees who on the SMS list gets which
text and what it costs (counts, never numbers)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from campaigns.services import messages as message_services
from campaigns.services import workflow
from campaigns.services.channels import channel_update
from campaigns.services.recipients import recipients_import
from tests.browser.conftest import shot, sign_in
from tests.factories import PASSWORD, make_message, make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FA = "جاده‌های اطراف ورزشگاه از ساعت ۱۴ بسته می‌شوند. لطفاً از قطار استفاده کنید."
AR = "تغلق الطرق المحيطة بالملعب عند الساعة 14:00. يرجى استخدام القطار."


def test_the_supervisor_sees_who_gets_which_text_before_approving(page, live_server, artifacts_dir):
    world = make_world()
    sms = channel_update(actor=world.a.admin, channel=world.a.sms,
                         config={"price_per_segment": "0.04", "currency": "GBP"})
    recipients_import(actor=world.a.admin, channel=sms, consent_source="paper forms",
                      text="+447700900201,fa\n+447700900202,fa\n+447700900301,ar\n+447700900102")
    message = make_message(world.a, channels=[sms],
                           body="Roads near the stadium close at 14:00. Please use the train. #DerbyDay")
    message_services.variant_add(actor=world.a.officer, message=message, language="fa", body=FA)
    message_services.variant_add(actor=world.a.officer, message=message, language="ar", body=AR)
    workflow.message_submit(actor=world.a.officer, message=message)

    sign_in(page, live_server, world.a.supervisor.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/messages/{message.pk}/")
    plan = page.locator("#recipient-plan")
    expect(plan).to_be_visible()
    expect(plan.locator('tr[data-variant="original"]')).to_contain_text("2")  # the factory's number and one more
    expect(plan.locator("tbody tr")).to_have_count(3)
    expect(plan.locator("tfoot")).to_contain_text("5")
    expect(plan.locator("tfoot")).to_contain_text("GBP")
    expect(page.get_by_role("button", name="Approve this version")).to_be_visible()
    assert "+447700900" not in plan.inner_text()
    plan.scroll_into_view_if_needed()
    shot(page, artifacts_dir, "recipient-plan")
    page.console.assert_clean()


def test_an_administrator_adds_and_opts_out_people_on_the_list(page, live_server, artifacts_dir):
    world = make_world()
    sign_in(page, live_server, world.a.admin.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/channels/")
    page.get_by_role("link", name="Recipients").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Recipients of")
    page.get_by_label("Phone number or email address").fill("07700 900 456")
    page.locator("#id_add-language").fill("fa")
    page.locator("#id_add-consent_source").fill("Sign-up sheet at the station")
    page.get_by_role("button", name="Add", exact=True).click()
    table = page.locator("#recipients")
    expect(table).to_contain_text("+44•••456")
    expect(table).not_to_contain_text("+447700900456")
    page.locator("#id_import-text").fill("+447700900457,ar\nnot a number")
    page.locator("#id_import-consent_source").fill("Paper forms")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("1 added")).to_be_visible()
    table.get_by_role("row").filter(has_text="+44•••456").get_by_role("button", name="Opt out").click()
    expect(table.get_by_role("row").filter(has_text="+44•••456")).to_contain_text("Opted out")
    shot(page, artifacts_dir, "recipients-page")
    page.console.assert_clean()
