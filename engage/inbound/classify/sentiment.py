"""How a citizen's reply feels: positive, neutral, negative, or "unknown" when we cannot tell.

English uses VADER (``vaderSentiment``): a rule-based model with a human-rated lexicon that
ships inside the package and is read from disk; nothing is fetched (its module mentions
``requests`` only in a ``__main__`` demo that is never run here). Its ``compound`` score is in
[-1, 1]; we use VADER's own documented cut-offs, ±0.05.

Other languages get a deliberately small lexicon of words whose polarity is not in doubt
(thank-yous, "excellent", "disgraceful", "useless"…), kept with the language's danger words in
``lexicons/<language>.toml`` (``[sentiment]``): ar, fa, fr, es, de, pl, ro and uk from the first
version; cy, ur, ps, ckb, ru, so, ti, tr, pt and it drafted for issue 15, none reviewed by a
native speaker yet (bench/classify.py measures them); plus a few emoji for every language. A negator up to two words before a lexicon word flips and
weakens it (``pas bien``, ``غير مقبول``, ``nicht gut``); that also turns "no, thanks" negative,
one of the cases a word list gets wrong. The score is the summed weights squashed into
[-1, 1] the way VADER squashes its sum. This is a keyword count, not a model:
sarcasm, idioms and most negation escape it. When no lexicon word is found the answer is
``"unknown"`` (score ``None``), not ``"neutral"``: silence from a tiny lexicon says nothing.
Any other language is ``"unknown"``.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from engage.inbound.classify.text import fold
from engage.inbound.classify.urgency import ANY, lexicons

SentimentLabel = Literal["positive", "neutral", "negative", "unknown"]

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
_MAX_CHARS = 5000  # VADER is linear in length; longer replies do not change the mood much
_ALPHA = 15.0  # VADER's normalisation constant


@dataclass(frozen=True)
class Sentiment:
    label: SentimentLabel
    score: float | None  # in [-1, 1]; None when the label is "unknown"


# The word lists are data: the ``[sentiment]`` table of ``lexicons/<language>.toml`` (word =
# weight, in their usual spelling, folded like the text before comparing; "*" at the end matches
# any word that starts so), with the language's negators. Loaded with the danger lists.


# Emoji are language-free; only unambiguous ones (🔥 and 🙏 mean too many things).
EMOJI: dict[str, float] = {
    "👍": 1.5, "👏": 1.5, "❤": 2, "😊": 1.5, "🙂": 1, "😀": 1.5, "😃": 1.5, "🥰": 2, "💙": 2, "💪": 1,
    "👎": -1.5, "😡": -2, "🤬": -2.5, "😠": -2, "😢": -1.5, "😭": -1.5, "😞": -1.5, "💩": -2,
}

_TOKEN = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)?")

_analyzer: SentimentIntensityAnalyzer | None = None
_analyzer_lock = threading.Lock()


def _vader() -> SentimentIntensityAnalyzer:
    global _analyzer
    if _analyzer is None:
        with _analyzer_lock:
            if _analyzer is None:
                _analyzer = SentimentIntensityAnalyzer()
    return _analyzer


def warm_up() -> None:
    """Read VADER's lexicon now rather than on the first reply."""
    _vader()


def _label(score: float) -> SentimentLabel:
    if score >= POSITIVE_THRESHOLD:
        return "positive"
    if score <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


class _Lexicon:
    def __init__(self, words: Mapping[str, float], negators: frozenset[str]) -> None:
        self.exact: dict[str, float] = {}
        self.prefixes: list[tuple[str, float]] = []
        for word, weight in words.items():
            folded = fold(word).lower()
            if folded.endswith("*"):
                self.prefixes.append((folded[:-1], weight))
            else:
                self.exact[folded] = weight
        self.negators = frozenset(fold(word).lower() for word in negators)

    def weight(self, token: str) -> float | None:
        if token in self.exact:
            return self.exact[token]
        for prefix, weight in self.prefixes:
            if token.startswith(prefix):
                return weight
        return None


_LEXICON_CACHE: dict[str, _Lexicon] = {}


def scored_languages() -> list[str]:
    """The languages with a sentiment lexicon (English: VADER); every other one is "unknown"."""
    return ["en", *sorted(code for code, lexicon in lexicons().items() if lexicon.sentiment)]


def _lexicon(language: str) -> _Lexicon | None:
    cached = _LEXICON_CACHE.get(language)
    if cached is None:
        source = lexicons().get(language) if language != ANY else None
        if source is None or not source.sentiment:
            return None
        cached = _Lexicon(source.sentiment, frozenset(source.negators))
        _LEXICON_CACHE[language] = cached
    return cached


def _emoji_sum(text: str) -> tuple[float, int]:
    total = 0.0
    hits = 0
    for char in text:
        weight = EMOJI.get(char)
        if weight is not None:
            total += weight
            hits += 1
    return total, hits


def _lexicon_score(text: str, language: str) -> Sentiment:
    total, hits = _emoji_sum(text)
    lexicon = _lexicon(language)
    if lexicon is not None:
        tokens = [token.lower() for token in _TOKEN.findall(fold(text))]
        for index, token in enumerate(tokens):
            weight = lexicon.weight(token)
            if weight is None:
                continue
            hits += 1
            window = tokens[max(0, index - 2) : index]
            if any(previous in lexicon.negators for previous in window):
                weight = -weight * 0.75  # "pas bien" is weaker than "mauvais"
            total += weight
    if not hits:
        return Sentiment(label="unknown", score=None)
    score = total / math.sqrt(total * total + _ALPHA)
    return Sentiment(label=_label(score), score=round(score, 4))


def score_sentiment(text: str, language: str) -> Sentiment:
    """Sentiment of ``text`` written in ``language`` (an ISO 639-1 code or "unknown")."""
    if not text or not text.strip():
        return Sentiment(label="unknown", score=None)
    text = text[:_MAX_CHARS]
    if language == "en":
        compound = float(_vader().polarity_scores(text)["compound"])
        return Sentiment(label=_label(compound), score=round(compound, 4))
    return _lexicon_score(text, language)
