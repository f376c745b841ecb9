"""Tone rules: shouting, exclamation marks, hostile wording and police jargon.

Shouting and exclamation marks work in any language with upper and lower case;
hostile wording and jargon use the English lists in ``wordlists``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from django.utils.translation import gettext, ngettext

from campaigns.checker import wordlists
from campaigns.checker.findings import CheckerConfig, Finding, quoted

__all__ = ["check_exclamations", "check_hostile", "check_jargon", "check_shouting", "phrase_pattern"]

_WORD_RE = re.compile(r"[^\W\d_]+(?:[&'’][^\W\d_]+)*")
_EXCLAMATION_RE = re.compile(r"[!！]+")
_GENDER_RE = re.compile(r"(?<![\w'’\-])(?:fe)?males?(?![\w'’\-])", re.IGNORECASE)
_NEXT_WORD_RE = re.compile(r"\s*([^\W\d_]+(?:['’][^\W\d_]+)?)")
_MIN_SHOUTING_LETTERS = 4


@lru_cache(maxsize=64)
def phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """A case-insensitive whole-word pattern matching any of ``phrases``, longest first."""
    alternatives = sorted({p.strip().lower() for p in phrases if p.strip()}, key=len, reverse=True)
    if not alternatives:
        return re.compile(r"(?!x)x")  # matches nothing
    body = "|".join(r"\s+".join(re.escape(part) for part in phrase.split()) for phrase in alternatives)
    return re.compile(rf"(?<![\w'’])(?:{body})(?![\w'’])", re.IGNORECASE)


def _normalise_phrase(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())


def _is_caps_word(word: str) -> bool:
    return word.isupper()


# -- shouting ---------------------------------------------------------------------------------------


def check_shouting(*, body: str, config: CheckerConfig) -> list[Finding]:
    acronyms = wordlists.ACRONYMS | {a.upper() for a in config.extra_acronyms}
    findings: list[Finding] = []
    for start, end, shouting in _caps_runs(body, acronyms):
        if shouting:
            findings.append(
                Finding(
                    code="tone.shouting",
                    severity="warning",
                    message=gettext("Capitals read as shouting: “%(text)s”. Use sentence case.")
                    % {"text": quoted(body[start:end])},
                    span=(start, end),
                )
            )
    if findings:
        return findings
    upper = sum(1 for ch in body if ch.isupper())
    cased = upper + sum(1 for ch in body if ch.islower())
    if cased >= config.caps_ratio_min_letters and upper / cased > config.max_caps_ratio:
        findings.append(
            Finding(
                code="tone.shouting",
                severity="warning",
                message=gettext("%(share)s%% of the letters are capitals (at most %(most)s%%). Use sentence case.")
                % {"share": round(100 * upper / cased), "most": round(100 * config.max_caps_ratio)},
                span=None,
            )
        )
    return findings


def _caps_runs(body: str, acronyms: frozenset[str]) -> Iterable[tuple[int, int, bool]]:
    """Runs of consecutive upper-case words on one line: (start, end, contains shouting)."""
    run_start = run_end = -1
    shouting = False
    for m in _WORD_RE.finditer(body):
        word = m.group()
        if not _is_caps_word(word):
            if run_start >= 0:
                yield run_start, run_end, shouting
            run_start, shouting = -1, False
            continue
        if run_start >= 0 and "\n" in body[run_end : m.start()]:
            yield run_start, run_end, shouting
            run_start, shouting = -1, False
        if run_start < 0:
            run_start = m.start()
        run_end = m.end()
        letters = sum(1 for ch in word if ch.isalpha())
        if letters >= _MIN_SHOUTING_LETTERS and word.upper() not in acronyms:
            shouting = True
    if run_start >= 0:
        yield run_start, run_end, shouting


# -- exclamation marks ----------------------------------------------------------------------------


def check_exclamations(*, body: str, config: CheckerConfig) -> list[Finding]:
    """One finding at most: the runs of repeated marks ("4 runs of “!!!”"), and too many marks in all."""
    groups = list(_EXCLAMATION_RE.finditer(body))
    runs = [m for m in groups if len(m.group()) > 1]
    sentences = []
    span = None
    if runs:
        shown = list(dict.fromkeys(m.group() for m in sorted(runs, key=lambda m: -len(m.group()))))[:3]
        marks = ", ".join(f"“{mark}”" for mark in shown)
        sentences.append(ngettext("Repeated exclamation marks %(marks)s: one is enough, or none.",
                                  "%(n)s runs of repeated exclamation marks (%(marks)s): one is enough, or none.",
                                  len(runs)) % {"n": len(runs), "marks": marks})
        span = (runs[0].start(), runs[0].end())
    if len(groups) > config.max_exclamations:
        sentences.append(ngettext("%(n)s exclamation mark; use at most %(most)s. Calm, factual wording is "
                                  "trusted more.",
                                  "%(n)s exclamation marks; use at most %(most)s. Calm, factual wording is "
                                  "trusted more.", len(groups)) % {"n": len(groups), "most": config.max_exclamations})
        if span is None:
            extra = groups[config.max_exclamations]
            span = (extra.start(), extra.end())
    if not sentences:
        return []
    return [Finding(code="tone.exclamations", severity="warning", message=" ".join(sentences), span=span,
                    count=max(len(runs), 1))]


# -- hostile wording ---------------------------------------------------------------------------------


def check_hostile(*, body: str, config: CheckerConfig) -> list[Finding]:
    pattern = phrase_pattern(tuple(sorted(wordlists.HOSTILE | config.extra_hostile)))
    return [
        Finding(
            code="tone.hostile",
            severity="warning",
            message=gettext("Hostile or blaming wording: “%(text)s”. Describe the behaviour and say what people "
                            "should do.") % {"text": quoted(m.group())},
            span=(m.start(), m.end()),
        )
        for m in pattern.finditer(body)
    ]


# -- jargon ---------------------------------------------------------------------------------------


def check_jargon(*, body: str, config: CheckerConfig) -> list[Finding]:
    jargon = {_normalise_phrase(k): v for k, v in wordlists.JARGON.items()}
    jargon.update({_normalise_phrase(k): v for k, v in config.extra_jargon.items()})
    pattern = phrase_pattern(tuple(sorted(jargon)))
    findings = [
        _jargon_finding(body, m.start(), m.end(), jargon.get(_normalise_phrase(m.group()), ""))
        for m in pattern.finditer(body)
    ]
    for m in _GENDER_RE.finditer(body):
        if _used_as_noun(body, m):
            findings.append(
                _jargon_finding(body, m.start(), m.end(), wordlists.GENDER_NOUNS[m.group().lower()])
            )
    findings.sort(key=lambda f: f.span or (0, 0))
    return findings


def _jargon_finding(body: str, start: int, end: int, alternative: str) -> Finding:
    if alternative:
        message = gettext("Police jargon: “%(text)s”. Try “%(plain)s”.") % {"text": quoted(body[start:end]),
                                                                          "plain": alternative}
    else:
        message = gettext("Police jargon: “%(text)s”.") % {"text": quoted(body[start:end])}
    return Finding(code="tone.jargon", severity="warning", message=message, span=(start, end), hint=alternative)


def _used_as_noun(body: str, m: re.Match[str]) -> bool:
    """Plural forms always; "male" when followed by punctuation, the end, or a verb-like word."""
    if m.group().lower().endswith("s"):
        return True
    rest = body[m.end() :]
    stripped = rest.lstrip(" \t")
    if not stripped or stripped[0] in ",.;:!?)\n—–-":
        return True
    following = _NEXT_WORD_RE.match(rest)
    if not following:
        return False
    word = following.group(1).lower()
    if word in {"and", "or"}:
        # "male and female officers": an adjective pair, judged by what follows the pair.
        after = _NEXT_WORD_RE.match(rest, following.end())
        if after and after.group(1).lower() in {"male", "female"}:
            return False
    return word in wordlists.GENDER_NOUN_FOLLOWERS
