"""The text comparison and time parsing every platform look-up shares (platforms/lookup.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from platforms.base import LookupQuery, Payload
from platforms.lookup import (
    CLOCK_SKEW,
    LINK,
    Match,
    Window,
    decide,
    html_text,
    normalise,
    parse_time,
    same_text,
)


def test_links_white_space_and_unicode_forms_are_compared_as_the_platforms_show_them():
    assert same_text("See https://example.org/a?b=1 now", "See https://t.co/abc123XYZ0   now")
    assert same_text("Caf\u00e9\n\n#Tag", "Cafe\u0301 #Tag")  # NFC, line breaks
    assert not same_text("See https://example.org/a now", "See now")
    assert not same_text("A&amp;E", "A&E")  # our side is never unescaped: the platform's side is made plain first
    assert normalise("x www.example.org y") == f"x {LINK} y"


def test_mastodon_html_is_made_plain():
    content = ('<p>Road &amp; rail &lt;closed&gt;<br />until 6pm</p><p><a href="https://example.org/very/long">'
               '<span class="invisible">https://</span><span class="ellipsis">example.org/ve</span>'
               '<span class="invisible">ry/long</span></a> <a href="https://m.example/tags/a" class="mention hashtag" '
               'rel="tag">#<span>A</span></a></p>')
    assert normalise(html_text(content)) == f"Road & rail <closed> until 6pm {LINK} #A"


@given(st.text())
def test_normalising_twice_changes_nothing(text):
    assert normalise(normalise(text)) == normalise(text)


def test_every_platform_s_time_format_is_read():
    moment = datetime(2026, 12, 4, 22, 0, 5, tzinfo=UTC)
    for value in ("2026-12-04T22:00:05.000Z", "2026-12-04T22:00:05+0000", "2026-12-04T22:00:05+00:00",
                  "Fri, 04 Dec 2026 22:00:05 +0000"):
        assert parse_time(value) == moment, value
    for value in (None, "", "yesterday", 12, "2026-13-40T00:00:00Z"):
        assert parse_time(value) is None


def test_the_window_is_widened_by_the_clock_skew_only():
    start, end = datetime(2026, 12, 4, 22, 0, tzinfo=UTC), datetime(2026, 12, 4, 22, 5, tzinfo=UTC)
    window = Window.of(LookupQuery("k", Payload(text="x"), start, end))
    assert window.holds(start - CLOCK_SKEW) and window.holds(end + CLOCK_SKEW)
    assert not window.holds(start - CLOCK_SKEW * 2) and not window.holds(end + CLOCK_SKEW * 2)
    assert not window.holds(None)


def test_the_answer_for_a_listing():
    one = [Match("1", "https://x/1")]
    assert decide("X", "posts", one, complete=True, listed=3).state == "found"
    assert decide("X", "posts", one, complete=False, listed=3).state == "unknown"  # pages not read may hold a second
    assert decide("X", "posts", [], complete=True, listed=3).state == "absent"
    assert decide("X", "posts", [], complete=False, listed=3).state == "unknown"
    assert decide("X", "posts", one * 2, complete=True, listed=3).state == "unknown"
