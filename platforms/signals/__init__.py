"""Public signals around an event (issue 18): posts read from public sources, reduced to their text.

What leaves this package is a :class:`PublicPost`: the post's text, its language and its time, and
nothing else. The reading (``mastodon_tag.py``: a Mastodon instance's public hashtag timeline;
``feeds.py``: Atom and RSS feeds) drops the author (name, handle, id, profile link, avatar), the
post's own id and link, mentions, links in the text and custom emoji names *before* returning, so
the caller cannot store what it never receives. No database (the floor plan's rule for platforms)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

__all__ = ["PublicPost", "SourceFailed", "SourceResult", "scrub"]

MAX_TEXT = 2_000  # a post's text beyond this is cut: a watch counts words, it does not archive

# Handles (@name, @name@instance), links, and :custom_emoji: shortcodes.
_HANDLE = re.compile(r"(?<![\w/])@[\w.\-]+(?:@[\w.\-]+\.\w+)?", re.UNICODE)
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_BARE_DOMAIN_PATH = re.compile(r"\b[\w\-]+(?:\.[\w\-]+)+/\S*", re.UNICODE)
_EMOJI_CODE = re.compile(r":[A-Za-z0-9_]{2,}:")
_SPACES = re.compile(r"[ \t\u00a0]+")
_LINES = re.compile(r"\s*\n\s*")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")


@dataclass(frozen=True)
class PublicPost:
    """The only shape a public post takes once read: no author, no id, no link."""

    text: str
    language: str  # the platform's ISO 639 code, "" when it gave none (detected later)
    created_at: datetime  # UTC


@dataclass(frozen=True)
class SourceResult:
    posts: list[PublicPost]
    cursor: str  # where the next read starts (the newest item's id or time): the caller keeps it
    retry_after: float | None = None  # seconds the source asked us to wait before the next read
    duplicates: int = 0  # items seen twice in this read (page overlap, the same post on two instances)


class SourceFailed(Exception):
    """The read stopped; ``str(exc)`` says why in our own words (never the source's text)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def language_code(value: object) -> str:
    text = str(value or "").strip()
    return text.split("-")[0].lower() if _LANGUAGE.match(text) else ""


def scrub(text: str, *, identifiers: set[str] | frozenset[str] = frozenset()) -> str:
    """``text`` without handles, links, custom emoji names and any of ``identifiers`` (the author's
    and the mentioned accounts' names, handles, ids and links, which a hostile post may spell out)."""
    text = _URL.sub(" ", text or "")
    text = _BARE_DOMAIN_PATH.sub(" ", text)
    for identifier in sorted(identifiers, key=len, reverse=True):
        if len(identifier) >= 3:
            text = re.sub(rf"(?<!\w){re.escape(identifier)}(?!\w)", " ", text, flags=re.IGNORECASE)
    text = _HANDLE.sub(" ", text)
    text = _EMOJI_CODE.sub(" ", text)
    text = _LINES.sub("\n", _SPACES.sub(" ", text))
    return text.strip()[:MAX_TEXT]
