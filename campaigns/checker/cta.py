"""``cta.missing``: an instructive message should tell people what to do (English only)."""

from __future__ import annotations

import re

from campaigns.checker.tone import phrase_pattern
from campaigns.checker.wordlists import CTA_IMPERATIVES, CTA_PHRASES
from core.pii import find_pii

__all__ = ["has_call_to_action"]

_LINK_RE = re.compile(
    r"(?:https?://|www\.)\S+|(?<![\w.-])[\w.-]+\.(?:police\.uk|gov\.uk|nhs\.uk)\b", re.IGNORECASE
)
_SERVICE_NUMBER_RE = re.compile(r"(?<![\w.])(?:999|101|111|112|105|116 ?\d{3}|0800[ \d]{6,8}\d)(?![\w.])")
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_CONNECTORS = frozenset({"and", "so", "then", "or", "please", "just", "also", "now", "but"})


def has_call_to_action(body: str) -> bool:
    if _LINK_RE.search(body) or _SERVICE_NUMBER_RE.search(body):
        return True
    if phrase_pattern(CTA_PHRASES).search(body):
        return True
    if any(match.kind in ("phone", "email") for match in find_pii(body)):
        return True
    previous_word = ""
    previous_end = 0
    for m in _WORD_RE.finditer(body):
        word = m.group().lower().replace("’", "'")
        if word in CTA_IMPERATIVES or m.group().lower() in CTA_IMPERATIVES:
            gap = body[previous_end : m.start()]
            at_boundary = previous_end == 0 or any(not ch.isspace() for ch in gap)
            if at_boundary or previous_word in _CONNECTORS:
                return True
        previous_word = word
        previous_end = m.end()
    return False
