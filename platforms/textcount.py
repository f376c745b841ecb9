"""Text counting for adapters: the message checker's rules, so both always agree.

``platforms.counting`` owns every platform's rules (twitter-text weights, Mastodon's
URL and mention rules, GSM-7 / UCS-2 SMS segments). It is imported lazily so importing an
adapter stays cheap and free of the checker's word lists until a count is needed.

UTF-16 code units are counted here, by :func:`utf16_units`, the one function that the checker
(``counting.utf16_units`` is this function), the Telegram adapter and the platform sandbox
(which imports no Django) all use; :func:`telegram_length_problem` is Telegram's rule on top of
it (Bot API 10.1, ``sendMessage.text`` "1-4096 characters", ``sendPhoto.caption`` and
``InputMediaPhoto.caption`` "0-1024 characters", characters being UTF-16 code units).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

NO_LIMIT = 1_000_000  # email, webhook and public pages have no practical limit
SMS_MAX_BODY = 1600  # Twilio refuses a longer Body (the checker's counting.SMS_MAX_BODY)
SMS_MAX_SEGMENTS = 10  # the most segments whose text always fits SMS_MAX_BODY (counting.SMS_MAX_SEGMENTS)
TELEGRAM_TEXT_LIMIT = 4096  # sendMessage.text, UTF-16 code units
TELEGRAM_CAPTION_LIMIT = 1024  # sendPhoto.caption / InputMediaPhoto.caption, UTF-16 code units


def utf16_units(text: str) -> int:
    """Length in UTF-16 code units (JavaScript's ``.length``; what Telegram and UCS-2 SMS count).

    A character outside the Basic Multilingual Plane (most emoji) is two units.
    """
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def telegram_length_problem(text: str, *, caption: bool) -> str:
    """Why Telegram would refuse ``text`` as a message text (or, ``caption``, a media caption),
    or ``""`` if it fits. A text must have 1 to 4,096 units (not only spaces); a caption 0 to 1,024.
    """
    used = utf16_units(text)
    if caption:
        if used > TELEGRAM_CAPTION_LIMIT:
            return (f"a caption may be at most {TELEGRAM_CAPTION_LIMIT} UTF-16 units, this text has {used}; "
                    "shorten it or send it without images")
        return ""
    if not text.strip():
        return "a message text must not be empty"
    if used > TELEGRAM_TEXT_LIMIT:
        return f"a message text may be at most {TELEGRAM_TEXT_LIMIT} UTF-16 units, this text has {used}"
    return ""


@dataclass(frozen=True)
class SmsCount:
    segments: int
    encoding: str  # "GSM-7" or "UCS-2"
    used: int  # septets or UTF-16 code units
    limit: int  # room in max_segments segments


def count(kind: str, text: str, *, max_sms_segments: int | None = None) -> tuple[int, int]:
    """``(used, limit)`` for ``text`` on a channel of ``kind``, in the platform's unit."""
    from platforms.counting import DEFAULT_MAX_SMS_SEGMENTS, count_for  # noqa: PLC0415

    result = count_for(kind, text, max_sms_segments=max_sms_segments or DEFAULT_MAX_SMS_SEGMENTS)
    return result.used, NO_LIMIT if result.limit is None else result.limit


def sms_count(text: str, *, max_segments: int | None = None) -> SmsCount:
    from platforms.counting import DEFAULT_MAX_SMS_SEGMENTS, count_for  # noqa: PLC0415

    result = count_for("sms", text, max_sms_segments=max_segments or DEFAULT_MAX_SMS_SEGMENTS)
    return SmsCount(
        segments=int(result.segments or 0),
        encoding=str(result.encoding),
        used=result.used,
        limit=int(result.limit or 0),
    )


def sms_cost(*, segments: int, recipients: int, price_per_segment: Decimal) -> Decimal:
    from platforms.counting import sms_cost as checker_sms_cost  # noqa: PLC0415

    return checker_sms_cost(segments=segments, recipients=recipients, price_per_segment=price_per_segment)
