"""The public pages in each of the 16 languages: Django's catalogs, lang and dir, and no English left.

For each language the main public pages are fetched (news, a news item, a live event page, the
contact form, its validation errors, the thank-you page after it, "How we use your messages", the
transparency page, and "Did this answer help?" with its thank-you). Which chrome strings a page uses is read from its
English rendering: every msgid whose words appear there. Each of those must be translated in the
language's compiled catalog, and no such string of more than three words may appear in English on
the translated page.
"""

from __future__ import annotations

import gettext
import html as html_lib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from engage.public.i18n import CALENDAR_WORDS, UI_LANGUAGES, reviewed
from tests.engage.inbound.test_feedback import answered, link_of, switch
from tests.engage.public_helpers import (
    corrected_rumour,
    private_cache,  # noqa: F401 - autouse: a cache of the test's own
    publish,
)
from tests.factories import publish_event

pytestmark = pytest.mark.django_db

LOCALE = Path(settings.BASE_DIR) / "locale"
RTL = {"ar", "fa", "ur", "ps", "ckb"}
_PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%%n|<[^>]+>")


def catalog(language: str) -> dict:
    with (LOCALE / language / "LC_MESSAGES" / "django.mo").open("rb") as handle:
        return gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]


def chrome_msgids() -> list[str | tuple[str, int]]:
    """The public pages' own strings: catalog keys ("context\\x04msgid" where there is a context;
    (msgid, 0) for a string with plural forms)."""
    calendar = {str(word) for word in CALENDAR_WORDS}
    calendar |= {f"alt. month\x04{word}" for word in calendar}  # Django's own words, except in ps, so, ti
    return [key for key in catalog("en")
            if (isinstance(key, str) and key and key not in calendar) or (isinstance(key, tuple) and key[1] == 0)]


def english_text(key: str | tuple[str, int]) -> str:
    """The English a visitor would see: the plural form for a string with plural forms (our figures are > 1)."""
    return catalog("en")[(key[0], 1)] if isinstance(key, tuple) else key.split("\x04")[-1]


def english_pieces(key: str | tuple[str, int]) -> list[str]:
    """The literal English words of a msgid, between its placeholders and tags."""
    return [piece.strip() for piece in _PLACEHOLDER.split(english_text(key)) if len(piece.strip()) > 1]


def visible(response) -> str:
    return html_lib.unescape(response.content.decode())


@pytest.fixture
def pages(world, settings):
    """The public pages to check, as functions of a language code returning the response."""
    from accounts.services import force_contact_route_set
    from campaigns.services.channels import channel_create
    from tests.factories import UserFactory

    tw = world.a
    operator = UserFactory(email="operator@engage.test", is_superuser=True)
    force_contact_route_set(actor=operator, force=world.force, team=tw.team)
    publish_event(tw.event, tw.supervisor)
    original = publish(tw, urgency="priority")
    corrected_rumour(tw)

    def thank_you(language: str):
        client = Client()
        form = client.get(f"/contact/?lang={language}").content.decode()
        nonce = re.search(r'name="nonce" value="([0-9a-f]{32})"', form).group(1)
        return client.post(f"/contact/?lang={language}", {"nonce": nonce, "text": "Where is the water point?",
                                                           "contact": "", "name": "", "website": ""})

    def contact_errors(language: str):
        client = Client()
        form = client.get(f"/contact/?lang={language}").content.decode()
        nonce = re.search(r'name="nonce" value="([0-9a-f]{32})"', form).group(1)
        response = client.post(f"/contact/?lang={language}", {"nonce": nonce, "text": "", "contact": "not an address",
                                                               "name": "", "website": ""})
        assert response.status_code == 400 and 'class="errorlist' in response.content.decode()
        return response

    email = channel_create(actor=tw.admin, team=tw.team, kind="email", name="Email answers",
                           config={"from_email": "community@police.example"})
    assert email.pk
    switch(world, True)  # "Did this answer help?" after an answer
    votes = iter(range(1, 100))

    def feedback_link() -> str:
        _answer, body = answered(world, next(votes))
        return link_of(body).split("?")[0]

    def feedback_thanks(language: str):
        client, url = Client(), f"{feedback_link()}?lang={language}"
        page = client.get(url).content.decode()
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        response = client.post(url, {"csrfmiddlewaretoken": csrf, "helpful": "yes"}, follow=True)
        assert "<h1>" in response.content.decode()
        return response

    return {
        "news": lambda language: Client().get(f"/news/?lang={language}"),
        "news item": lambda language: Client().get(f"/news/{original.pk}/?lang={language}"),
        "event": lambda language: Client().get(f"/events/{tw.event.pk}/?lang={language}"),
        "contact": lambda language: Client().get(f"/contact/?lang={language}"),
        "thank you": thank_you,
        "how we use your messages": lambda language: Client().get(f"/how-we-use-your-messages/?lang={language}"),
        "contact errors": contact_errors,
        "transparency": lambda language: Client().get(f"/transparency/?lang={language}"),
        "did this answer help": lambda language: Client().get(f"{feedback_link()}?lang={language}"),
        "feedback thank you": feedback_thanks,
    }


def test_every_public_language_has_a_compiled_catalog_a_review_record_and_a_place_in_the_switcher():
    assert len(UI_LANGUAGES) == 16
    switcher = dict(settings.LANGUAGES)
    for language in UI_LANGUAGES:
        assert (LOCALE / language / "LC_MESSAGES" / "django.po").exists(), language
        assert (LOCALE / language / "LC_MESSAGES" / "django.mo").exists(), language
        assert language in switcher, language
        assert (language in settings.LANGUAGES_BIDI) == (language in RTL), language
    assert reviewed("en") is True


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is not installed")
def test_the_committed_compiled_catalogs_match_their_po_files(tmp_path):
    for language in UI_LANGUAGES:
        po = LOCALE / language / "LC_MESSAGES" / "django.po"
        fresh = tmp_path / f"{language}.mo"
        subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(po)], check=True)  # noqa: S603, S607
        with fresh.open("rb") as handle:
            expected = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
        assert catalog(language) == expected, f"{language}: run manage.py compilemessages and commit the .mo"


