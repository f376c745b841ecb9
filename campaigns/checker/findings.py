"""The checker's value types: what it is told and what it reports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from platforms.sms.counting import DEFAULT_MAX_SMS_SEGMENTS

__all__ = ["CheckerConfig", "Finding", "ImageInfo", "QUOTE_LIMIT", "Severity", "has_errors", "quoted"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One thing the checker noticed.

    ``code`` is stable (``length.x``, ``tone.jargon``, ``pii.phone``...) so teams can
    disable it. ``span`` is ``(start, end)`` character offsets into the body, or
    ``None`` when the finding is about the message as a whole.
    """

    code: str
    severity: Severity
    message: str
    span: tuple[int, int] | None = None
    count: int = 1  # how many times it was found (``campaigns.checker.grouping``: once per kind)
    hint: str = ""  # the plain alternative a jargon finding offers (kept when findings are grouped)


QUOTE_LIMIT = 40


def quoted(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` on one line, cut at a word boundary with "…" when longer than ``limit`` characters
    (a single longer word is cut inside it). What a finding quotes of the officer's text."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    space = cut.rfind(" ")
    head = cut[:space] if space > limit // 3 else text[:limit]
    return head.rstrip(" ,;:.-–—") + "…"


@dataclass(frozen=True)
class ImageInfo:
    """What the checker needs to know about an attached image."""

    alt_text: str


def _empty_mapping() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class CheckerConfig:
    """A team's checker settings.

    ``disabled`` holds finding codes, or code prefixes before a dot: ``"pii"``
    disables every ``pii.*`` code, ``"length.sms"`` only the SMS length check.
    ``extra_jargon`` adds ``{"phrase": "plain alternative"}`` pairs, ``extra_hostile``
    hostile words or phrases, and ``extra_acronyms`` upper-case words that are not
    shouting. ``reading_ease_min_words`` is the shortest text (in words) that gets a
    reading-ease score: shorter texts give meaningless scores.
    """

    disabled: frozenset[str] = frozenset()
    reading_ease_target: float = 60.0
    reading_ease_min_words: int = 10
    max_caps_ratio: float = 0.3
    caps_ratio_min_letters: int = 20
    max_exclamations: int = 1
    extra_jargon: Mapping[str, str] = field(default_factory=_empty_mapping)
    extra_hostile: frozenset[str] = frozenset()
    extra_acronyms: frozenset[str] = frozenset()
    max_sms_segments: int = DEFAULT_MAX_SMS_SEGMENTS
    min_alt_text_length: int = 5

    def is_enabled(self, code: str) -> bool:
        """False when ``code`` or one of its dotted prefixes is in ``disabled``."""
        if not self.disabled:
            return True
        parts = code.split(".")
        return not any(".".join(parts[:i]) in self.disabled for i in range(1, len(parts) + 1))


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any finding is an error (the message must not be sent as it is)."""
    return any(finding.severity == "error" for finding in findings)
