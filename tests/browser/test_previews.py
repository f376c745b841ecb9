"""The editor's per-platform previews in chromium: each ticked channel's card and counter follow the
typing; counting.js counts exactly as the server does over a varied corpus; Arabic text and variants
are right to left with their hashtags kept whole ("#DerbyDay"); screenshots at desktop and 390 px."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from campaigns.previews import count_label
from campaigns.services.channels import channel_create
from platforms.counting import count_for
from platforms.hashtags import HASHTAG_KINDS, with_hashtags
from platforms.sms.counting import sms_parts
from tests.browser.conftest import PHONE, shot, sign_in
from tests.browser.test_public import run_axe
from tests.factories import PASSWORD, make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KINDS = ["x", "mastodon", "telegram", "facebook", "sms", "email", "public"]
TYPED = "Trains every 10 min 🚆 from Derby. Tickets €5: https://example.police.uk/travel-advice?day=sat"
ARABIC = "يرجى استخدام القطار والوصول مبكرا. #DerbyDay للمزيد"

# Emoji (ZWJ sequences, flags, skin tones, keycaps), Arabic with marks, GSM extension characters, URLs of
# every shape X and Mastodon know, mentions, CJK, combining accents, CRLF and long texts over each limit.
CORPUS = [
    "", "Hello", "Avoid the area.\r\nUse the train.", "€5 {tickets} [gate] ~ ^ | \\ \f",
    "👨‍👩‍👧‍👦 🇬🇧 🏴󠁧󠁢󠁷󠁬󠁳󠁿 👍🏽 1️⃣ ❤️ ☕", "يرجى الابتعاد عن المنطقة. إذا كنت في خطر اتصل بالرقم 999 #DerbyDay",
    "مَرْحَبًا بِكُمْ", "日本語のテキスト、駅は混雑しています。", "Привет, мир", "café vs cafe\u0301",
    "See https://example.police.uk/a/(b)?x=1. Or www.police.uk, police.uk/events and t.co/x!",
    "Mail tips@example.com, follow @police@mastodon.social and @local_team.",
    "Visit https://a.example/very/long/path/" + "x" * 300, "a" * 281, "b" * 501, "’" + "c" * 200,
    "d" * 1566, "Mixed ’quotes’ and “doubles” … — –", "Tab\tand\u00a0nbsp\u2009thin", "🚆" * 40,
    "Road (A6) closed (see https://example.org/map_(1)).", "#DerbyDay #derbyday2 #مباراة",
]


def _python_counts(text: str) -> dict:
    out = {}
    for kind in ("x", "mastodon", "telegram", "facebook", "sms", "email"):
        c = count_for(kind, text)
        out[kind] = [c.used, c.limit, c.segments]
    out["sms_parts"] = sms_parts(text)
    out["tagged"] = with_hashtags(text, ["DerbyDay", "derbyday", "Derby_2025"])
    return out


JS_COUNTS = """corpus => corpus.map(text => {
  const C = window.EngageCounting, out = {};
  for (const kind of ["x", "mastodon", "telegram", "facebook", "sms", "email"]) {
    const c = C.countFor(kind, text);
    out[kind] = [c.used, c.limit, c.segments];
  }
  out.sms_parts = C.smsParts(text);
  out.tagged = C.withHashtags(text, ["DerbyDay", "derbyday", "Derby_2025"]);
  return out;
})"""


def _make_channels(tw) -> dict:
    made = {"mastodon": tw.mastodon, "sms": tw.sms, "public": tw.public}
    configs = {"x": {"api_base": "http://127.0.0.1:9", "access_token": "user-token"},
               "telegram": {"api_base": "http://127.0.0.1:9", "chat_id": "-100", "bot_token": "1:a"},
               "facebook": {"api_base": "http://127.0.0.1:9", "page_id": "1", "page_access_token": "t"},
               "email": {}}
    for kind, config in configs.items():
        made[kind] = channel_create(actor=tw.admin, team=tw.team, kind=kind, name=f"{kind.title()} A", config=config)
    return made


def _expected_label(kind: str, text: str, tags: list[str]) -> str:
    sent = with_hashtags(text, tags) if kind in HASHTAG_KINDS else text
    return count_label(count_for(kind, sent))


def test_live_previews_and_counters_follow_the_typing(page, live_server, artifacts_dir):
    world = make_world()
    tw = world.a
    channels = _make_channels(tw)
    sign_in(page, live_server, tw.officer.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/messages/new/")
    expect(page.locator("#no-channel-note")).to_be_visible()
    for kind in KINDS:
        page.locator(f'input[name=channels][value="{channels[kind].pk}"]').check()
    expect(page.locator("#no-channel-note")).to_be_hidden()
    page.get_by_label("Hashtags").fill("#DerbyDay #NorthshireSafe")
    body = page.get_by_label("Message", exact=True)
    body.fill("")
    body.press_sequentially(TYPED[:20], delay=5)
    cards = {kind: page.locator(f'.preview-card[data-channel="{channels[kind].pk}"]') for kind in KINDS}
    tags = ["DerbyDay", "NorthshireSafe"]
    for kind in KINDS:  # the counters follow each key press, in each platform's own way
        expect(cards[kind].locator("[data-part=count]")).to_have_text(_expected_label(kind, TYPED[:20], tags))
    body.press_sequentially(TYPED[20:], delay=2)
    for kind in KINDS:
        expect(cards[kind]).to_be_visible()
        expect(cards[kind].locator("[data-part=count]")).to_have_text(_expected_label(kind, TYPED, tags))
    # X counts the link as 23 and the emoji as 2; the text message is in UCS-2 because of the emoji.
    assert "of 280 characters" in cards["x"].locator("[data-part=count]").inner_text()
    expect(cards["sms"].locator("[data-part=count]")).to_contain_text("text messages")
    expect(cards["sms"].locator("[data-part=parts] > li")).to_have_count(len(sms_parts(TYPED)))
    expect(cards["sms"].locator("[data-part=ucs2]")).to_contain_text("🚆")
    # The hashtags are added where people follow them, not to the text message or the email.
    expect(cards["mastodon"].locator("[data-part=text] bdi")).to_have_text(
        ["https://example.police.uk/travel-advice?day=sat", "#DerbyDay", "#NorthshireSafe"])
    expect(cards["sms"].locator("bdi", has_text="#")).to_have_count(0)
    expect(cards["email"].locator("[data-part=subject]")).to_have_text(TYPED)
    expect(cards["email"].locator("[data-part=text]")).to_contain_text("/news/…/")
    expect(cards["telegram"].locator("[data-part=link]")).to_contain_text("/news/")
    # Unticking a channel hides its card.
    page.locator(f'input[name=channels][value="{channels["facebook"].pk}"]').uncheck()
    expect(cards["facebook"]).to_be_hidden()
    page.locator(f'input[name=channels][value="{channels["facebook"].pk}"]').check()
    # The checker's findings came back for the text as typed (its call is delayed while typing).
    expect(page.locator("#checker-findings li:not(.muted)").first).to_be_visible()
    shot(page, artifacts_dir, "previews-editor-desktop")
    bad = run_axe(page, "previews-editor-desktop", artifacts_dir)
    assert not bad, json.dumps(bad, indent=1)

    # counting.js against the server's counting over a varied corpus: the same numbers, parts and tags.
    js = page.evaluate(JS_COUNTS, CORPUS)
    for text, got in zip(CORPUS, js, strict=True):
        assert got == _python_counts(text), f"JavaScript and Python disagree on {text[:40]!r}"

    # Arabic: the text area and the previews turn right to left; the hashtag keeps its # in front.
    page.get_by_label("Language").select_option("ar")
    body.fill(ARABIC)
    expect(body).to_have_attribute("dir", "rtl")
    text = cards["x"].locator("[data-part=text]")
    expect(text).to_have_attribute("dir", "rtl")
    tag = text.locator("bdi", has_text="#DerbyDay")
    expect(tag).to_have_text("#DerbyDay")
    hash_left, d_left = tag.evaluate("""bdi => {
      const range = document.createRange(), node = bdi.firstChild, at = [];
      for (const i of [0, 1]) { range.setStart(node, i); range.setEnd(node, i + 1); at.push(range.getBoundingClientRect().left); }
      return at;
    }""")
    assert hash_left < d_left, "the # is drawn after DerbyDay (DerbyDay#)"
    expect(cards["x"].locator("[data-part=count]")).to_have_text(_expected_label("x", ARABIC, tags))

    # At 390 px: the editor and its previews fit the width.
    page.set_viewport_size(PHONE)
    shot(page, artifacts_dir, "previews-editor-390")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the editor scrolls sideways by {overflow} px at 390 px"

    # Saved: the message page shows the same previews, and an Arabic variant's text area is right to left.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/desk/messages/\d+/$"))
    page.get_by_text("Add a variant", exact=True).click()
    variant_text = page.get_by_label("Text", exact=True)
    expect(variant_text).to_have_attribute("dir", "ltr")
    page.locator("#id_language").select_option("fa")
    expect(variant_text).to_have_attribute("dir", "rtl")
    page.locator("#id_language").select_option("ar")
    variant_text.fill("يرجى تجنب المنطقة. #DerbyDay")
    page.get_by_role("button", name="Add variant").click()
    groups = page.locator(".preview-group")
    expect(groups).to_have_count(2)
    expect(groups.nth(0).locator(".preview-card")).to_have_count(len(KINDS))
    for preview in groups.nth(1).locator(".preview").all():
        expect(preview).to_have_attribute("dir", "rtl")
    shot(page, artifacts_dir, "previews-message-desktop")
    page.set_viewport_size(PHONE)
    shot(page, artifacts_dir, "previews-message-390")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the message page scrolls sideways by {overflow} px at 390 px"
    page.console.assert_clean()
