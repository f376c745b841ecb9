"""Public Atom and RSS feeds (transport operators, the venue, the organiser, local news), read as
text, language and time only.

The feed is fetched with the one guarded HTTP client (``platforms.http``: https and public
addresses only, bounded answers, no redirects followed) and parsed from those bytes by
``feedparser`` (which never fetches anything itself here, and resolves no external entities).
Each entry becomes a :class:`~platforms.signals.PublicPost` from its title and summary; the
entry's author, id, links, enclosures and tags are dropped. The cursor is the newest entry time
seen: the next read keeps only entries published after it. A first read (no cursor) takes at most
:data:`FIRST_READ` of the newest entries. ``429`` and ``503`` with ``Retry-After`` are honoured.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

import feedparser
import httpx

from platforms.base import AdapterError
from platforms.http import Redactor, make_client, parse_retry_after, send
from platforms.mastodon.inbound import html_to_text
from platforms.signals import PublicPost, SourceFailed, SourceResult, language_code, scrub

FIRST_READ = 20
MAX_ENTRIES = 500


def _when(entry: feedparser.FeedParserDict) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)


def _identifiers(entry: feedparser.FeedParserDict) -> set[str]:
    found = set()
    for key in ("author", "id", "link", "publisher"):
        if isinstance(entry.get(key), str):
            found.add(entry[key])
    for person in entry.get("authors") or []:
        for key in ("name", "email", "href"):
            if isinstance(person.get(key), str):
                found.add(person[key])
    return found


def read_feed_bytes(body: bytes, *, since: str = "") -> SourceResult:
    """The entries of one Atom/RSS document published after ``since`` (ISO time, or "" for a first read)."""
    parsed = feedparser.parse(body, sanitize_html=True, resolve_relative_uris=False)
    if not parsed.entries and (parsed.get("bozo") or not parsed.get("version")):
        raise SourceFailed("feed: the document is not an Atom or RSS feed")
    feed_language = language_code((parsed.get("feed") or {}).get("language"))
    after = datetime.fromisoformat(since) if since else None
    items: list[tuple[datetime, PublicPost]] = []
    for entry in parsed.entries[:MAX_ENTRIES]:
        when = _when(entry)
        if when is None or (after is not None and when <= after):
            continue
        parts = [html_to_text(str(entry.get(key) or "")[:50_000]) for key in ("title", "summary")]
        text = scrub("\n".join(p for p in parts if p.strip()), identifiers=_identifiers(entry))
        if text:
            language = language_code(entry.get("language")) or feed_language
            items.append((when, PublicPost(text=text, language=language, created_at=when)))
    items.sort(key=lambda item: item[0])
    if after is None:
        items = items[-FIRST_READ:]
    newest = max((when for when, _ in items), default=after)
    return SourceResult(posts=[post for _, post in items], cursor=newest.isoformat() if newest else "")


def read_feed(*, url: str, since: str = "", http: httpx.Client | None = None) -> SourceResult:
    """Fetch and read one feed; :class:`SourceFailed` (with ``retry_after`` when asked) otherwise."""
    client = http or make_client(connect_timeout=5.0, read_timeout=15.0)
    try:
        response = send(client, "GET", url, what="feed", retry_safe=True, redact=Redactor([]),
                        headers={"Accept": "application/atom+xml, application/rss+xml, application/xml;q=0.9"})
    except AdapterError as exc:
        raise SourceFailed(str(exc)[:300]) from exc
    finally:
        if http is None:
            client.close()
    if response.status_code in (429, 503):
        wait = parse_retry_after(response.headers.get("Retry-After"))
        return SourceResult(posts=[], cursor=since, retry_after=60.0 if wait is None else min(wait, 3600.0))
    if response.status_code != 200:
        raise SourceFailed(f"feed: HTTP {response.status_code}")
    return read_feed_bytes(response.content, since=since)
