"""What the look-up tests of X, Facebook, Twilio and Mastodon share: a query around "now", the
check that an answer's detail quotes nothing, and texts as publish may send them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from platforms.base import LookupQuery, LookupResult, Payload


def query(payload: Payload, *, after: float = -60.0, before: float = 60.0) -> LookupQuery:
    """The call in ``payload`` went in flight ``after`` seconds from now and had ended ``before``
    seconds from now."""
    now = datetime.now(UTC)
    return LookupQuery(idempotency_key="lookup-key", payload=payload, sent_after=now + timedelta(seconds=after),
                       sent_before=now + timedelta(seconds=before))


def assert_safe(result: LookupResult, *texts: str) -> None:
    """The detail is a fixed sentence: none of the texts (in part), no phone number."""
    assert result.detail and len(result.detail) < 300
    for text in texts:
        for word in re.findall(r"\w{4,}", text):
            assert word not in result.detail, (word, result.detail)
    assert not re.search(r"\+?\d{7,}", result.detail), result.detail


_WORDS = st.sampled_from(["Road", "closed", "Stadium", "gates", "open", "6pm", "\u0645\u0631\u062d\u0628\u0627",
                          "\u05e9\u05dc\u05d5\u05dd", "\U0001f6a8", "\U0001f46e\u200d\u2640\ufe0f", "caf\u00e9",
                          "&", "<b>", "A&amp;E", "50%", "d\u00e9j\u00e0", "\u6f22\u5b57"])
_LINKS = st.sampled_from(["https://www.example.police.uk/news/road-closure?ref=a&b=2",
                          "http://example.org/a/very/long/path/indeed", "https://example.com"])
_TAGS = st.sampled_from(["#StaySafe", "#\u0645\u0631\u062d\u0628\u0627", "#Road_Closure"])


@st.composite
def post_texts(draw: st.DrawFn, *, max_words: int = 12) -> str:
    """Texts as publish may send them: words (RTL, emoji, markup-looking), links, hashtags, odd
    white space between them."""
    parts = draw(st.lists(st.one_of(_WORDS, _WORDS, _LINKS, _TAGS), min_size=1, max_size=max_words))
    gaps = draw(st.lists(st.sampled_from([" ", "  ", "\n", "\n\n", " \n"]), min_size=len(parts), max_size=len(parts)))
    text = "".join(part + gap for part, gap in zip(parts, gaps, strict=True)).strip()
    return text + " " + str(draw(st.integers(min_value=0, max_value=10**6)))  # X refuses duplicates
