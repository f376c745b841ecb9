"""Telegram's UTF-16 limits (platforms.telegram.counting)."""

from __future__ import annotations

from platforms.counting import count_for
from platforms.textcount import utf16_units


def test_telegram_message_4096_and_caption_1024() -> None:
    assert count_for("telegram", "a" * 1025).limit == 4096
    assert not count_for("telegram", "a" * 1025).over
    caption = count_for("telegram", "a" * 1025, caption=True)
    assert caption.limit == 1024 and caption.over
    assert not count_for("telegram", "a" * 1024, caption=True).over
    assert count_for("telegram", "a" * 4097).over


def test_telegram_counts_utf16_code_units() -> None:
    assert utf16_units("😀") == 2
    assert count_for("telegram", "😀" * 512, caption=True).used == 1024
    assert count_for("telegram", "😀" * 513, caption=True).over
