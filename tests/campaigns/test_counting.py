"""Per-platform length counting (platforms.counting)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from platforms.counting import (
    CHANNEL_KINDS,
    count_for,
    first_overflow_index,
    grapheme_count,
    is_gsm7,
    mastodon_length,
    non_gsm_characters,
    sms_cost,
    sms_encoding,
    sms_parts,
    sms_segments,
    utf16_units,
    x_weighted_length,
)

GSM_BASIC_SAMPLE = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡AZÄÖÑÜ§¿azäöñüà"
GSM_EXTENSION = "\f^{}\\[~]|€"

# -- X ---------------------------------------------------------------------------------------------


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


# -- Mastodon ------------------------------------------------------------------------------------


def test_mastodon_urls_count_23() -> None:
    url = "https://example.police.uk/" + "x" * 200
    assert mastodon_length(f"Read {url}") == 5 + 23


def test_mastodon_bare_domain_is_counted_in_full() -> None:
    # Mastodon only shortens links with a scheme.
    assert mastodon_length("police.uk") == 9


def test_mastodon_remote_mention_counts_only_the_username() -> None:
    assert mastodon_length("@alice@example.social hi") == len("@alice hi")
    assert mastodon_length("@alice hi") == len("@alice hi")


def test_mastodon_counts_graphemes() -> None:
    assert mastodon_length("👨‍👩‍👧") == 1
    assert mastodon_length("🇬🇧🇫🇷") == 2
    assert mastodon_length("cafe\u0301") == 4
    assert count_for("mastodon", "a" * 500).over is False
    assert count_for("mastodon", "a" * 501).over is True


def test_grapheme_count_crlf_is_one() -> None:
    assert grapheme_count("a\r\nb") == 3
    assert grapheme_count("é\r\nb") == 3


# -- Telegram ------------------------------------------------------------------------------------


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


# -- SMS ----------------------------------------------------------------------------------------


def test_sms_gsm7_160_is_one_segment_161_is_two() -> None:
    one = count_for("sms", "a" * 160)
    assert (one.segments, one.encoding, one.used, one.unit) == (1, "GSM-7", 160, "septets")
    two = count_for("sms", "a" * 161)
    assert (two.segments, two.encoding) == (2, "GSM-7")
    assert sms_segments("a" * 306) == 2
    assert sms_segments("a" * 307) == 3


def test_sms_extension_characters_count_two_septets() -> None:
    assert count_for("sms", "€").used == 2
    assert count_for("sms", "€" * 80).segments == 1  # 160 septets
    assert count_for("sms", "€" * 80 + "a").segments == 2


def test_sms_extension_character_is_never_split_between_segments() -> None:
    parts = sms_parts("a" * 152 + "€" + "a" * 10)
    assert [len(part) for part in parts] == [152, 11]
    assert parts[1].startswith("€")


def test_sms_arabic_is_ucs2_70_then_67_per_segment() -> None:
    assert sms_encoding("مرحبا") == "UCS-2"
    one = count_for("sms", "ب" * 70)
    assert (one.segments, one.encoding, one.unit) == (1, "UCS-2", "UTF-16 code units")
    assert count_for("sms", "ب" * 71).segments == 2
    assert count_for("sms", "ب" * 134).segments == 2
    assert count_for("sms", "ب" * 135).segments == 3


def test_sms_emoji_is_two_utf16_units_and_forces_ucs2() -> None:
    count = count_for("sms", "Stay safe 😀")
    assert count.encoding == "UCS-2"
    assert count.used == len("Stay safe ") + 2
    assert sms_segments("😀" * 35) == 1
    assert sms_segments("😀" * 35 + "a") == 2


def test_sms_a_surrogate_pair_is_never_split() -> None:
    parts = sms_parts("a" * 66 + "😀" + "a" * 10)
    assert parts[0] == "a" * 66
    assert parts[1].startswith("😀")


def test_sms_curly_quote_forces_ucs2_and_is_named() -> None:
    assert sms_encoding("Don't") == "GSM-7"
    assert sms_encoding("Don’t") == "UCS-2"
    assert non_gsm_characters("Don’t “go”") == ["’", "“", "”"]


def test_sms_limit_is_a_number_of_segments() -> None:
    text = "a" * 459  # exactly 3 segments of 153
    assert count_for("sms", text).segments == 3 and not count_for("sms", text).over
    assert count_for("sms", text + "a").over
    assert count_for("sms", "a" * 161, max_sms_segments=1).over
    assert count_for("sms", "a" * 160, max_sms_segments=1).limit == 160


def test_sms_empty_text_has_no_segments() -> None:
    assert sms_segments("") == 0
    assert sms_parts("") == []


def test_sms_cost() -> None:
    assert sms_cost(segments=2, recipients=1500, price_per_segment=Decimal("0.035")) == Decimal("105.000")
    assert sms_cost(segments=0, recipients=10, price_per_segment=Decimal("0.04")) == 0
    with pytest.raises(ValueError, match="negative"):
        sms_cost(segments=-1, recipients=1, price_per_segment=Decimal("0.04"))


# -- other channels ------------------------------------------------------------------------------


def test_facebook_limit() -> None:
    assert count_for("facebook", "a" * 63206).over is False
    assert count_for("facebook", "a" * 63207).over is True


@pytest.mark.parametrize("kind", ["email", "webhook", "public"])
def test_channels_without_a_limit(kind: str) -> None:
    count = count_for(kind, "a" * 100_000)
    assert count.limit is None and not count.over and count.remaining is None


def test_every_channel_kind_is_counted_and_unknown_kinds_rejected() -> None:
    for kind in CHANNEL_KINDS:
        count_for(kind, "Hello")
    with pytest.raises(ValueError, match="Unknown channel kind"):
        count_for("myspace", "Hello")


def test_first_overflow_index() -> None:
    assert first_overflow_index("x", "a" * 280) is None
    assert first_overflow_index("x", "a" * 300) == 280
    assert first_overflow_index("sms", "a" * 500) == 459
    assert first_overflow_index("sms", "a" * 200, max_sms_segments=1) == 160
    assert first_overflow_index("sms", "ب" * 300) == 201  # UCS-2: 3 × 67
    assert first_overflow_index("sms", "ب" * 100, max_sms_segments=1) == 70
    assert first_overflow_index("sms", "a" * 10, max_sms_segments=0) == 0
    assert first_overflow_index("telegram", "b" * 1100, caption=True) == 1024


# -- properties ---------------------------------------------------------------------------------

_sms_alphabet = st.sampled_from(list(GSM_BASIC_SAMPLE + GSM_EXTENSION) + ["ب", "😀", "’", "日"])


@settings(max_examples=300, deadline=None)
@given(st.text(_sms_alphabet, max_size=400), st.text(_sms_alphabet, min_size=1, max_size=200))
def test_sms_segment_count_is_monotonic_in_appended_text(text: str, suffix: str) -> None:
    assert sms_segments(text + suffix) >= sms_segments(text)


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list(GSM_BASIC_SAMPLE + GSM_EXTENSION)), max_size=500))
def test_gsm_only_strings_are_never_ucs2(text: str) -> None:
    assert is_gsm7(text)
    assert sms_encoding(text) == "GSM-7"
    assert count_for("sms", text).encoding == "GSM-7"


@settings(max_examples=200, deadline=None)
@given(st.text(_sms_alphabet, max_size=600))
def test_sms_parts_rebuild_the_text_and_fit(text: str) -> None:
    parts = sms_parts(text)
    assert "".join(parts) == text
    assert len(parts) == sms_segments(text)
    if len(parts) > 1:
        for part in parts:
            if is_gsm7(text):
                assert count_for("sms", part).used <= 153
            else:
                assert utf16_units(part) <= 67


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_counting_never_raises(text: str) -> None:
    for kind in CHANNEL_KINDS:
        assert count_for(kind, text).used >= 0
