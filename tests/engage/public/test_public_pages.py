"""The public pages: news, a news item, the live event page and its JSON, images, page weight."""

from __future__ import annotations

import gzip
import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.utils import timezone
from PIL import Image

from campaigns import publishing
from campaigns.models import Delivery, DeliveryStatus
from campaigns.services import events as event_services
from campaigns.services import messages as message_services
from campaigns.services import workflow
from campaigns.services.rumours import rumour_create
from campaigns.services.segments import segment_create
from engage.public.i18n import LANG_COOKIE
from tests.engage.public_helpers import (
    ARABIC,
    EASY,
    approve_and_send,
    corrected_rumour,
    draft,
    private_cache,  # noqa: F401 - autouse: a cache of the test's own
    publish,
    send_due,
)
from tests.factories import GOOD_BODY, publish_event, publish_rumour_verdict

pytestmark = pytest.mark.django_db


def html(response) -> str:
    assert response.status_code == 200, response.content[:500]
    return response.content.decode("utf-8")


def articles(page: str) -> list[str]:
    return re.findall(r'<article class="update[^"]*" id="update-(\d+)"', page)


# --- what is published -------------------------------------------------------------------------

def test_news_shows_only_what_went_out_on_the_public_channel_newest_first(world, client):
    first = publish(world.a, body=GOOD_BODY)
    second = publish(world.a, body="Second update: the east stand opens at 13:00. Please queue at Gate C. #DerbyDay")
    draft(world.a, body="A draft nobody approved yet. Please ignore this. #DerbyDay")
    later = workflow.message_approve(actor=world.a.supervisor, message=workflow.message_submit(
        actor=world.a.officer, message=draft(world.a, body="Scheduled for tomorrow. Please wait. #DerbyDay")))
    publishing.message_schedule(actor=world.a.officer, message=later, scheduled_at=timezone.now() + timedelta(days=1))
    send_due()
    # And one that only went to a channel that is not public (its send fails: nothing listens there).
    sms_only = publish(world.a, body="Only for SMS subscribers: trains every ten minutes. #DerbyDay",
                       channels=[world.a.sms])
    page = html(client.get("/news/"))
    ids = [int(i) for i in articles(page)]
    assert ids == [second.pk, first.pk]
    assert sms_only.pk not in ids
    assert "A draft nobody approved" not in page and "Scheduled for tomorrow" not in page
    assert articles(html(client.get("/"))) == articles(page)


def test_a_message_is_public_once_its_public_delivery_is_sent_even_while_others_retry(world, client):
    message = publish(world.a, channels=[world.a.public, world.a.sms])
    assert message.status == "publishing"  # the SMS gateway is down: it retries
    assert Delivery.objects.get(message=message, channel=world.a.public).status == DeliveryStatus.SENT
    assert str(message.pk) in articles(html(client.get("/news/")))


def test_variants_for_other_channels_never_reach_the_public_pages(world, client):
    message = draft(world.a, channels=[world.a.public, world.a.sms])
    message_services.variant_add(actor=world.a.officer, message=message, language="en", format="sms_short",
                                 body="Derby: roads busy, use the train. #DerbyDay", channels=[world.a.sms])
    approve_and_send(world.a, message)
    page = html(client.get(f"/news/{message.pk}/"))
    assert "roads busy, use the train" not in page
    assert "Roads near the stadium will be busy" in page


# --- languages ------------------------------------------------------------------------------------

def test_the_visitors_language_is_chosen_with_lang_and_dir_and_the_original_is_offered(world, client):
    message = publish(world.a, variants=[("ar", ARABIC, "standard")])
    page = html(client.get(f"/news/{message.pk}/", HTTP_ACCEPT_LANGUAGE="ar,en;q=0.5"))
    assert '<html lang="ar" dir="rtl">' in page
    # The hashtag is isolated, so it keeps its # in front inside right-to-left text.
    arabic = ARABIC.replace("#DerbyDay", "<bdi>#DerbyDay</bdi>")
    assert f'<div class="update-body" lang="ar" dir="rtl"><p>{arabic}</p></div>' in page
    assert "Roads near the stadium" not in page
    assert f'href="/news/{message.pk}/?lang=en" lang="en" hreflang="en">English</a>' in page
    english = html(client.get(f"/news/{message.pk}/", HTTP_ACCEPT_LANGUAGE="en-GB,en"))
    assert '<html lang="en" dir="ltr">' in english
    assert 'class="update-body" lang="en" dir="ltr"' in english and ARABIC[:40] not in english


