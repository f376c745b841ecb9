"""The public pages in Chromium in one language per script: Latin (Polish), Arabic (Farsi), Cyrillic
(Ukrainian) and Ethiopic (Tigrinya). Each page is in the visitor's language and direction, has no
serious accessibility problem, and is kept as a screenshot (artifacts/) for a person to look at.
Ethiopic letters get the vendored Abyssinica SIL font where the computer has none.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.services import events as event_services
from tests.browser.conftest import shot
from tests.browser.test_public import run_axe
from tests.engage.public_helpers import (
    corrected_rumour,
    private_cache,  # noqa: F401 - autouse: a cache of the test's own
    publish,
)
from tests.factories import make_world, publish_event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# language, direction, the news page's heading, the event page's "Key facts", a content variant.
SCRIPTS = {
    "latin": ("pl", "ltr", "Wiadomości i komunikaty o bezpieczeństwie", "Najważniejsze informacje",
              "Drogi wokół stadionu będą zatłoczone od 13:00. Prosimy o dojazd pociągiem. #DerbyDay"),
    "arabic": ("fa", "rtl", "اخبار و اطلاعیه‌های ایمنی", "اطلاعات اصلی",
               "جاده‌های اطراف ورزشگاه از ساعت ۱۳ شلوغ خواهد بود. لطفاً با قطار بیایید. #DerbyDay"),
    "cyrillic": ("uk", "ltr", "Новини та повідомлення про безпеку", "Головне",
                 "Дороги біля стадіону будуть завантажені з 13:00. Будь ласка, їдьте потягом. #DerbyDay"),
    "ethiopic": ("ti", "ltr", "ዜናን ሓበሬታ ድሕነትን", "ቀንዲ ሓበሬታ",
                 "ካብ ሰዓት 13:00 ጀሚሩ ኣብ ከባቢ ስታድዮም ጽዕቕ ክህሉ እዩ። በጃኹም ብባቡር ምጹ። #DerbyDay"),
}


@pytest.fixture
def world_in_languages():
    world = make_world()
    tw = world.a
    event_services.event_update(
        actor=tw.officer, event=tw.event, starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(hours=3), location="Northshire Stadium, Station Road",
        what_to_bring="Your ticket and water.", help_points="Help point by Gate C.")
    publish_event(tw.event, tw.supervisor)
    publish(tw, urgency="priority", variants=[(language, text, "standard") for language, *_rest, text
                                              in SCRIPTS.values()])
    corrected_rumour(tw)
    return world


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_a_public_page_per_script(page: Any, live_server: Any, world_in_languages, artifacts_dir, script):
    language, direction, news_heading, key_facts, text = SCRIPTS[script]
    page.goto(f"{live_server.url}/news/?lang={language}")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", direction)
    expect(page.get_by_role("heading", level=1)).to_have_text(news_heading)
    body = page.locator("article.update .update-body").first
    expect(body).to_have_attribute("lang", language)
    expect(body).to_contain_text(text.split(" #")[0])
    expect(page.locator("#translation-note a")).to_have_attribute("href", f"/contact/?lang={language}")
    page.evaluate("async () => { await document.fonts.ready; }")
    shot(page, artifacts_dir, f"public-{script}-news")
    bad = run_axe(page, f"{script}-news", artifacts_dir)
    assert not bad, bad

    page.goto(f"{live_server.url}/events/{world_in_languages.a.event.pk}/?lang={language}")
    expect(html).to_have_attribute("dir", direction)
    expect(page.locator("#facts-h")).to_have_text(key_facts)
    page.evaluate("async () => { await document.fonts.ready; }")
    shot(page, artifacts_dir, f"public-{script}-event")
    bad = run_axe(page, f"{script}-event", artifacts_dir)
    assert not bad, bad
    if script == "ethiopic":
        # The letters are drawn with a font, not as empty boxes: the Ethiopic face (Abyssinica SIL here) loaded.
        loaded = page.evaluate("() => [...document.fonts].filter(f => f.family.includes('Engage Ethiopic'))"
                               ".map(f => f.status)")
        assert "loaded" in loaded, loaded
    page.console.assert_clean()
