"""Text counting for adapters: the message checker's rules, so both always agree.

``campaigns.checker.counting`` owns every platform's rules (twitter-text weights, Mastodon's
URL and mention rules, Telegram's UTF-16 units, GSM-7 / UCS-2 SMS segments). It is imported
lazily so importing an adapter stays cheap and free of the checker's word lists until a
count is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

NO_LIMIT = 1_000_000  # email, webhook and public pages have no practical limit
SMS_MAX_BODY = 1600  # Twilio refuses a longer Body (the checker's counting.SMS_MAX_BODY)
SMS_MAX_SEGMENTS = 10  # the most segments whose text always fits SMS_MAX_BODY (counting.SMS_MAX_SEGMENTS)


@dataclass(frozen=True)
class SmsCount:
    segments: int
    encoding: str  # "GSM-7" or "UCS-2"
    used: int  # septets or UTF-16 code units
    limit: int  # room in max_segments segments


def count(kind: str, text: str, *, max_sms_segments: int | None = None) -> tuple[int, int]:
    """``(used, limit)`` for ``text`` on a channel of ``kind``, in the platform's unit."""
    from campaigns.checker.counting import DEFAULT_MAX_SMS_SEGMENTS, count_for  # noqa: PLC0415

    result = count_for(kind, text, max_sms_segments=max_sms_segments or DEFAULT_MAX_SMS_SEGMENTS)
    return result.used, NO_LIMIT if result.limit is None else result.limit


def sms_count(text: str, *, max_segments: int | None = None) -> SmsCount:
    from campaigns.checker.counting import DEFAULT_MAX_SMS_SEGMENTS, count_for  # noqa: PLC0415

    result = count_for("sms", text, max_sms_segments=max_segments or DEFAULT_MAX_SMS_SEGMENTS)
    return SmsCount(
        segments=int(result.segments or 0),
        encoding=str(result.encoding),
        used=result.used,
        limit=int(result.limit or 0),
    )


def sms_cost(*, segments: int, recipients: int, price_per_segment: Decimal) -> Decimal:
    from campaigns.checker.counting import sms_cost as checker_sms_cost  # noqa: PLC0415

    return checker_sms_cost(segments=segments, recipients=recipients, price_per_segment=price_per_segment)
