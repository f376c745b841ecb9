"""Mastodon's length: 500 characters, counted as grapheme clusters like Mastodon's server does.

Every ``http(s)://`` URL counts 23; ``@user@domain`` counts as ``@user``. Graphemes are
approximated (``platforms.textcount.grapheme_count``).
"""

from __future__ import annotations

import re
from typing import Final

from platforms.textcount import LengthCount, grapheme_count, url_spans

__all__ = ["MASTODON_LIMIT", "MASTODON_URL_LENGTH", "count", "mastodon_length"]

MASTODON_LIMIT: Final = 500
MASTODON_URL_LENGTH: Final = 23

_SCHEME_URL_RE: Final = re.compile(r"(?<![\w@.])https?://[^\s<>\"]+", re.IGNORECASE)
_MASTODON_MENTION_RE: Final = re.compile(
    r"(?<![=/\w])@(?P<user>[a-z0-9_]+(?:[a-z0-9_.\-]+[a-z0-9_]+)?)(?:@[\w.\-]+\w)?", re.IGNORECASE
)


def mastodon_length(text: str) -> int:
    """Mastodon's count: graphemes, URLs as 23, remote mentions as the local part only."""
    entities: list[tuple[int, int, int]] = []  # start, end, counted length
    for start, end in url_spans(text, _SCHEME_URL_RE):
        entities.append((start, end, MASTODON_URL_LENGTH))
    if "@" in text:
        for m in _MASTODON_MENTION_RE.finditer(text):
            entities.append((m.start(), m.end(), 1 + len(m.group("user"))))
    entities.sort()
    # Overlapping entities (a mention inside a URL): the one that starts first wins.
    total = 0
    position = 0
    for start, end, length in entities:
        if start < position:
            continue
        total += grapheme_count(text[position:start]) + length
        position = end
    return total + grapheme_count(text[position:])


def count(text: str) -> LengthCount:
    return LengthCount(used=mastodon_length(text), limit=MASTODON_LIMIT, unit="characters")
