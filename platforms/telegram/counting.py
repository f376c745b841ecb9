"""Telegram's length: 4,096 UTF-16 code units for a message, 1,024 for a media caption.

Bot API 10.1: ``sendMessage.text`` "1-4096 characters", ``sendPhoto.caption`` and
``InputMediaPhoto.caption`` "0-1024 characters", characters being UTF-16 code units
(``platforms.textcount.utf16_units``, the count the checker, the adapter and the sandbox share).
:func:`telegram_length_problem` is the adapter's rule on top of it.
"""

from __future__ import annotations

from typing import Final

from platforms.textcount import LengthCount, utf16_units

__all__ = ["TELEGRAM_CAPTION_LIMIT", "TELEGRAM_MESSAGE_LIMIT", "TELEGRAM_TEXT_LIMIT", "count",
           "telegram_length_problem"]

TELEGRAM_TEXT_LIMIT: Final = 4096  # sendMessage.text, UTF-16 code units
TELEGRAM_MESSAGE_LIMIT: Final = TELEGRAM_TEXT_LIMIT
TELEGRAM_CAPTION_LIMIT: Final = 1024  # sendPhoto.caption / InputMediaPhoto.caption, UTF-16 code units


def count(text: str, *, caption: bool = False) -> LengthCount:
    limit = TELEGRAM_CAPTION_LIMIT if caption else TELEGRAM_MESSAGE_LIMIT
    return LengthCount(used=utf16_units(text), limit=limit, unit="UTF-16 code units")


def telegram_length_problem(text: str, *, caption: bool) -> str:
    """Why Telegram would refuse ``text`` as a message text (or, ``caption``, a media caption),
    or ``""`` if it fits. A text must have 1 to 4,096 units (not only spaces); a caption 0 to 1,024.
    """
    used = utf16_units(text)
    if caption:
        if used > TELEGRAM_CAPTION_LIMIT:
            return (f"a caption may be at most {TELEGRAM_CAPTION_LIMIT} characters as Telegram counts them "
                    f"(an emoji counts as 2), this text has {used}; shorten it or send it without images")
        return ""
    if not text.strip():
        return "a message text must not be empty"
    if used > TELEGRAM_TEXT_LIMIT:
        return (f"a message text may be at most {TELEGRAM_TEXT_LIMIT} characters as Telegram counts them "
                f"(an emoji counts as 2), this text has {used}")
    return ""
