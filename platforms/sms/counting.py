"""SMS length: segments, as the network splits a text, and what they cost.

GSM 03.38 7-bit when every character is in the basic or extension table (extension characters
such as ``€`` cost 2 septets): 160 septets in one segment, 153 per segment when concatenated.
Otherwise UCS-2 (UTF-16 code units, so an emoji costs 2): 70 in one segment, 67 per segment. A
character is never split across two segments. The limit is a maximum number of segments (3 by
default), because long SMS cost money per segment, and never more than 10: Twilio refuses a
``Body`` over 1,600 characters (error 21617; ``twilio_api_v2010.json``, CreateMessage ``Body``),
and 11 GSM-7 segments hold 1,683 characters while 10 hold at most 1,530 (UCS-2: 670).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

from platforms.textcount import LengthCount

__all__ = [
    "DEFAULT_MAX_SMS_SEGMENTS",
    "SMS_MAX_BODY",
    "SMS_MAX_SEGMENTS",
    "SmsCount",
    "SmsEncoding",
    "count",
    "first_overflow_index",
    "is_gsm7",
    "non_gsm_characters",
    "sms_cost",
    "sms_count",
    "sms_encoding",
    "sms_parts",
    "sms_segments",
]

DEFAULT_MAX_SMS_SEGMENTS: Final = 3
GSM_SINGLE: Final = 160
GSM_PART: Final = 153
UCS2_SINGLE: Final = 70
UCS2_PART: Final = 67
SMS_MAX_BODY: Final = 1600  # Twilio refuses a longer Body (error 21617)
SMS_MAX_SEGMENTS: Final = SMS_MAX_BODY // GSM_PART  # 10: the most whose text always fits SMS_MAX_BODY

SmsEncoding = Literal["GSM-7", "UCS-2"]

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


def count(text: str, *, max_segments: int = DEFAULT_MAX_SMS_SEGMENTS) -> LengthCount:
    """How much of ``max_segments`` segments (at most :data:`SMS_MAX_SEGMENTS`) ``text`` uses."""
    max_segments = min(max_segments, SMS_MAX_SEGMENTS)
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


def first_overflow_index(text: str, *, max_segments: int = DEFAULT_MAX_SMS_SEGMENTS) -> int | None:
    """Index of the first character that no longer fits in ``max_segments`` segments, or ``None``:
    the start of the first segment over the maximum (in the encoding of the whole text)."""
    max_segments = min(max_segments, SMS_MAX_SEGMENTS)
    encoding = sms_encoding(text)
    costs = _sms_char_costs(text, encoding)
    bounds = _sms_part_bounds(costs, encoding)
    if len(bounds) <= max_segments:
        return None
    if max_segments < 1:
        return 0
    if max_segments > 1:
        return bounds[max_segments][0]
    # One segment holds more (160 or 70) than each part of a concatenated message.
    room = GSM_SINGLE if encoding == "GSM-7" else UCS2_SINGLE
    used = 0
    for index, cost in enumerate(costs):
        used += cost
        if used > room:
            return index
    return 0


@dataclass(frozen=True)
class SmsCount:
    segments: int
    encoding: str  # "GSM-7" or "UCS-2"
    used: int  # septets or UTF-16 code units
    limit: int  # room in max_segments segments


def sms_count(text: str, *, max_segments: int | None = None) -> SmsCount:
    """The adapter's view of :func:`count`: segments, encoding, units used and the room."""
    result = count(text, max_segments=max_segments or DEFAULT_MAX_SMS_SEGMENTS)
    return SmsCount(
        segments=int(result.segments or 0),
        encoding=str(result.encoding),
        used=result.used,
        limit=int(result.limit or 0),
    )


def sms_cost(*, segments: int, recipients: int, price_per_segment: Decimal) -> Decimal:
    """Estimated cost of sending a message of ``segments`` segments to ``recipients`` people."""
    if segments < 0 or recipients < 0:
        raise ValueError("segments and recipients must not be negative")
    return Decimal(segments) * Decimal(recipients) * Decimal(price_per_segment)
