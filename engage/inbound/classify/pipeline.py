"""One call that classifies a citizen's reply: language, sentiment, category, urgency, personal data.

``classify_reply(text)`` runs, in order, :func:`~engage.inbound.classify.language.detect_language`,
:func:`~engage.inbound.classify.sentiment.score_sentiment`,
:func:`~engage.inbound.classify.category.classify_category`,
:func:`~engage.inbound.classify.urgency.detect_urgency` and :func:`core.pii.find_pii`, and
reconciles them in one place: a reply flagged urgent is an ``emergency`` whatever its keywords
said, unless it is *clearly* a crime report: the category rules chose ``crime_report`` with
confidence of at least :data:`CLEAR_CRIME_REPORT`, which needs crime cues that outweigh every
other cue put together (the confidence counts all categories' points), as in "my bag was
stolen yesterday by a thief with a knife, I want to report a theft". Such a reply keeps
``crime_report`` but stays ``urgent`` with its danger words, for the officer to see the knife.

Pure Python, no database, no network: safe to call from a Celery task or a test. After
:func:`warm_up` (or the first call, which loads langdetect's profiles, VADER's lexicon and the
word lists of ``lexicons/``, about 0.8 s) a 300-character reply takes a few milliseconds (about
15 ms when its language is unknown and every list is checked).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from core.pii import find_pii
from engage.inbound.classify import language as language_module
from engage.inbound.classify import sentiment as sentiment_module
from engage.inbound.classify.category import Rule, classify_category
from engage.inbound.classify.urgency import detect_urgency, lexicons

__all__ = ["CLEAR_CRIME_REPORT", "Classification", "classify_reply", "warm_up"]

CLEAR_CRIME_REPORT = 0.6
MAX_CHARS = 10_000  # the longest reply the webhooks accept; more is cut before classifying


@dataclass(frozen=True)
class Classification:
    language: str  # ISO 639-1 code or "unknown"
    sentiment: str  # "positive" | "neutral" | "negative" | "unknown"
    sentiment_score: float | None
    category: str  # one of engage.inbound.classify.category.CATEGORIES
    category_confidence: float
    urgent: bool
    urgent_terms: list[str] = field(default_factory=list)
    pii_kinds: list[str] = field(default_factory=list)  # sorted, each kind once


def warm_up() -> None:
    """Load the language profiles, the sentiment lexicon and the per-language word lists now
    (e.g. when a worker starts)."""
    language_module.warm_up()
    sentiment_module.warm_up()
    lexicons()


def classify_reply(text: str, *, rules: Mapping[str, Sequence[Rule]] | None = None) -> Classification:
    """Classify one reply. ``rules`` replaces the default category rules (see category.py)."""
    text = (text or "")[:MAX_CHARS]
    language = language_module.detect_language(text)
    mood = sentiment_module.score_sentiment(text, language)
    category = classify_category(text, language, rules=rules)
    urgency = detect_urgency(text, language)

    chosen, confidence = category.category, category.confidence
    if urgency.urgent:
        clearly_crime = chosen == "crime_report" and confidence >= CLEAR_CRIME_REPORT
        if not clearly_crime:
            # Confidence in "someone may be in danger" grows with the number of danger words.
            chosen = "emergency"
            confidence = round(max(confidence, min(0.95, 0.5 + 0.15 * len(urgency.matched))), 2)

    return Classification(
        language=language,
        sentiment=mood.label,
        sentiment_score=mood.score,
        category=chosen,
        category_confidence=confidence,
        urgent=urgency.urgent,
        urgent_terms=list(urgency.matched),
        pii_kinds=sorted({match.kind for match in find_pii(text)}),
    )
