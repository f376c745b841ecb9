"""Atom feeds: news, one event, and CAP alerts. Each must parse cleanly in feedparser."""

from __future__ import annotations

import feedparser
import pytest

from campaigns import publishing
from campaigns.services import events as event_services
from tests.engage.public_helpers import (
    ARABIC,
    corrected_rumour,
    private_cache,  # noqa: F401 - autouse: a cache of the test's own
    publish,
)

pytestmark = pytest.mark.django_db


def parse(client, url: str, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def test_the_news_feed_lists_published_messages_newest_first(world, client):
    first = publish(world.a)
    second = publish(world.a, urgency="priority",
                     body="Station Road is closed until 18:00. Please use Mill Lane instead. #DerbyDay")
    withdrawn = publish(world.a, body="The car park is full. Please use the park and ride today. #DerbyDay")
    publishing.message_withdraw(actor=world.a.supervisor, message=withdrawn, reason="Wrong")
    feed = parse(client, "/feeds/news.atom")
    assert feed.feed.title == "News and safety updates"
    assert [e.id for e in feed.entries] == [f"http://127.0.0.1:8000/news/{m.pk}/" for m in (second, first)]
    top = feed.entries[0]
    assert top.title == "Priority: Station Road is closed until 18:00."
    assert top.link == f"http://127.0.0.1:8000/news/{second.pk}/?lang=en"
    assert "Please use Mill Lane instead." in top.summary
    assert top.updated_parsed is not None and top.published_parsed is not None
    assert all("car park" not in e.summary for e in feed.entries)


def test_the_news_feed_follows_the_visitors_language(world, client):
    message = publish(world.a, variants=[("ar", ARABIC, "standard")])
    feed = parse(client, "/feeds/news.atom?lang=ar")
    entry = feed.entries[0]
    assert entry.summary == ARABIC
    assert entry.link.endswith(f"/news/{message.pk}/?lang=ar")
    assert feed.feed.language == "ar"
    raw = client.get("/feeds/news.atom?lang=ar").content.decode()
    assert '<entry xml:lang="ar">' in raw


def test_the_event_feed_has_updates_and_rumour_corrections(world, client):
    tw = world.a
    update = publish(tw)
    publish(world.b)  # another team's event: not in this feed
    corrected_rumour(tw)
    feed = parse(client, f"/feeds/events/{tw.event.pk}.atom")
    assert feed.feed.title == f"{tw.event.name}: live updates"
    titles = [e.title for e in feed.entries]
    assert titles[0] == "Rumour false: The bridge has collapsed"
    assert "Rumour unverified: The bridge has collapsed" in titles
    ids = [e.id for e in feed.entries]
    assert f"http://127.0.0.1:8000/news/{update.pk}/" in ids
    assert len(feed.entries) == 3


def test_the_event_feed_of_a_private_event_is_not_found(world, client):
    event_services.event_update(actor=world.a.officer, event=world.a.event, is_public=False)
    assert client.get(f"/feeds/events/{world.a.event.pk}.atom").status_code == 404


def test_the_cap_feed_lists_current_alerts_with_links_to_cap_documents(world, client):
    routine = publish(world.a)
    alert = publish(world.a, urgency="emergency",
                    body="Leave the east stand now by Gates C and D. Follow the stewards. #DerbyDay")
    feed = parse(client, "/feeds/cap.atom")
    assert len(feed.entries) == 1
    entry = feed.entries[0]
    assert entry.title == "Leave the east stand now by Gates C and D."
    assert entry.links[0].type == "application/cap+xml"
    assert entry.links[0].href == f"http://127.0.0.1:8000/cap/{alert.pk}.xml"
    assert entry.id.startswith("urn:cap:")
    assert all(not e.link.endswith(f"/cap/{routine.pk}.xml") for e in feed.entries)
    publishing.message_withdraw(actor=world.a.supervisor, message=alert, reason="Cleared")
    after = parse(client, "/feeds/cap.atom")
    assert [e.title for e in after.entries] == ["Cancel: Leave the east stand now by Gates C and D."]