def test_the_switcher_sets_a_cookie_that_later_pages_follow(world, client):
    publish(world.a, variants=[("ar", ARABIC, "standard")])
    response = client.get("/news/?lang=ar", HTTP_ACCEPT_LANGUAGE="en")
    assert response.cookies[LANG_COOKIE].value == "ar"
    assert 'lang="ar" dir="rtl"' in html(response)
    later = html(client.get("/news/", HTTP_ACCEPT_LANGUAGE="en"))  # the cookie, not the header
    assert ARABIC[:40] in later and '<html lang="ar" dir="rtl">' in later
    switcher = re.search(r'<details class="lang-switch">.*?</details>', later, re.S).group(0)
    for code, name in settings.LANGUAGES:
        assert f'href="?lang={code}" lang="{code}" hreflang="{code}"' in switcher, code
        assert name in switcher
    back = html(client.get("/news/?lang=en"))
    assert ARABIC[:40] not in back and '<html lang="en" dir="ltr">' in back


def test_without_a_variant_the_original_is_shown_and_marked(world, client):
    message = publish(world.a)
    page = html(client.get(f"/news/{message.pk}/", HTTP_ACCEPT_LANGUAGE="de"))
    assert 'class="update-body" lang="en" dir="ltr"' in page
    assert "Not available in your language yet." in page
    # German has no catalog for the page's words, so they are English around the (English) original.
    assert '<html lang="en" dir="ltr">' in page
    farsi = html(client.get(f"/news/{message.pk}/", HTTP_ACCEPT_LANGUAGE="fa"))
    # Farsi has: the page is right-to-left around the English original, which keeps its direction.
    assert '<html lang="fa" dir="rtl">' in farsi and 'class="update-body" lang="en" dir="ltr"' in farsi
    assert "Not available in your language yet." not in farsi


def test_easy_read_versions_are_offered_and_shown_on_request(world, client):
    message = publish(world.a, variants=[("en", EASY, "easy_read")])
    page = html(client.get("/news/"))
    assert "Show easy-read versions" in page
    assert f'href="/news/{message.pk}/?lang=en&amp;format=easy_read"' in page
    easy = html(client.get("/news/?format=easy_read"))
    assert EASY[:40] in easy and "Roads near the stadium" not in easy
    assert EASY[:40] in html(client.get(f"/news/{message.pk}/?lang=en&format=easy_read"))


# --- filters ---------------------------------------------------------------------------------------

def test_news_can_be_filtered_by_event_and_by_area(world, client):
    tw = world.a
    other_event = event_services.event_create(actor=tw.officer, team=tw.team, name="City parade", kind="planned",
                                              starts_at=timezone.now() + timedelta(days=1), location="High Street")
    publish_event(other_event, tw.supervisor)
    parade = event_services.campaign_create(actor=tw.officer, team=tw.team, name="Parade", event=other_event)
    old_town = segment_create(actor=tw.officer, team=tw.team, name="Old Town residents", languages=["en"],
                              channels=["public"], areas=["Old Town"], needs=[])
    derby = publish(tw)
    parade_msg = approve_and_send(tw, message_services.message_create(
        actor=tw.officer, campaign=parade, body="The parade starts at noon on High Street. Please use the side "
        "streets to cross. #DerbyDay", channels=[tw.public], segments=[old_town], hashtags=["DerbyDay"]))
    by_event = articles(html(client.get(f"/news/?event={other_event.pk}")))
    assert by_event == [str(parade_msg.pk)]
    by_area = articles(html(client.get("/news/?area=Old+Town")))
    assert by_area == [str(parade_msg.pk)]
    page = html(client.get("/news/"))
    assert f'<option value="{other_event.pk}">City parade</option>' in page
    assert '<option value="Old Town">Old Town</option>' in page
    assert set(articles(page)) == {str(derby.pk), str(parade_msg.pk)}
    assert articles(html(client.get("/news/?event=999999"))) == []


# --- corrections and withdrawals -------------------------------------------------------------------

def test_a_correction_links_to_what_it_corrects_and_back(world, client):
    original = publish(world.a)
    correction = publish(world.a, body="Correction: the train station is open, but trains run every 20 "
                         "minutes. Please allow extra time. #DerbyDay", correction_of=original)
    item = html(client.get(f"/news/{correction.pk}/"))
    assert "This corrects an earlier update." in item
    assert f'href="/news/{original.pk}/?lang=en">Read the earlier update</a>' in item
    old = html(client.get(f"/news/{original.pk}/"))
    assert "This update has been corrected." in old
    assert f'href="/news/{correction.pk}/?lang=en">Read the correction</a>' in old


def test_a_withdrawn_message_disappears_and_its_page_says_so(world, client):
    message = publish(world.a)
    kept = publish(world.a, body="The car park on Station Road is full. Please use the park and ride. #DerbyDay")
    publishing.message_withdraw(actor=world.a.supervisor, message=message, reason="Wrong time")
    assert articles(html(client.get("/news/"))) == [str(kept.pk)]
    gone = client.get(f"/news/{message.pk}/")
    assert gone.status_code == 410
    text = gone.content.decode()
    assert "This update was withdrawn" in text and "Roads near the stadium" not in text
    assert client.get("/news/999999/").status_code == 404


