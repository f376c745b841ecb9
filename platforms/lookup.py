"""What the platform look-ups share: comparing a post's text with what we sent, and the window.

A platform that has no idempotency key can only be asked "which posts did this account make
between these times?". We then compare each post's text with exactly what ``publish`` sent
(built by the same function), after :func:`normalise`, because platforms rewrite text on the way:

* links: X shows every link as a ``t.co`` address, Mastodon shows them shortened in HTML,
  Twilio's link shortening rewrites them: every URL becomes one placeholder;
* HTML: Mastodon returns ``content`` as HTML (``<p>``, ``<br>``, links and hashtags as ``<a>``),
  X escapes ``&``, ``<`` and ``>`` in ``text``: the platform's side (never ours) has its tags
  dropped and its entities unescaped;
* white space: runs of spaces and line breaks become one space; Unicode is compared in NFC.

The answer (:class:`platforms.base.LookupResult`) is decided by :func:`decide`: exactly one
matching post is ``found``; none, when the listing covered the whole window, is ``absent``;
several, or a listing that could not be completed, is ``unknown``.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from platforms.base import LookupQuery, LookupResult

# Clocks differ: the platform's times are compared with ours widened by this much on each side.
CLOCK_SKEW = timedelta(seconds=60)
# The most listing pages one look-up reads; a window holding more posts answers "unknown".
MAX_PAGES = 5

LINK = "\u27e8link\u27e9"
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_BREAK = re.compile(r"<\s*br\s*/?\s*>|</\s*p\s*>\s*<\s*p[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Plain ``text`` as compared: URLs as one placeholder, white space collapsed, NFC. (A
    platform's HTML or escaped text is made plain first: :func:`html_text`, ``html.unescape``.)"""
    text = unicodedata.normalize("NFC", text)
    text = _URL.sub(LINK, text)
    return _SPACE.sub(" ", text).strip()


def html_text(content: str) -> str:
    """The text of an HTML fragment (Mastodon's ``content``): line breaks and paragraphs become
    white space, other tags are dropped, entities unescaped."""
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", content)))


def same_text(sent: str, shown: str) -> bool:
    return normalise(sent) == normalise(shown)


@dataclass(frozen=True)
class Window:
    """The times a post we sent may carry on the platform: the query's, widened by the skew."""

    start: datetime
    end: datetime

    @classmethod
    def of(cls, query: LookupQuery) -> Window:
        return cls(_utc(query.sent_after) - CLOCK_SKEW, _utc(query.sent_before) + CLOCK_SKEW)

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment <= self.end


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time (X, Mastodon, Graph's ``+0000``) or an RFC 2822 one (Twilio); None if odd."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        if text[:4].isdigit():
            text = text.replace("Z", "+00:00")
            if re.search(r"[+-]\d{4}$", text):
                text = f"{text[:-2]}:{text[-2:]}"
            return _utc(datetime.fromisoformat(text))
        return _utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class Match:
    external_id: str
    external_url: str = ""


def decide(
    platform: str, what: str, matches: Sequence[Match], *, complete: bool, listed: int, http_status: int | None = 200
) -> LookupResult:
    """The answer for one listing: ``what`` names it in the detail ("the account's posts"). A
    listing that stopped before the end of the window is ``unknown`` whatever it matched: an
    identical post may be on the pages not read."""
    if not complete:
        return LookupResult("unknown", f"{platform} listed {listed} of {what} without reaching the end of the "
                                       f"window ({len(matches)} matching so far).", http_status=http_status)
    if len(matches) == 1:
        found = matches[0]
        return LookupResult("found", f"{platform} has exactly one matching post among {listed} listed in the window.",
                            external_id=found.external_id, external_url=found.external_url, http_status=http_status)
    if matches:
        return LookupResult("unknown", f"{platform} has {len(matches)} matching posts in the window; a person "
                                       "decides which.", http_status=http_status)
    return LookupResult("absent", f"{platform} listed {what} for the whole window ({listed}) and none matched.",
                        http_status=http_status)


def nothing_to_compare(platform: str, text: str) -> LookupResult | None:
    """A post without words (images only, a bare link) cannot be told from another by its text: the
    answer is ``unknown`` without asking. None when there is text to compare."""
    if normalise(text).replace(LINK, "").strip():
        return None
    return LookupResult("unknown", f"{platform} was not asked: the post has no words to compare.")


def could_not_list(platform: str, what: str, http_status: int | None) -> LookupResult:
    """The listing failed (rate limit, server error, lost connection): the platform cannot tell."""
    status = f" (HTTP {http_status})" if http_status else ""
    return LookupResult("unknown", f"{platform} could not list {what}{status}.", http_status=http_status)