@pytest.mark.parametrize("language", [code for code in UI_LANGUAGES if code != "en"])
def test_each_language_gets_a_fully_translated_page_with_its_direction(pages, language):
    english = {name: visible(fetch("en")) for name, fetch in pages.items()}
    words = catalog(language)
    direction = "rtl" if language in RTL else "ltr"
    for name, fetch in pages.items():
        response = fetch(language)
        assert response.status_code == (400 if name == "contact errors" else 200), name
        page = visible(response)
        assert f'<html lang="{language}" dir="{direction}">' in page, name
        assert response["Content-Language"] == language, name
        used = [key for key in chrome_msgids()
                if english_pieces(key) and all(piece in english[name] for piece in english_pieces(key))]
        assert used, name
        for key in used:
            assert words.get(key), f"{language} {name}: no translation of {key!r}"
            text = english_text(key)
            for piece in english_pieces(key):
                if len(piece.split()) > 3:
                    assert piece not in page, f"{language} {name}: English left: {text!r}"
        # Not reviewed by a native speaker yet: the page says so, in the language, and links to the contact form.
        if not reviewed(language):
            note = re.search(r'<p class="translation-note" id="translation-note">(.*?)</p>', page, re.S)
            assert note is not None and 'href="/contact/?lang=' in note.group(1), name
            assert "translated by our team" not in note.group(1), name


def test_english_pages_carry_no_translation_note(pages):
    for name, fetch in pages.items():
        page = visible(fetch("en"))
        assert '<html lang="en" dir="ltr">' in page, name
        assert "translation-note" not in page, name


def test_a_visitor_without_a_catalog_language_gets_english_words(pages):
    page = visible(pages["news"]("de"))
    assert '<html lang="en" dir="ltr">' in page
    assert "News and safety updates" in page


def test_the_feeds_carry_the_visitors_language(world, client):
    publish(world.a)
    feed = client.get("/feeds/news.atom?lang=fa").content.decode()
    assert 'xml:lang="fa"' in feed.split("<entry", 1)[0]
    assert "<title>اخبار و اطلاعیه‌های ایمنی</title>" in feed
    assert '<entry xml:lang="en">' in feed  # no Farsi variant: the entry says it is English
    cap = client.get("/feeds/cap.atom?lang=ti").content.decode()
    assert "<title>መጠንቀቕታታት (CAP 1.2)</title>" in cap


def test_dates_on_pages_in_languages_django_has_no_words_for_are_translated(pages):
    """Django has no month names in Pashto, Somali or Tigrinya: ours fill in. Polish, Ukrainian and
    Russian say "4 grudnia", not "4 grudzień" (the date filter's "E")."""
    for language, months in (("pl", ("stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca",
                                     "sierpnia", "września", "października", "listopada", "grudnia")),
                             ("uk", ("січня", "лютого", "березня", "квітня", "травня", "червня", "липня",
                                     "серпня", "вересня", "жовтня", "листопада", "грудня"))):
        page = visible(pages["news"](language))
        assert any(re.search(rf"\b\d{{1,2}} {month}\b", page) for month in months), language
    for language in ("ps", "so", "ti"):
        page = visible(pages["event"](language))
        for month in ("January", "February", "March", "April", "June", "July", "August", "September",
                      "October", "November", "December"):
            assert f" {month}" not in page, (language, month)


def test_durations_take_each_catalogs_words_and_plural_forms():
    """engage/metrics/format.py: each unit through npgettext, so the catalog picks the plural form."""
    from django.utils import translation

    from engage.metrics.format import duration

    day, hour = 86400, 3600
    expected = {
        "en": {hour + 300: "1 h 5 min", 2 * day: "2 d", 42: "42 s"},
        "cy": {hour + 300: "1 awr 5 mun.", 2 * day + 3 * hour: "2 diwrnod 3 awr"},
        "ar": {2 * day: "2 يومان", 5 * day: "5 أيام", 11 * day: "11 يومًا", 600: "10 دقائق"},
        "ru": {day: "1 день", 2 * day: "2 дня", 5 * day: "5 дней", 21 * day: "21 день"},
        "uk": {2 * day: "2 дні", 5 * day: "5 днів"},
        "pl": {day: "1 dzień", 2 * day: "2 dni", 600: "10 min"},
        "ro": {day: "1 zi", 2 * day: "2 zile", 20 * day: "20 de zile"},
        "so": {hour: "1 saac", 2 * hour + 600: "2 saacadood iyo 10 daqiiqo"},
        "es": {day: "1 día", 3 * day: "3 días"},
        "fa": {hour + 300: "1 ساعت و 5 دقیقه"},
        "tr": {hour + 300: "1 sa 5 dk"},
    }
    for language, cases in expected.items():
        with translation.override(language):
            for seconds, words in cases.items():
                assert duration(seconds) == words, (language, seconds)
    for language in UI_LANGUAGES:  # every public language has its own words for every unit
        keys = {key for key in catalog(language) if isinstance(key, tuple) and key[0].startswith("duration\x04")}
        assert {key[0] for key in keys} == {f"duration\x04%(num)d {unit}" for unit in ("s", "min", "h", "d")}, language
