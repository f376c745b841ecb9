"""Count a text's length the way each platform counts it.

Pure functions, shared by the message checker and the publishing adapters.

- ``x``: twitter-text v3 weighted length, limit 280. The text is NFC-normalised;
  code points in 0-4351, 8192-8205, 8208-8223 and 8242-8247 weigh 1, everything
  else weighs 2; an emoji sequence (ZWJ sequences, flags, skin tones, keycaps)
  weighs 2 in all; every URL weighs 23 whatever its length. URLs are found with
  a scheme (``https://``), ``www.``, or a bare domain on a common top-level
  domain (``police.uk/events``). twitter-text's full TLD list is not copied.
- ``mastodon``: 500 characters, counted as grapheme clusters like Mastodon's
  server does. Every ``http(s)://`` URL counts 23; ``@user@domain`` counts as
  ``@user``. Grapheme clusters are approximated without a Unicode segmentation
  library: combining marks, variation selectors, skin-tone modifiers, tag
  characters and ZWJ-joined characters join the previous character, and flag
  pairs count as one.
- ``telegram``: 4096 UTF-16 code units for a message, 1024 for a media caption.
- ``sms``: GSM 03.38 7-bit when every character is in the basic or extension
  table (extension characters such as ``€`` cost 2 septets): 160 septets in one
  segment, 153 per segment when concatenated. Otherwise UCS-2 (UTF-16 code
  units, so an emoji costs 2): 70 in one segment, 67 per segment. A character
  is never split across two segments. The limit is a maximum number of
  segments (3 by default), because long SMS cost money per segment, and never
  more than 10: Twilio refuses a ``Body`` over 1,600 characters (error 21617;
  ``twilio_api_v2010.json``, CreateMessage ``Body``), and 11 GSM-7 segments hold
  1,683 characters while 10 hold at most 1,530 (UCS-2: 670).
- ``facebook``: 63,206 characters (code points).
- ``email``, ``webhook``, ``public``: no practical limit (``limit`` is ``None``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

from platforms.textcount import (  # the one UTF-16 count, shared with adapters and the sandbox
    TELEGRAM_CAPTION_LIMIT,
    TELEGRAM_TEXT_LIMIT,
    utf16_units,
)

__all__ = [
    "CHANNEL_KINDS",
    "DEFAULT_MAX_SMS_SEGMENTS",
    "SMS_MAX_BODY",
    "SMS_MAX_SEGMENTS",
    "LengthCount",
    "SmsEncoding",
    "count_for",
    "first_overflow_index",
    "grapheme_count",
    "is_gsm7",
    "mastodon_length",
    "non_gsm_characters",
    "sms_cost",
    "sms_encoding",
    "sms_parts",
    "sms_segments",
    "utf16_units",
    "x_weighted_length",
]

CHANNEL_KINDS: Final = ("mastodon", "telegram", "x", "facebook", "sms", "email", "webhook", "public")
UNLIMITED_KINDS: Final = frozenset({"email", "webhook", "public"})

X_LIMIT: Final = 280
X_URL_WEIGHT: Final = 23
MASTODON_LIMIT: Final = 500
MASTODON_URL_LENGTH: Final = 23
TELEGRAM_MESSAGE_LIMIT: Final = TELEGRAM_TEXT_LIMIT
FACEBOOK_LIMIT: Final = 63206
DEFAULT_MAX_SMS_SEGMENTS: Final = 3

GSM_SINGLE: Final = 160
GSM_PART: Final = 153
UCS2_SINGLE: Final = 70
UCS2_PART: Final = 67
SMS_MAX_BODY: Final = 1600  # Twilio refuses a longer Body (error 21617)
SMS_MAX_SEGMENTS: Final = SMS_MAX_BODY // GSM_PART  # 10: the most whose text always fits SMS_MAX_BODY

SmsEncoding = Literal["GSM-7", "UCS-2"]


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


def count_for(
    kind: str,
    text: str,
    *,
    caption: bool = False,
    max_sms_segments: int = DEFAULT_MAX_SMS_SEGMENTS,
) -> LengthCount:
    """Count ``text`` for the channel ``kind``. Raises ``ValueError`` for an unknown kind.

    ``caption`` is for Telegram: the text goes with an image, so the caption limit applies.
    """
    if kind == "x":
        return LengthCount(used=x_weighted_length(text), limit=X_LIMIT, unit="weighted characters")
    if kind == "mastodon":
        return LengthCount(used=mastodon_length(text), limit=MASTODON_LIMIT, unit="characters")
    if kind == "telegram":
        limit = TELEGRAM_CAPTION_LIMIT if caption else TELEGRAM_MESSAGE_LIMIT
        return LengthCount(used=utf16_units(text), limit=limit, unit="UTF-16 code units")
    if kind == "sms":
        return _count_sms(text, max_segments=min(max_sms_segments, SMS_MAX_SEGMENTS))
    if kind == "facebook":
        return LengthCount(used=len(text), limit=FACEBOOK_LIMIT, unit="characters")
    if kind in UNLIMITED_KINDS:
        return LengthCount(used=len(text), limit=None, unit="characters")
    raise ValueError(f"Unknown channel kind: {kind!r}")


def first_overflow_index(
    kind: str,
    text: str,
    *,
    caption: bool = False,
    max_sms_segments: int = DEFAULT_MAX_SMS_SEGMENTS,
) -> int | None:
    """Index of the first character that no longer fits on the channel, or ``None``.

    For SMS it is the start of the first segment over the maximum (in the encoding of
    the whole text). Otherwise it is found by bisecting on prefixes: exact for
    monotonic counts, a close estimate where a URL or mention is cut in the middle.
    """
    if kind == "sms":
        max_sms_segments = min(max_sms_segments, SMS_MAX_SEGMENTS)
        encoding = sms_encoding(text)
        costs = _sms_char_costs(text, encoding)
        bounds = _sms_part_bounds(costs, encoding)
        if len(bounds) <= max_sms_segments:
            return None
        if max_sms_segments < 1:
            return 0
        if max_sms_segments > 1:
            return bounds[max_sms_segments][0]
        # One segment holds more (160 or 70) than each part of a concatenated message.
        room = GSM_SINGLE if encoding == "GSM-7" else UCS2_SINGLE
        used = 0
        for index, cost in enumerate(costs):
            used += cost
            if used > room:
                return index
        return 0

    def over(length: int) -> bool:
        return count_for(kind, text[:length], caption=caption, max_sms_segments=max_sms_segments).over

    if not over(len(text)):
        return None
    low, high = 0, len(text)  # over(high) is true; find the smallest such length
    while low < high:
        middle = (low + high) // 2
        if over(middle):
            high = middle
        else:
            low = middle + 1
    return max(high - 1, 0)


# -- Unicode helpers -------------------------------------------------------------------------------


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


def _clusters(text: str) -> Iterator[str]:
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
    return sum(1 for _ in _clusters(text))


# -- URLs and mentions -----------------------------------------------------------------------------

_URL_TRAILING: Final = ".,;:!?'\"”’»)]}…"
_SCHEME_URL_RE: Final = re.compile(r"(?<![\w@.])https?://[^\s<>\"]+", re.IGNORECASE)
_X_TLDS: Final = (
    "com|net|org|gov|edu|int|info|biz|io|co|uk|eu|us|ca|au|nz|ie|de|fr|nl|be|es|it|pt|pl|ch|at|"
    "se|no|dk|fi|police|app|dev|me|tv|ly|gl|fm|social|news|online|site|scot|wales|cymru|london"
)
_X_URL_RE: Final = re.compile(
    rf"""(?<![\w@.\-/])
        (?:https?://[^\s<>"]+
          |www\.[^\s<>"]+
          |(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:{_X_TLDS})(?![\w\-@])(?:/[^\s<>"]*)?
        )""",
    re.IGNORECASE | re.VERBOSE,
)
_MASTODON_MENTION_RE: Final = re.compile(
    r"(?<![=/\w])@(?P<user>[a-z0-9_]+(?:[a-z0-9_.\-]+[a-z0-9_]+)?)(?:@[\w.\-]+\w)?", re.IGNORECASE
)


def _trim_url(url: str) -> str:
    while url and url[-1] in _URL_TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _url_spans(text: str, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    spans = []
    for m in pattern.finditer(text):
        url = _trim_url(m.group())
        if "." in url or "://" in url:
            spans.append((m.start(), m.start() + len(url)))
    return spans


# -- X ---------------------------------------------------------------------------------------------

_X_LIGHT_RANGES: Final = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_PICTOGRAPHIC_RANGES: Final = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x2300, 0x23FF), (0x2B00, 0x2BFF))


def _x_code_point_weight(cp: int) -> int:
    return 1 if any(low <= cp <= high for low, high in _X_LIGHT_RANGES) else 2


def _is_emoji_cluster(cluster: str) -> bool:
    first = ord(cluster[0])
    return (
        any(low <= first <= high for low, high in _PICTOGRAPHIC_RANGES)
        or "\ufe0f" in cluster
        or "\u20e3" in cluster
    )


def _x_weight(text: str) -> int:
    if text.isascii():
        return len(text)
    weight = 0
    for cluster in _clusters(text):
        if _is_emoji_cluster(cluster):
            weight += 2
        else:
            weight += sum(_x_code_point_weight(ord(ch)) for ch in cluster)
    return weight


def x_weighted_length(text: str) -> int:
    """twitter-text v3 weighted length (the number X compares with 280)."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for start, end in _url_spans(text, _X_URL_RE):
        total += _x_weight(text[position:start]) + X_URL_WEIGHT
        position = end
    return total + _x_weight(text[position:])


# -- Mastodon -------------------------------------------------------------------------------------


def mastodon_length(text: str) -> int:
    """Mastodon's count: graphemes, URLs as 23, remote mentions as the local part only."""
    entities: list[tuple[int, int, int]] = []  # start, end, counted length
    for start, end in _url_spans(text, _SCHEME_URL_RE):
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


# -- SMS ------------------------------------------------------------------------------------------

# GSM 03.38 basic table (the escape character 0x1B itself is not allowed in text) ...
_GSM_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# ... and extension table: each costs an escape septet plus itself.
_GSM_EXTENSION: Final = frozenset("\f^{}\\[~]|€")


_GSM7_RE: Final = re.compile("[" + re.escape("".join(sorted(_GSM_BASIC | _GSM_EXTENSION))) + "]*")


def is_gsm7(text: str) -> bool:
    """True when every character can be sent in the GSM 7-bit alphabet."""
    return _GSM7_RE.fullmatch(text) is not None


def non_gsm_characters(text: str) -> list[str]:
    """The distinct characters that force UCS-2, in order of first appearance."""
    seen: dict[str, None] = {}
    for ch in text:
        if ch not in _GSM_BASIC and ch not in _GSM_EXTENSION:
            seen.setdefault(ch, None)
    return list(seen)


def sms_encoding(text: str) -> SmsEncoding:
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def _sms_char_costs(text: str, encoding: SmsEncoding) -> list[int]:
    if encoding == "GSM-7":
        return [2 if ch in _GSM_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _sms_part_bounds(costs: list[int], encoding: SmsEncoding) -> list[tuple[int, int]]:
    """Character ranges of each segment; a character is never split between two."""
    single, part = (GSM_SINGLE, GSM_PART) if encoding == "GSM-7" else (UCS2_SINGLE, UCS2_PART)
    if not costs:
        return []
    if sum(costs) <= single:
        return [(0, len(costs))]
    bounds = []
    start = 0
    used = 0
    for index, cost in enumerate(costs):
        if used + cost > part:
            bounds.append((start, index))
            start, used = index, 0
        used += cost
    bounds.append((start, len(costs)))
    return bounds


def sms_parts(text: str) -> list[str]:
    """The text as it will be split into SMS segments (empty text: no segments)."""
    encoding = sms_encoding(text)
    return [text[start:end] for start, end in _sms_part_bounds(_sms_char_costs(text, encoding), encoding)]


def sms_segments(text: str) -> int:
    """Number of SMS segments needed for ``text`` (0 for empty text)."""
    encoding = sms_encoding(text)
    return len(_sms_part_bounds(_sms_char_costs(text, encoding), encoding))


def _count_sms(text: str, *, max_segments: int) -> LengthCount:
    encoding = sms_encoding(text)
    costs = _sms_char_costs(text, encoding)
    segments = len(_sms_part_bounds(costs, encoding))
    single, part = (GSM_SINGLE, GSM_PART) if encoding == "GSM-7" else (UCS2_SINGLE, UCS2_PART)
    limit = single if max_segments <= 1 else part * max_segments
    return LengthCount(
        used=sum(costs),
        limit=limit,
        unit="septets" if encoding == "GSM-7" else "UTF-16 code units",
        segments=segments,
        encoding=encoding,
        max_segments=max_segments,
    )


def sms_cost(*, segments: int, recipients: int, price_per_segment: Decimal) -> Decimal:
    """Estimated cost of sending a message of ``segments`` segments to ``recipients`` people."""
    if segments < 0 or recipients < 0:
        raise ValueError("segments and recipients must not be negative")
    return Decimal(segments) * Decimal(recipients) * Decimal(price_per_segment)
