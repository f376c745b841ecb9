"""Sorting a reply into one category with editable keyword rules.

Categories (:data:`CATEGORIES`): ``question``, ``information`` (a tip), ``complaint``,
``praise``, ``rumour`` (someone reporting or asking about misinformation), ``emergency``
(someone in danger), ``crime_report``, ``abuse`` and ``spam``.

Every rule for the reply's language, plus the language-free rules under ``"*"`` (a question
mark is a question cue, links lean towards spam), adds its weight to its category once if it
matches. The category with the most points wins; ties go to the more serious category, in the
order of :data:`PRIORITY`. When the language has no rules of its own (or is ``"unknown"``),
the rules of every language are tried, since a short reply in any language is better matched
than ignored.

This is keyword matching, not understanding. It misses paraphrase and sarcasm, and a reply
with no cue at all comes back as ``information`` with confidence 0.0 and nothing matched:
the nearest of the nine to "a comment", and a signal for triage that nothing was recognised.

``confidence`` is ``winner / (all points + 1)``, rounded to two places: 0.5 for one ordinary
cue, higher with more cues for the same category, lower when other categories also scored.
It orders replies; it is not a calibrated probability.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from engage.inbound.classify.category_rules import CATEGORIES, DEFAULT_RULES, Rule
from engage.inbound.classify.text import compile_folded, fold_with_offsets

__all__ = ["CATEGORIES", "DEFAULT_RULES", "PRIORITY", "CategoryResult", "Rule", "classify_category"]

# Ties go to the first of these: a person in danger must not lose to a thank-you.
PRIORITY: tuple[str, ...] = (
    "emergency",
    "crime_report",
    "abuse",
    "rumour",
    "complaint",
    "question",
    "information",
    "praise",
    "spam",
)
DEFAULT_CATEGORY = "information"
_MAX_CHARS = 10_000
_MAX_MATCHES_PER_RULE = 5


@dataclass(frozen=True)
class CategoryResult:
    category: str
    confidence: float  # 0.0-1.0, see the module docstring
    matched: list[str] = field(default_factory=list)  # the reply's own words that decided it


def _rules_for(language: str, rules: Mapping[str, Sequence[Rule]]) -> list[Rule]:
    selected: list[Rule] = list(rules.get("*", ()))
    own = rules.get(language)
    if own:
        selected.extend(own)
        return selected
    seen: set[int] = set()
    for key, group in rules.items():
        if key == "*" or id(group) in seen:
            continue
        seen.add(id(group))
        selected.extend(group)
    return selected


def classify_category(
    text: str,
    language: str,
    *,
    rules: Mapping[str, Sequence[Rule]] | None = None,
) -> CategoryResult:
    """The most likely category of ``text`` written in ``language`` (an ISO 639-1 code).

    ``rules`` replaces :data:`DEFAULT_RULES` entirely when given (merge them yourself to extend:
    ``{**DEFAULT_RULES, "en": DEFAULT_RULES["en"] + mine}``).
    """
    folded = fold_with_offsets((text or "")[:_MAX_CHARS])
    if not folded.text.strip():
        return CategoryResult(category=DEFAULT_CATEGORY, confidence=0.0, matched=[])
    scores: dict[str, float] = {}
    matched: dict[str, list[str]] = {}
    for rule in _rules_for(language, DEFAULT_RULES if rules is None else rules):
        hits = folded.find_all(compile_folded(rule.pattern))
        if not hits:
            continue
        scores[rule.category] = scores.get(rule.category, 0.0) + rule.weight
        words = matched.setdefault(rule.category, [])
        for hit in hits[:_MAX_MATCHES_PER_RULE]:
            hit = hit.strip()
            if hit and hit not in words:
                words.append(hit)
    if not scores:
        return CategoryResult(category=DEFAULT_CATEGORY, confidence=0.0, matched=[])
    best = max(scores.values())
    winner = next(category for category in PRIORITY if scores.get(category) == best)
    confidence = round(best / (sum(scores.values()) + 1.0), 2)
    return CategoryResult(category=winner, confidence=confidence, matched=matched[winner])
