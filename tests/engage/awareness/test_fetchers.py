"""The readers in platforms/signals against a local Mastodon instance and feed: paging forward from
the cursor, duplicates, reblogs, rate limits, and nothing but text, language and time returned."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from platforms.signals import PublicPost, SourceFailed, scrub
from platforms.signals.feeds import read_feed, read_feed_bytes
from platforms.signals.mastodon_tag import PAGE, read_status, read_tag_timeline
from tests.engage.awareness.conftest import HOSTILE_NAMES, hostile_status

pytestmark = pytest.mark.nodb


def test_a_status_becomes_text_language_and_time_only():
    post = read_status(hostile_status(1, "Crush near gate 3"))
    assert [f.name for f in dataclasses.fields(PublicPost)] == ["text", "language", "created_at"]
    assert post.language == "en" and "Crush near gate 3" in post.text and "DerbyDay" in post.text
    for name in (*HOSTILE_NAMES, "attacker.example", "other.example", "@"):
        assert name.lower() not in post.text.lower(), name


def test_reblogs_and_empty_statuses_are_skipped():
    assert read_status({**hostile_status(1, "x"), "reblog": hostile_status(2, "y")}) is None
    assert read_status({**hostile_status(1, "x"), "content": ""}) is None
    assert read_status({**hostile_status(1, "x"), "created_at": "yesterday"}) is None


def test_scrub_removes_handles_links_and_given_identifiers():
    text = scrub("ask @bob@x.social or @carol, see www.x.org/a and http://y.z/b — Bob Smith :wave:",
                 identifiers={"Bob Smith"})
    assert text == "ask or , see and —"


def test_the_timeline_is_read_forward_page_by_page_from_the_cursor(instance):
    instance.statuses = [hostile_status(n, f"post number {n}") for n in range(1, 2 * PAGE + 11)]  # 90
    first = read_tag_timeline(instance=instance.url, hashtag="DerbyDay")  # a first read: the newest page only
    assert len(first.posts) == PAGE and first.cursor == str(110_000_000_000_000_000 + 2 * PAGE + 10)
    assert instance.requests[-1]["path"] == ["/api/v1/timelines/tag/DerbyDay"] and "min_id" not in instance.requests[-1]

    instance.requests.clear()
    since = str(110_000_000_000_000_000 + 5)
    result = read_tag_timeline(instance=instance.url, hashtag="DerbyDay", since_id=since)
    assert len(result.posts) == 2 * PAGE + 5 and result.cursor == first.cursor
    assert [r["min_id"] for r in instance.requests] == [
        [since], [str(110_000_000_000_000_000 + 5 + PAGE)], [str(110_000_000_000_000_000 + 5 + 2 * PAGE)]]
    # Oldest pages first, each read once: the texts are in order and none is missing.
    assert [p.text.split("number ")[1].split()[0] for p in result.posts] == [str(n) for n in range(6, 2 * PAGE + 11)]

    instance.statuses.append(instance.statuses[-1])  # the same status twice (a flood's duplicates)
    again = read_tag_timeline(instance=instance.url, hashtag="DerbyDay", since_id=str(110_000_000_000_000_000 + 80))
    assert again.duplicates == 1 and len(again.posts) == 10


def test_a_rate_limit_stops_the_read_and_says_how_long_to_wait(instance):
    instance.statuses = [hostile_status(1, "hello there")]
    instance.rate_limited = True
    result = read_tag_timeline(instance=instance.url, hashtag="DerbyDay", since_id="1")
    assert result.posts == [] and result.retry_after == 120.0 and result.cursor == "1"


def test_an_instance_that_fails_is_a_source_failure(dead_url):
    with pytest.raises(SourceFailed):
        read_tag_timeline(instance=dead_url, hashtag="DerbyDay")


FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"><title>Trains</title><id>urn:x</id>
<updated>2026-12-05T10:00:00Z</updated>
<entry><title>Derby station closed</title><id>urn:entry:secret-id-1</id><updated>2026-12-05T10:00:00Z</updated>
<author><name>Jane Quxdoe</name><email>jane@rail.example</email></author>
<link href="https://rail.example/news/1"/><summary type="html">&lt;p&gt;Use Pride Park station. Jane Quxdoe, 07700 900123&lt;/p&gt;</summary></entry>
<entry><title>Older news</title><id>urn:entry:2</id><updated>2026-12-04T10:00:00Z</updated><summary>old</summary></entry>
</feed>"""


def test_a_feed_gives_entries_after_the_cursor_without_their_authors():
    result = read_feed_bytes(FEED.encode())
    assert [p.text.splitlines()[0] for p in result.posts] == ["Older news", "Derby station closed"]
    newest = result.posts[-1]
    assert newest.language == "en" and newest.created_at == datetime(2026, 12, 5, 10, tzinfo=UTC)
    assert "Jane" not in newest.text and "rail.example" not in newest.text and "secret-id" not in newest.text
    later = read_feed_bytes(FEED.encode(), since=result.cursor)
    assert later.posts == [] and later.cursor == result.cursor
    between = read_feed_bytes(FEED.encode(), since=(datetime(2026, 12, 4, 10, tzinfo=UTC)
                                                     + timedelta(hours=1)).isoformat())
    assert [p.text.splitlines()[0] for p in between.posts] == ["Derby station closed"]


def test_a_feed_is_fetched_through_the_guarded_client(instance):
    instance.feed = FEED.encode()
    assert len(read_feed(url=f"{instance.url}/feed.xml").posts) == 2
    with pytest.raises(SourceFailed):
        read_feed(url=f"{instance.url}/missing")


def test_the_platform_sandbox_serves_the_hashtag_timeline():
    """The demo's Mastodon imitation answers the tag timeline: what Engage posted with the hashtag."""
    import httpx

    from platforms.sandbox import Sandbox

    box = Sandbox.start(port=0)
    try:
        config, secrets = box.config_for("mastodon")
        base = config["instance_url"]
        token = secrets.get("access_token") or config.get("access_token")
        for n in range(45):
            text = f"Update {n} #DerbyDay" if n % 3 else f"Other news {n}"
            httpx.post(f"{base}/api/v1/statuses", data={"status": text},
                       headers={"Authorization": f"Bearer {token}"}).raise_for_status()
        first = read_tag_timeline(instance=base, hashtag="derbyday")
        assert len(first.posts) == 30 and all("#DerbyDay" in p.text for p in first.posts)
        assert "engage" not in " ".join(p.text for p in first.posts).lower()  # the account is not in the text
        oldest = read_tag_timeline(instance=base, hashtag="DerbyDay", since_id="1")
        assert [p.text for p in oldest.posts][:2] == ["Update 1 #DerbyDay", "Update 2 #DerbyDay"]
        assert oldest.cursor == first.cursor
        httpx.post(f"{base}/api/v1/statuses", data={"status": "Late #DerbyDay"},
                   headers={"Authorization": f"Bearer {token}"}).raise_for_status()
        assert [p.text for p in read_tag_timeline(instance=base, hashtag="DerbyDay", since_id=first.cursor).posts] == [
            "Late #DerbyDay"]
    finally:
        box.stop()
