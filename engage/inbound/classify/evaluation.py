"""Measuring the classifier on a labelled set of replies, per language.

The set is a TOML file with one table per language (``[en]``, ``[ar]``, …), each holding
``urgent = [...]`` and ``calm = [...]``: inline tables with ``text`` and the expected
``sentiment`` and (for calm replies) ``category``; urgent replies are expected to come out as
``emergency``. The project's own set is ``tests/engage/inbound/classify/eval_set.toml``;
``bench/classify.py`` prints these figures and a test asserts the targets on them.

Figures per language (:class:`LanguageScore`):

* **recall**: urgent replies flagged urgent / urgent replies;
* **false alarms**: calm replies flagged urgent / calm replies;
* **language**: replies whose detected language is the table's language / replies;
* **sentiment scored**: replies given positive/neutral/negative rather than "unknown", and
  **sentiment right**: of those, the share that match the expected label;
* **category right**: replies whose category matches the expected one.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from engage.inbound.classify.pipeline import classify_reply

RECALL_TARGET = 0.95
FALSE_ALARM_TARGET = 0.05


@dataclass(frozen=True)
class Case:
    language: str
    text: str
    urgent: bool
    sentiment: str
    category: str


@dataclass
class LanguageScore:
    language: str
    name: str
    urgent: int = 0
    flagged: int = 0
    calm: int = 0
    false_alarms: int = 0
    detected: int = 0
    sentiment_scored: int = 0
    sentiment_right: int = 0
    category_right: int = 0
    misses: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    misdetected: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.urgent + self.calm

    @property
    def recall(self) -> float:
        return self.flagged / self.urgent if self.urgent else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.calm if self.calm else 0.0

    @property
    def language_accuracy(self) -> float:
        return self.detected / self.total if self.total else 1.0

    @property
    def sentiment_coverage(self) -> float:
        return self.sentiment_scored / self.total if self.total else 0.0

    @property
    def sentiment_accuracy(self) -> float | None:
        """Of the replies given a label, the share right; None when none was given one."""
        return self.sentiment_right / self.sentiment_scored if self.sentiment_scored else None

    @property
    def category_accuracy(self) -> float:
        return self.category_right / self.total if self.total else 0.0

    @property
    def meets_targets(self) -> bool:
        return self.recall >= RECALL_TARGET and self.false_alarm_rate <= FALSE_ALARM_TARGET


def load_set(path: Path) -> tuple[dict[str, str], list[Case]]:
    """The language names and the cases of the set at ``path``."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    cases: list[Case] = []
    for language, table in data.items():
        names[language] = table.get("name", language)
        for entry in table.get("urgent", []):
            cases.append(Case(language, entry["text"], True, entry["sentiment"], entry.get("category", "emergency")))
        for entry in table.get("calm", []):
            cases.append(Case(language, entry["text"], False, entry["sentiment"], entry["category"]))
    return names, cases


def evaluate(names: dict[str, str], cases: list[Case]) -> dict[str, LanguageScore]:
    """Classify every case and count, per language (in the set's order)."""
    scores = {language: LanguageScore(language, name) for language, name in names.items()}
    for case in cases:
        score = scores[case.language]
        result = classify_reply(case.text)
        if case.urgent:
            score.urgent += 1
            if result.urgent:
                score.flagged += 1
            else:
                score.misses.append(case.text)
        else:
            score.calm += 1
            if result.urgent:
                score.false_alarms += 1
                score.alarms.append(f"{case.text}  <- {', '.join(result.urgent_terms)}")
        if result.language == case.language:
            score.detected += 1
        else:
            score.misdetected.append((case.text, result.language))
        if result.sentiment != "unknown":
            score.sentiment_scored += 1
            if result.sentiment == case.sentiment:
                score.sentiment_right += 1
        if result.category == case.category:
            score.category_right += 1
    return scores
