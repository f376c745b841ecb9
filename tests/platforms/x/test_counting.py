"""X's weighted length (platforms.x.counting)."""

from __future__ import annotations

import pytest

from platforms.counting import count_for
from platforms.x.counting import x_weighted_length


def test_x_plain_ascii_counts_characters() -> None:
    assert x_weighted_length("Avoid the A6 tonight.") == 21


@pytest.mark.parametrize(
    "url",
    [
        "https://t.co/x",
        "https://www.example.police.uk/news/2025/06/14/road-closures-around-the-stadium?utm=abc",
        "http://example.com",
        "www.example.com/a",
        "police.uk/events",
    ],
)
def test_x_urls_count_23_whatever_their_length(url: str) -> None:
    assert x_weighted_length(f"Info: {url}") == len("Info: ") + 23
    assert x_weighted_length(f"See {url}. Thanks") == len("See ") + 23 + len(". Thanks")


def test_x_email_address_is_not_a_url() -> None:
    assert x_weighted_length("tips@example.com") == len("tips@example.com")


@pytest.mark.parametrize(
    "emoji",
    [
        "😀",  # one code point
        "👍🏽",  # with a skin tone
        "👨‍👩‍👧",  # ZWJ family sequence
        "🇬🇧",  # flag: two regional indicators
        "❤️",  # text symbol with variation selector
        "1️⃣",  # keycap
    ],
)
def test_x_an_emoji_weighs_two(emoji: str) -> None:
    assert x_weighted_length(emoji) == 2
    assert x_weighted_length(f"Go {emoji}") == 5


def test_x_cjk_weighs_two_latin_cyrillic_arabic_one() -> None:
    assert x_weighted_length("日本語") == 6
    assert x_weighted_length("Привет") == 6
    assert x_weighted_length("مرحبا") == 5
    # General punctuation in the light ranges: en dash (8211) and ellipsis (8230 is heavy).
    assert x_weighted_length("–") == 1
    assert x_weighted_length("…") == 2


def test_x_counts_after_nfc_normalisation() -> None:
    decomposed = "cafe\u0301"  # e + combining acute
    assert x_weighted_length(decomposed) == x_weighted_length("café") == 4


def test_x_limit_is_280() -> None:
    assert not count_for("x", "a" * 280).over
    over = count_for("x", "a" * 281)
    assert over.over and over.used == 281 and over.limit == 280
    assert count_for("x", "日" * 141).used == 282
