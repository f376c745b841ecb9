"""Issue 7 in a real browser, on a phone-sized screen: news and the live event page in English
and Arabic, a corrected rumour, a new update arriving without a reload, and axe-core finding
no serious or critical accessibility problems.

axe-core is vendored as the single file tests/browser/vendor/axe-core/axe.min.js (MPL-2.0, from
the npm package ``axe-core``; see the README there). It is run through the DevTools protocol,
so the page's strict Content-Security-Policy stays on while the page is tested.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.services import events as event_services
from tests.browser.conftest import PHONE, TIMEOUT_MS, shot
from tests.engage.public_helpers import (
    ARABIC,
    corrected_rumour,
    private_cache,  # noqa: F401 - autouse: a cache of the test's own
    publish,
)
from tests.factories import make_world, publish_event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
NEW_UPDATE = "Gates C and D are now open. Please use them to leave the east stand. #DerbyDay"
NEW_UPDATE_AR = "البوابتان C و D مفتوحتان الآن. يرجى استخدامهما لمغادرة المدرج الشرقي. #DerbyDay"


def run_axe(page: Any, name: str, artifacts_dir: Path) -> list[dict]:
    """Run axe-core on the page; keep the full report; return the serious and critical violations."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
                           AXE_TAGS)
    (artifacts_dir / f"axe-{name}.json").write_text(json.dumps(result["violations"], indent=1))
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def assert_accessible(page: Any, name: str, artifacts_dir: Path) -> None:
    shot(page, artifacts_dir, f"public-{name}")
    bad = run_axe(page, name, artifacts_dir)
    assert not bad, f"axe on {name}: " + json.dumps(bad, indent=1)


@pytest.fixture
def public_world(settings):
    settings.ENGAGE_PUBLIC_POLL_SECONDS = 1
    world = make_world()
    tw = world.a
    event_services.event_update(
        actor=tw.officer, event=tw.event, starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(hours=3), location="Northshire Stadium, Station Road",
        what_to_bring="Your ticket, water in a plastic bottle, layers for the weather.",
        prohibited_items="Glass, flares, smoke bombs, fireworks.",
        help_points="Help point by Gate C; first aid at Gates A and D.")
    publish_event(tw.event, tw.supervisor)  # the public page shows the published revision only
    publish(tw, variants=[("ar", ARABIC, "standard")])
    publish(tw, urgency="priority", body="Station Road is closed to traffic until 18:00. Please use Mill Lane. "
            "#DerbyDay", variants=[("ar", "طريق المحطة مغلق أمام السيارات حتى الساعة 18:00. يرجى استخدام "
                                          "طريق ميل لين. #DerbyDay", "standard")])
    corrected_rumour(tw)
    return world


def test_news_and_a_news_item_on_a_phone_in_english_and_arabic(phone_page, live_server, public_world,
                                                                artifacts_dir):
    page = phone_page
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("News and safety updates")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.locator("article.update")).to_have_count(2)
    expect(page.locator("article.update .tag.priority")).to_have_text("Priority")
    assert_accessible(page, "news-en", artifacts_dir)
    # The check is real: an image without alt text, added for a moment, is a critical violation.
    page.evaluate("() => { const i = document.createElement('img'); i.id = 'axe-probe'; i.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';"
                  " document.querySelector('main').append(i); }")
    assert "image-alt" in {v["id"] for v in run_axe(page, "probe", artifacts_dir)}
    page.evaluate("() => document.getElementById('axe-probe').remove()")

    # The visible language switcher: a disclosure that works without JavaScript.
    switcher = page.locator("details.lang-switch")
    switcher.locator("summary").click()
    switcher.get_by_role("link", name="العربية").click()
    expect(page).to_have_url(re.compile(r"\?lang=ar$"))
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text("الأخبار وتحديثات السلامة")
    body = page.locator("article.update .update-body").last
    expect(body).to_have_attribute("lang", "ar")
    expect(body).to_have_attribute("dir", "rtl")
    expect(body).to_contain_text("الطرق المحيطة بالملعب")
    assert_accessible(page, "news-ar", artifacts_dir)

    # The choice sticks (a cookie): the item page opens in Arabic too.
    page.locator("article.update h2 a").last.click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_contain_text("تحديث بتاريخ")
    assert_accessible(page, "item-ar", artifacts_dir)
    page.locator(".update-links").get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".update-body")).to_contain_text("Roads near the stadium will be busy")
    assert_accessible(page, "item-en", artifacts_dir)
    page.console.assert_clean()