# --- the live event page ----------------------------------------------------------------------------

def test_the_live_event_page_has_key_facts_updates_and_the_rumour_board(world, client):
    tw = world.a
    event_services.event_update(actor=tw.officer, event=tw.event, what_to_bring="Your ticket and water.",
                                prohibited_items="Glass, flares.", help_points="Help point by Gate C.")
    publish_event(tw.event, tw.supervisor)
    first = publish(tw)
    second = publish(tw, body="Gates open at 13:00. Please have your ticket ready. #DerbyDay")
    corrected_rumour(tw)
    rumour_create(actor=tw.officer, event=tw.event, claim="Secret claim nobody has reviewed")
    page = html(client.get(f"/events/{tw.event.pk}/"))
    for fact in ("Key facts", "Stadium", "Your ticket and water.", "Glass, flares.", "Help point by Gate C.",
                 "Not started yet"):
        assert fact in page, fact
    assert articles(page) == [str(second.pk), str(first.pk)]
    board = re.search(r'<section id="rumours".*?</section>', page, re.S).group(0)
    assert '<span class="verdict false">False</span>' in board
    assert "The bridge has collapsed" in board and "Engineers inspected it at 14:00." in board
    log = re.search(r'<ol class="corrections-log".*?</ol>', board, re.S).group(0)
    assert log.index("was <span class=\"verdict unverified\">Unverified</span>, now <span class=\"verdict false\">"
                     "False</span>") < log.index("We are checking this with the council now.")
    assert "Secret claim" not in page
    assert 'src="/static/engage/live.js" defer' in page
    assert "<script>" not in page  # no inline script: the CSP allows none


def test_the_live_page_works_in_arabic(world, client):
    tw = world.a
    publish(tw, variants=[("ar", ARABIC, "standard")])
    corrected_rumour(tw)
    page = html(client.get(f"/events/{tw.event.pk}/?lang=ar"))
    assert '<html lang="ar" dir="rtl">' in page
    assert "معلومات أساسية" in page and "الشائعات: ما الصحيح؟" in page
    assert '<span class="verdict false">غير صحيح</span>' in page
    assert '<h1 lang="en" dir="auto">Derby A</h1>' in page  # the event's own words keep their language


def test_events_that_are_not_public_are_not_found(world, client):
    tw = world.a
    event_services.event_update(actor=tw.officer, event=tw.event, is_public=False)
    assert client.get(f"/events/{tw.event.pk}/").status_code == 404
    assert client.get(f"/events/{tw.event.pk}/updates.json").status_code == 404
    assert client.get("/events/999999/").status_code == 404


def test_the_json_endpoint_returns_what_is_new_since_the_cursor(world, client):
    tw = world.a
    first = publish(tw)
    page = html(client.get(f"/events/{tw.event.pk}/"))
    cursor = re.search(r'data-cursor="(\d+)"', page).group(1)
    version = re.search(r'data-version="(\w+)"', page).group(1)
    url = re.search(r'data-updates-url="([^"]+)"', page).group(1).replace("&amp;", "&")
    nothing = json.loads(client.get(f"{url}&since={cursor}").content)
    assert nothing["updates"] == [] and nothing["ids"] == [first.pk] and nothing["cursor"] == cursor
    assert nothing["rumours"]["version"] == version
    second = publish(tw, body="Gates open at 13:00. Please have your ticket ready. #DerbyDay")
    fresh = json.loads(client.get(f"{url}&since={cursor}").content)
    assert [u["id"] for u in fresh["updates"]] == [second.pk]
    assert f'id="update-{second.pk}"' in fresh["updates"][0]["html"]
    assert "Gates open at 13:00" in fresh["updates"][0]["html"]
    assert fresh["ids"] == [second.pk, first.pk] and int(fresh["cursor"]) > int(cursor)
    corrected_rumour(tw)
    changed = json.loads(client.get(f"{url}&since={fresh['cursor']}").content)
    assert changed["updates"] == [] and changed["rumours"]["version"] != version
    assert "The bridge has collapsed" in changed["rumours"]["html"]
    publishing.message_withdraw(actor=tw.supervisor, message=second, reason="Wrong")
    after = json.loads(client.get(f"{url}&since={fresh['cursor']}").content)
    assert after["ids"] == [first.pk]


