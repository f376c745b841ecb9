"""Counting by channel kind (platforms.counting): every kind, unknown kinds, overflow."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from platforms.counting import CHANNEL_KINDS, count_for, first_overflow_index


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


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_counting_never_raises(text: str) -> None:
    for kind in CHANNEL_KINDS:
        assert count_for(kind, text).used >= 0
