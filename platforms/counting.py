"""Count a text's length the way the platform of a channel kind counts it.

Pure functions, shared by the message checker, the adapters and the sandbox. Each platform's
rules are in its own package; this module picks them by channel kind:

- ``x``: twitter-text v3 weighted length, limit 280 (``platforms.x.counting``);
- ``mastodon``: 500 grapheme clusters, URLs as 23, remote mentions as their local part
  (``platforms.mastodon.counting``);
- ``telegram``: 4,096 UTF-16 code units for a message, 1,024 for a media caption
  (``platforms.telegram.counting``);
- ``sms``: GSM-7 or UCS-2 segments, at most ``max_sms_segments`` (3 by default, never more than
  10: Twilio's 1,600-character ``Body``) (``platforms.sms.counting``);
- ``facebook``: 63,206 characters (``platforms.facebook.counting``);
- ``email``, ``webhook``, ``public``: no practical limit (``limit`` is ``None``).

What they share (UTF-16 units, grapheme clusters, URLs, :class:`LengthCount`) is in
``platforms.textcount``.
"""

from __future__ import annotations

from typing import Final

from platforms.facebook import counting as facebook
from platforms.mastodon import counting as mastodon
from platforms.sms import counting as sms
from platforms.telegram import counting as telegram
from platforms.textcount import NO_LIMIT, LengthCount
from platforms.x import counting as x

__all__ = ["CHANNEL_KINDS", "LengthCount", "count", "count_for", "first_overflow_index"]

CHANNEL_KINDS: Final = ("mastodon", "telegram", "x", "facebook", "sms", "email", "webhook", "public")
UNLIMITED_KINDS: Final = frozenset({"email", "webhook", "public"})


def count_for(
    kind: str,
    text: str,
    *,
    caption: bool = False,
    max_sms_segments: int = sms.DEFAULT_MAX_SMS_SEGMENTS,
) -> LengthCount:
    """Count ``text`` for the channel ``kind``. Raises ``ValueError`` for an unknown kind.

    ``caption`` is for Telegram: the text goes with an image, so the caption limit applies.
    """
    if kind == "x":
        return x.count(text)
    if kind == "mastodon":
        return mastodon.count(text)
    if kind == "telegram":
        return telegram.count(text, caption=caption)
    if kind == "sms":
        return sms.count(text, max_segments=max_sms_segments)
    if kind == "facebook":
        return facebook.count(text)
    if kind in UNLIMITED_KINDS:
        return LengthCount(used=len(text), limit=None, unit="characters")
    raise ValueError(f"Unknown channel kind: {kind!r}")


def count(kind: str, text: str, *, max_sms_segments: int | None = None) -> tuple[int, int]:
    """``(used, limit)`` for ``text`` on a channel of ``kind``, in the platform's unit (what an
    adapter's ``count`` and ``limit`` give; no limit is :data:`platforms.textcount.NO_LIMIT`)."""
    result = count_for(kind, text, max_sms_segments=max_sms_segments or sms.DEFAULT_MAX_SMS_SEGMENTS)
    return result.used, NO_LIMIT if result.limit is None else result.limit


def first_overflow_index(
    kind: str,
    text: str,
    *,
    caption: bool = False,
    max_sms_segments: int = sms.DEFAULT_MAX_SMS_SEGMENTS,
) -> int | None:
    """Index of the first character that no longer fits on the channel, or ``None``.

    For SMS it is the start of the first segment over the maximum (in the encoding of
    the whole text). Otherwise it is found by bisecting on prefixes: exact for
    monotonic counts, a close estimate where a URL or mention is cut in the middle.
    """
    if kind == "sms":
        return sms.first_overflow_index(text, max_segments=max_sms_segments)

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
