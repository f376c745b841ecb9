"""SMS segments, encodings and cost (platforms.sms.counting)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from platforms.counting import count_for
from platforms.sms.counting import (
    is_gsm7,
    non_gsm_characters,
    sms_cost,
    sms_encoding,
    sms_parts,
    sms_segments,
)
from platforms.textcount import utf16_units

GSM_BASIC_SAMPLE = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡AZÄÖÑÜ§¿azäöñüà"
GSM_EXTENSION = "\f^{}\\[~]|€"

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
