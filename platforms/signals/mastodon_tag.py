"""A Mastodon instance's public hashtag timeline, read as text, language and time only.

``GET /api/v1/timelines/tag/:hashtag`` (Mastodon's ``Api::V1::Timelines::TagController``): public,
no token; newest first, ``limit`` at most 40; ``min_id`` gives the page just above an id, so reading
forward from our cursor goes ``min_id=<newest seen>`` page after page until a short page. A first
read (no cursor) takes only the newest page: a watch looks at what is said now, not at the archive.

Every status is reduced to a :class:`~platforms.signals.PublicPost` here, before anything is
returned: the account (id, username, acct, display name, url, avatar, emojis), the status's id,
uri and url, its mentions, tags, card, media and emojis are read only to be scrubbed from the text
(a hostile status may spell them out) and are then dropped. Reblogs are skipped (the original is
counted once, where it was posted), and a status seen twice in one read (page overlap, the same
post federated to two instances) is counted once.

Rate limits: a 429 or ``X-RateLimit-Remaining: 0`` stops the read; ``Retry-After`` (or
``X-RateLimit-Reset``) says how long the caller waits before reading this instance again.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from platforms.base import AdapterError
from platforms.http import Redactor, json_or_empty, make_client, parse_retry_after, send
from platforms.inbound import WebhookRejected, iso_to_utc
from platforms.mastodon.inbound import html_to_text
from platforms.signals import PublicPost, SourceFailed, SourceResult, language_code, scrub

PAGE = 40
MAX_PAGES = 100  # 4,000 statuses a read: a flood is read over several runs, never lost to a cap
DEFAULT_WAIT = 60.0
# Mastodon's mention and link markup: the h-card span around a mention, and the hidden URL parts.
DROP_CLASSES = frozenset({"h-card", "u-url", "invisible", "ellipsis"})


_EMOJI = re.compile(r":[A-Za-z0-9_]+:")


def _id_order(value: str) -> tuple[int, str]:
    return (len(value), value) if value.isdigit() else (0, value)


def _identifiers(status: dict[str, Any]) -> set[str]:
    """Every name, handle, id and link of the author and of the mentioned accounts."""
    found: set[str] = set()
    people = [status.get("account")] + list(status.get("mentions") or [])
    for person in people:
        if not isinstance(person, dict):
            continue
        for key in ("id", "username", "acct", "display_name", "url", "uri", "avatar", "avatar_static", "header"):
            value = person.get(key)
            if isinstance(value, str | int) and str(value).strip():
                found.add(str(value).strip())
                if key == "acct":
                    found.add("@" + str(value).strip())
                if key == "display_name":  # the name and each of its words, without emoji codes
                    name = _EMOJI.sub(" ", str(value))
                    found |= {name.strip(), *(w for w in name.split() if len(w) >= 3)}
        for emoji in person.get("emojis") or []:
            if isinstance(emoji, dict) and isinstance(emoji.get("shortcode"), str):
                found.add(f":{emoji['shortcode']}:")
    for key in ("id", "uri", "url"):
        if isinstance(status.get(key), str | int):
            found.add(str(status[key]))
    return found


def read_status(status: Any) -> PublicPost | None:
    """The text, language and time of one status, or None when it carries no readable text."""
    if not isinstance(status, dict) or status.get("reblog"):
        return None
    content = status.get("content")
    spoiler = status.get("spoiler_text")
    parts = [part for part in (spoiler, content) if isinstance(part, str) and part.strip()]
    if not parts:
        return None
    text = "\n".join(html_to_text(part[:50_000], drop_classes=DROP_CLASSES) for part in parts)
    text = scrub(text, identifiers=_identifiers(status))
    if not text:
        return None
    try:
        created = iso_to_utc(status.get("created_at"), "created_at")
    except WebhookRejected:
        return None
    return PublicPost(text=text, language=language_code(status.get("language")), created_at=created)


def _wait(response: httpx.Response) -> float:
    wait = parse_retry_after(response.headers.get("Retry-After"))
    if wait is None and (reset := response.headers.get("X-RateLimit-Reset")):
        try:
            wait = max(0.0, datetime.fromisoformat(reset.replace("Z", "+00:00")).timestamp() - time.time())
        except ValueError:
            wait = None
    return DEFAULT_WAIT if wait is None else min(wait, 3600.0)


def read_tag_timeline(*, instance: str, hashtag: str, since_id: str = "", http: httpx.Client | None = None,
                      max_pages: int = MAX_PAGES) -> SourceResult:
    """The public statuses tagged ``hashtag`` on ``instance`` newer than ``since_id``, oldest page first.

    Returns the posts (text, language, time only) and the newest status id seen, for the next read.
    A rate limit met part-way returns what was read with ``retry_after``; a failure before anything
    was read raises :class:`SourceFailed`."""
    base = instance.rstrip("/")
    url = f"{base}/api/v1/timelines/tag/{quote(hashtag.lstrip('#'), safe='')}"
    client = http or make_client(connect_timeout=5.0, read_timeout=15.0)
    posts: list[PublicPost] = []
    seen: set[str] = set()
    duplicates = 0
    cursor = since_id
    retry_after: float | None = None
    try:
        for _ in range(max_pages if since_id else 1):
            params: list[tuple[str, str | int]] = [("limit", PAGE)]
            if cursor:
                params.append(("min_id", cursor))
            response = send(client, "GET", url, what="mastodon tag timeline", retry_safe=True,
                            redact=Redactor([]), params=params)
            if response.status_code == 429:
                retry_after = _wait(response)
                break
            if response.status_code != 200:
                raise SourceFailed(f"mastodon tag timeline: HTTP {response.status_code}")
            page = json_or_empty(response)
            if not isinstance(page, list):
                raise SourceFailed("mastodon tag timeline: the answer is not a list of statuses")
            ids = []
            statuses = [s for s in page if isinstance(s, dict) and s.get("id") is not None]
            for status in sorted(statuses, key=lambda s: _id_order(str(s["id"]))):  # oldest first
                status_id = str(status["id"])
                ids.append(status_id)
                key = str(status.get("uri") or status_id)
                if key in seen:
                    duplicates += 1
                    continue
                seen.add(key)
                post = read_status(status)
                if post is not None:
                    posts.append(post)
            if ids:
                cursor = max([*ids, cursor] if cursor else ids, key=_id_order)
            if response.headers.get("X-RateLimit-Remaining") == "0":
                retry_after = _wait(response)
                break
            if len(page) < PAGE:
                break
    except AdapterError as exc:
        if not posts:
            raise SourceFailed(str(exc)[:300]) from exc
    finally:
        if http is None:
            client.close()
    return SourceResult(posts=posts, cursor=cursor, retry_after=retry_after, duplicates=duplicates)
