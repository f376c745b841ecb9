"""Issue 4 in a real browser: target the encampment's residents, see the gap, close it with an Arabic variant."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from campaigns.services.segments import segment_create
from tests.browser.conftest import shot, sign_in
from tests.factories import PASSWORD, make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARABIC = "يرجى الابتعاد عن الطريق المغلق والبقاء في أمان. إذا كنت في خطر اتصل بالرقم 999. #DerbyDay"


def test_officer_covers_the_encampment_segment_with_an_arabic_variant(page, live_server, artifacts_dir):
    world = make_world()
    segment = segment_create(actor=world.a.officer, team=world.a.team, name="Encampment residents",
                             languages=["ar", "fa"], channels=["sms", "telegram"], needs=[])
    sign_in(page, live_server, world.a.officer.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/messages/new/")
    page.get_by_label("Message", exact=True).fill(
        "The road by the park is closed today. Please use the bridge and take care. #DerbyDay")
    page.get_by_label(f"{world.a.sms.name} (SMS gateway)").check()
    page.get_by_label(segment.name).check()
    page.get_by_role("button", name="Save draft").click()

    coverage = page.locator("#coverage")
    gap = coverage.locator('[data-code="coverage.language"]')
    expect(gap).to_be_visible()
    expect(gap).to_contain_text("first language (ar)")
    shot(page, artifacts_dir, "coverage-gap")

    page.get_by_text("Add a variant", exact=True).click()
    page.get_by_label("Language").select_option("ar")
    page.get_by_label("Text", exact=True).fill(ARABIC)
    page.get_by_role("button", name="Add variant").click()

    expect(coverage.locator('[data-code="coverage.language"]')).to_have_count(0)
    expect(coverage).to_contain_text("Covered")
    arabic = page.locator('.preview-group[lang="ar"]')
    for preview in arabic.locator(".preview").all():
        expect(preview).to_have_attribute("dir", "rtl")
    expect(arabic).to_contain_text("#DerbyDay")
    shot(page, artifacts_dir, "coverage-covered")