def test_the_live_event_page_on_a_phone_picks_up_a_new_update_without_a_reload(
        phone_page, live_server, public_world, artifacts_dir):
    page = phone_page
    tw = public_world.a
    page.goto(f"{live_server.url}/events/{tw.event.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(tw.event.name)
    expect(page.locator("#event-phase")).to_have_text("Happening now")
    facts = page.locator("section.key-facts")
    for fact in ("Northshire Stadium, Station Road", "water in a plastic bottle", "Glass, flares",
                 "first aid at Gates A and D"):
        expect(facts).to_contain_text(fact)

    # The rumour board shows the corrected rumour, and the corrections log both decisions.
    rumour = page.locator("#rumours li.rumour")
    expect(rumour).to_have_count(1)
    expect(rumour.locator(".verdict")).to_have_text("False")
    expect(rumour).to_contain_text("The bridge has collapsed")
    log = page.locator("#rumours ol.corrections-log li")
    expect(log).to_have_count(2)
    expect(log.first).to_contain_text("was Unverified, now False")
    expect(log.last).to_contain_text("marked Unverified")
    assert_accessible(page, "event-en", artifacts_dir)

    # A new update is published while the page is open: it appears without a reload.
    page.evaluate("() => { window.__samePage = true; }")
    expect(page.locator("#live-auto")).to_be_visible()
    expect(page.locator("#updates article.update")).to_have_count(2)
    message = publish(tw, body=NEW_UPDATE, variants=[("ar", NEW_UPDATE_AR, "standard")])
    first = page.locator("#updates article.update").first
    expect(first).to_have_attribute("id", f"update-{message.pk}", timeout=15_000)
    expect(first).to_contain_text("Gates C and D are now open")
    expect(page.locator("#updates article.update")).to_have_count(3)
    expect(page.locator("#live-announce")).to_have_text("New updates: 1")
    assert page.evaluate("() => window.__samePage === true"), "the page was reloaded"

    # A rumour decision also arrives by itself.
    from campaigns.services.rumours import rumour_create
    from tests.factories import publish_rumour_verdict

    claim = rumour_create(actor=tw.officer, event=tw.event, claim="Trains are suspended")
    publish_rumour_verdict(writer=tw.officer, publisher=tw.supervisor, rumour=claim, status="confirmed",
                           explanation="Northern Rail has suspended trains until 17:00.")
    expect(page.locator("#rumours li.rumour")).to_have_count(2, timeout=15_000)
    expect(page.locator("#rumours li.rumour").first.locator(".verdict")).to_have_text("Confirmed")
    assert page.evaluate("() => window.__samePage === true"), "the page was reloaded"
    shot(page, artifacts_dir, "public-event-en-after-update")
    page.console.assert_clean()


def test_the_live_event_page_in_arabic(phone_page, live_server, public_world, artifacts_dir):
    page = phone_page
    tw = public_world.a
    page.goto(f"{live_server.url}/events/{tw.event.pk}/?lang=ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", name="الشائعات: ما الصحيح؟")).to_be_visible()
    expect(page.locator("#rumours li.rumour .verdict")).to_have_text("غير صحيح")
    expect(page.locator("#updates article.update .update-body").first).to_have_attribute("lang", "ar")
    assert_accessible(page, "event-ar", artifacts_dir)
    message = publish(tw, body=NEW_UPDATE, variants=[("ar", NEW_UPDATE_AR, "standard")])
    first = page.locator("#updates article.update").first
    expect(first).to_have_attribute("id", f"update-{message.pk}", timeout=15_000)
    expect(first.locator(".update-body")).to_have_text(NEW_UPDATE_AR)
    expect(page.locator("#live-announce")).to_have_text("تحديثات جديدة: 1")
    page.console.assert_clean()