def test_rumour_text_is_escaped(world, client):
    tw = world.a
    rumour = rumour_create(actor=tw.officer, event=tw.event, claim='Police said "x < y & z" <b>today</b>')
    publish_rumour_verdict(writer=tw.officer, publisher=tw.supervisor, rumour=rumour, status="false",
                           explanation="Not said: 1 < 2 & 3 > 2.")
    page = html(client.get(f"/events/{tw.event.pk}/"))
    assert "&quot;x &lt; y &amp; z&quot; today" in page
    assert "<b>" not in page
    assert "Not said: 1 &lt; 2 &amp; 3 &gt; 2." in page


# --- low bandwidth ----------------------------------------------------------------------------------

def test_an_event_page_with_50_updates_weighs_under_100_kb(world, client, django_assert_max_num_queries):
    tw = world.a
    bodies = [f"Update {i}: the queue at Gate {'ABCD'[i % 4]} is moving well. Please keep to the left, "
              f"have your ticket ready and follow the stewards. Trains leave every ten minutes. #DerbyDay"
              for i in range(50)]
    for body in bodies:
        draft(tw, body=body, variants=[("ar", ARABIC, "standard")])
    for message in list(tw.campaign.messages.all()):
        approve_and_send(tw, message)
    corrected_rumour(tw)
    with django_assert_max_num_queries(12):
        response = client.get(f"/events/{tw.event.pk}/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response["Content-Encoding"] == "gzip"
    page = gzip.decompress(response.content)
    assert len(articles(page.decode())) == 50
    assets = [Path(finders.find(p)).read_bytes() for p in ("engage/engage.css", "engage/public.css",
                                                             "engage/live.js")]
    raw_total = len(page) + sum(len(a) for a in assets)
    wire_total = len(response.content) + sum(len(a) for a in assets)  # the assets as sent when embedded
    # Under 100 KB even uncompressed; what a phone actually downloads is a fraction of that.
    assert raw_total < 100 * 1024, f"{raw_total} bytes"
    assert wire_total < 30 * 1024, f"{wire_total} bytes"
    # No web fonts, no third-party requests.
    text = page.decode()
    assert "@font-face" not in "".join(a.decode() for a in assets)
    assert not re.search(r'(src|srcset)="(https?:)?//', text), "a third-party resource in the page"
    assert not re.search(r'<link [^>]*href="(https?:)?//', text), "a third-party stylesheet or icon"


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_images_come_in_responsive_sizes_with_alt_text(world, client):
    tw = world.a
    message = draft(tw)
    message_services.media_add(actor=tw.officer, message=message, data=_png(1600, 900),
                               alt_text="Map of the closed roads around the stadium")
    message = approve_and_send(tw, message)
    page = html(client.get(f"/news/{message.pk}/"))
    img = re.search(r"<img [^>]+>", page).group(0)
    assert 'alt="Map of the closed roads around the stadium"' in img and 'loading="lazy"' in img
    srcset = re.search(r'srcset="([^"]+)"', img).group(1)
    urls = dict(reversed(part.strip().split(" ")) for part in srcset.split(","))
    assert set(urls) == {"320w", "640w", "1024w"}
    small = client.get(urls["320w"])
    assert small.status_code == 200 and small["Cache-Control"].endswith("immutable")
    with Image.open(io.BytesIO(b"".join(small.streaming_content))) as image:
        assert image.size == (320, 180)
    assert client.get(urls["320w"].replace("-320.", "-333.")).status_code == 404
    assert client.get(urls["320w"].replace(".png", ".jpg")).status_code == 404


def test_images_of_unpublished_messages_are_not_served(world, client):
    tw = world.a
    message = draft(tw)
    asset = message_services.media_add(actor=tw.officer, message=message, data=_png(400, 300), alt_text="A map")
    assert client.get(f"/img/{asset.pk}/{asset.sha256[:12]}-320.png").status_code == 404


def test_news_list_queries_do_not_grow_with_the_page(world, client, django_assert_max_num_queries):
    tw = world.a
    for i in range(12):
        draft(tw, body=f"Update {i}: please use the train to the derby. Roads are busy. #DerbyDay",
              variants=[("ar", ARABIC, "standard")])
    for message in list(tw.campaign.messages.all()):
        approve_and_send(tw, message)
    send_due()
    with django_assert_max_num_queries(10):
        page = html(client.get("/news/"))
    assert len(articles(page)) == 12


def test_message_text_is_escaped_with_links_and_isolated_hashtags(world, client):
    message = publish(world.a, body="Roads near the stadium are busy & slow. Please use the train: "
                      "https://www.nationalrail.co.uk/derby today. #DerbyDay")
    page = html(client.get(f"/news/{message.pk}/"))
    assert "Roads near the stadium are busy &amp; slow." in page
    assert ('<a href="https://www.nationalrail.co.uk/derby" rel="nofollow noopener noreferrer">'
            "https://www.nationalrail.co.uk/derby</a> today. <bdi>#DerbyDay</bdi>") in page
