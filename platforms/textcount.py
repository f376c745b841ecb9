"""What every platform's length count is built from: UTF-16 units, grapheme clusters and URLs.

Each platform's own rules live in ``platforms/<p>/counting.py`` (X's weighted length, Mastodon's
graphemes, Telegram's UTF-16 limits, SMS segments, Facebook's characters), and
``platforms.counting`` picks the one for a channel kind. They share what is here:

- :func:`utf16_units`, the one UTF-16 count that the checker, the Telegram adapter and the
  platform sandbox (which imports no Django) all use;
- :func:`grapheme_count`, user-perceived characters. Grapheme clusters are approximated without a
  Unicode segmentation library: combining marks, variation selectors, skin-tone modifiers, tag
  characters and ZWJ-joined characters join the previous character, and flag pairs count as one;
- :func:`url_spans`, where the URLs in a text are (X and Mastodon count a URL as 23 whatever
  its length);
- :class:`LengthCount`, how much of a channel's room a text uses.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

__all__ = ["NO_LIMIT", "LengthCount", "clusters", "grapheme_count", "url_spans", "utf16_units"]

NO_LIMIT: Final = 1_000_000  # email, webhook and public pages have no practical limit


@dataclass(frozen=True)
class LengthCount:
    """How much of a channel's room a text uses.

    ``used`` and ``limit`` are in ``unit``. For SMS, ``segments`` and ``encoding``
    are set and ``limit`` is the room in ``max_segments`` segments; ``over`` is
    decided on segments. ``limit`` is ``None`` for channels without a limit.
    """

    used: int
    limit: int | None
    unit: str
    segments: int | None = None
    encoding: str | None = None
    max_segments: int | None = None

    @property
    def over(self) -> bool:
        if self.max_segments is not None and self.segments is not None:
            return self.segments > self.max_segments
        return self.limit is not None and self.used > self.limit

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else self.limit - self.used


def utf16_units(text: str) -> int:
    """Length in UTF-16 code units (JavaScript's ``.length``; what Telegram and UCS-2 SMS count).

    A character outside the Basic Multilingual Plane (most emoji) is two units.
    """
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


# -- grapheme clusters ----------------------------------------------------------------------------


def _is_extend(ch: str) -> bool:
    cp = ord(ch)
    return (
        0xFE00 <= cp <= 0xFE0F  # variation selectors
        or 0x1F3FB <= cp <= 0x1F3FF  # skin-tone modifiers
        or 0xE0020 <= cp <= 0xE007F  # tag characters (subdivision flags)
        or cp == 0x20E3  # combining enclosing keycap
        or (cp >= 0x300 and unicodedata.category(ch) in ("Mn", "Me", "Mc"))
    )


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def clusters(text: str) -> Iterator[str]:
    """Approximate extended grapheme clusters (UAX #29) without a segmentation library."""
    current = ""
    joining = False
    for ch in text:
        if not current:
            current = ch
        elif joining or _is_extend(ch) or ch == "\u200d" or (current == "\r" and ch == "\n"):
            current += ch
        elif (
            _is_regional_indicator(ch)
            and _is_regional_indicator(current[-1])
            and sum(map(_is_regional_indicator, current)) % 2 == 1
        ):
            current += ch
        else:
            yield current
            current = ch
        joining = ch == "\u200d"
    if current:
        yield current


def grapheme_count(text: str) -> int:
    """Number of user-perceived characters (approximate grapheme clusters)."""
    if text.isascii():
        return len(text) - text.count("\r\n")
    return sum(1 for _ in clusters(text))


# -- URLs -----------------------------------------------------------------------------------------

_URL_TRAILING: Final = ".,;:!?'\"”’»)]}…"


def _trim_url(url: str) -> str:
    while url and url[-1] in _URL_TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def url_spans(text: str, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    """``(start, end)`` of every URL ``pattern`` finds, trailing punctuation left out."""
    spans = []
    for m in pattern.finditer(text):
        url = _trim_url(m.group())
        if "." in url or "://" in url:
            spans.append((m.start(), m.start() + len(url)))
    return spans