def test_the_live_event_page_works_without_javascript(browser, live_server, public_world, artifacts_dir):
    tw = public_world.a
    context = browser.new_context(viewport=PHONE, locale="en-GB", java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/events/{tw.event.pk}/")
        expect(page.locator("#updates article.update")).to_have_count(2)
        expect(page.locator("#rumours .verdict").first).to_have_text("False")
        expect(page.locator("#live-auto")).to_be_hidden()  # no promise of automatic updates
        publish(tw, body=NEW_UPDATE)
        page.get_by_role("link", name="Check for new updates").click()
        expect(page.locator("#updates article.update")).to_have_count(3)
        expect(page.locator("#updates article.update").first).to_contain_text("Gates C and D are now open")
        page.locator("details.lang-switch summary").click()
        page.locator("details.lang-switch").get_by_role("link", name="العربية").click()
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        shot(page, artifacts_dir, "public-event-nojs-ar")
    finally:
        context.close()


def test_staff_register_a_rumour_and_a_second_person_publishes_the_correction(page, live_server, artifacts_dir):
    from tests.browser.conftest import sign_in, sign_out
    from tests.factories import PASSWORD

    world = make_world()
    tw = world.a
    sign_in(page, live_server, tw.officer.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/events/{tw.event.pk}/rumours/")
    page.get_by_label("The claim, as people repeat it").fill("The bridge on Station Road has collapsed")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("status").filter(has_text="Rumour registered")).to_be_visible()
    card = page.locator("section.card").filter(has_text="Station Road has collapsed")
    expect(card).to_contain_text("Not public yet")
    card.get_by_label("What we know").select_option("false")
    card.get_by_label("Explanation (public)").fill("The bridge is open. Engineers inspected it at 14:00.")
    card.get_by_role("button", name="Save for publication").click()
    expect(page.get_by_role("status").filter(has_text="Verdict saved")).to_be_visible()
    card = page.locator("section.card").filter(has_text="Station Road has collapsed")
    expect(card).to_contain_text("Waiting to be published")
    expect(card.get_by_role("button", name="Publish this verdict")).to_have_count(0)  # not by its author
    page.console.assert_clean()
    sign_out(page)

    sign_in(page, live_server, tw.supervisor.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/events/{tw.event.pk}/rumours/")
    card = page.locator("section.card").filter(has_text="Station Road has collapsed")
    shot(page, artifacts_dir, "staff-rumours-to-publish")
    card.get_by_role("button", name="Publish this verdict").click()
    card = page.locator("section.card").filter(has_text="Station Road has collapsed")
    expect(card.locator(".status").first).to_have_text("False")
    shot(page, artifacts_dir, "staff-rumours")
    page.console.assert_clean()

    page.goto(f"{live_server.url}/events/{tw.event.pk}/")
    expect(page.locator("#rumours li.rumour .verdict")).to_have_text("False")
    expect(page.locator("#rumours")).to_contain_text("Engineers inspected it at 14:00.")


def test_an_officer_sets_the_cap_fields_of_an_emergency_message(page, live_server, artifacts_dir):
    from tests.browser.conftest import sign_in
    from tests.engage.public_helpers import draft
    from tests.factories import PASSWORD

    world = make_world()
    tw = world.a
    message = draft(tw, urgency="emergency",
                    body="Leave the east stand now by Gates C and D. Follow the stewards. #DerbyDay")
    sign_in(page, live_server, tw.officer.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/messages/{message.pk}/")
    section = page.locator("#cap-fields")
    expect(section.get_by_role("heading", name="Alert fields (CAP 1.2)")).to_be_visible()
    section.get_by_label("Security (public order, police)").check()
    section.get_by_label("Event type").fill("Crowd safety")
    section.get_by_label("Evacuate").check()
    section.get_by_label("Area to notify").fill("East stand, Northshire Stadium")
    section.get_by_label("Circle").fill("52.951,-1.15 0.5")
    section.get_by_role("button", name="Save alert fields").click()
    expect(page.get_by_role("status").filter(has_text="CAP fields saved")).to_be_visible()
    expect(page.locator("#cap-fields dl")).to_contain_text("East stand, Northshire Stadium")
    shot(page, artifacts_dir, "staff-cap-fields")
    page.console.assert_clean()
    message.refresh_from_db()
    assert message.cap["category"] == ["Safety", "Security"] and message.cap["responseType"] == ["Evacuate"]
    assert message.cap["circle"] == "52.951,-1.15 0.5" and message.cap["severity"] == "Severe"
