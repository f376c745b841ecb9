"""Is someone in danger? Danger words, one reviewed data file per language.

``detect_urgency(text, language)`` flags a reply for immediate attention when it contains a
danger term: a lost child, not breathing, a crowd crush, a collapse or fit, injuries, weapons,
fire, bleeding, drowning, being trapped, calls for help, explosions.

The terms are data, not code: ``lexicons/<language>.toml`` (packaged with the code), one file
per language, each with an ``[about]`` table saying who drafted it, who reviewed it and when
(``reviewed_by = ""`` where no native speaker has yet), and its terms:

* ``[danger]``: concept = list of *phrases*, written as people write them. Words are matched
  whole, case-insensitively, on folded text (:mod:`engage.inbound.classify.text`: accents,
  Arabic-script letter variants, Ethiopic homophone rows do not matter). In a phrase, ``*`` at
  the end (or start) of a word stands for any ending (or beginning): ``lost*``, ``*ضايع``;
  ``'`` is optional (``can't`` also matches ``cant``); ``_`` is an optional space or
  zero-width non-joiner (``نمی_کشه``); a space is any run of spaces.
* ``[danger_patterns]``: concept = list of regular expressions, for what a phrase cannot say.
* ``[calm] phrases``: phrases that share a word with danger but are not danger ("fireworks",
  "thank you for your help", "ceasefire"). They are blanked out before the danger terms are
  matched, so "thanks for your help, but he is not breathing" is still flagged.
* ``[sentiment]``: ``negators`` and ``[sentiment.words]`` (word = weight), the language's small
  sentiment lexicon, read by :mod:`engage.inbound.classify.sentiment`.
* ``[about] clitics``: a regular expression for particles attached in front of words (Arabic
  ``و ف ب ل ال``), tried before every phrase of that file.
* ``[about] also_serves``: other language codes this list is for (``am`` for the Ethiopic list);
  ``check_with``: lists that are checked together with this one because language detection
  cannot always tell them apart (Arabic, Farsi, Urdu, Pashto and Sorani; Ukrainian and Russian).

Which lists are checked: ``any.toml`` (SOS, 🆘, emergency numbers) and English always (people
switch to English for "help" and "SOS"), then the reply's language and its ``check_with``; when
the language is ``"unknown"`` or has no list, every list is.

Design choices, kept from the first version:

* **False positives over misses.** A liaison officer can dismiss a flag in seconds; a missed
  crush report cannot be undone.
* **Negation is not understood.** "No one was injured" is flagged. "No one is helping, he is not
  breathing" must flag, and a negation rule would risk that.

``matched`` lists the reply's own words that triggered the flag, for the officer to see.
``lexicon_reviews()`` says, per language, what review its list has had (bench/classify.py
prints it).
"""

from __future__ import annotations

import re
import threading
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from engage.inbound.classify.text import compile_folded, fold, fold_with_offsets

__all__ = ["ANY", "UrgencyResult", "Lexicon", "detect_urgency", "lexicons", "lexicon_reviews", "phrase_pattern"]

_MAX_CHARS = 10_000
ANY = "*"
_REVIEW_KEYS = ("status", "reviewed_by", "reviewed_on", "drafted_by", "drafted_on")


@dataclass(frozen=True)
class UrgencyResult:
    urgent: bool
    matched: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Lexicon:
    """One language's danger terms, compiled."""

    language: str
    name: str
    serves: tuple[str, ...]  # the language codes this list is for (its own first)
    check_with: tuple[str, ...]
    about: dict[str, str]
    danger: tuple[tuple[re.Pattern[str], str], ...]  # (pattern, a literal it needs, "" when unknown)
    calm: tuple[re.Pattern[str], ...]
    phrases: tuple[str, ...]  # every danger phrase as written, for reviewers and tests
    sentiment: dict[str, float] = field(default_factory=dict)  # [sentiment.words], read by sentiment.py
    negators: tuple[str, ...] = ()  # [sentiment] negators


def phrase_pattern(phrase: str, clitics: str = "") -> str:
    """The regular expression for one lexicon phrase (see the module docstring)."""
    words = [word for word in phrase.strip().split(" ") if word]
    if not words:
        raise ValueError("An empty phrase in a lexicon.")
    parts = []
    for word in words:
        lead = word.startswith("*")
        tail = word.endswith("*")
        core = word.strip("*")
        if not core:
            raise ValueError(f"A lexicon word with no letters: {phrase!r}")
        body = "".join(
            "'?" if char == "'" else r"[ \u200c]?" if char == "_" else re.escape(char) for char in core
        )
        parts.append((r"\w*" if lead else "") + body + (r"\w*" if tail else ""))
    start = r"(?<!\w)" + (f"(?:{clitics})?" if clitics else "")
    return start + r"\s+".join(parts) + r"(?!\w)"


def _needed_literal(phrase: str) -> str:
    """Letters a phrase's match must contain (folded, lower case): a quick test before the regex."""
    first = phrase.strip().split(" ")[0].strip("*")
    runs = re.split(r"['_*]", first)
    return fold(max(runs, key=len)).lower()


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return compile_folded(pattern)
    except re.error as error:
        raise ValueError(f"{where}: invalid pattern {pattern!r}: {error}") from error


def _load(name: str, text: str) -> Lexicon:
    data = tomllib.loads(text)
    about = data.get("about", {})
    language = about.get("language")
    if not language:
        raise ValueError(f"lexicons/{name}: [about] language is missing")
    missing = [key for key in _REVIEW_KEYS if key not in about]
    if missing:
        raise ValueError(f"lexicons/{name}: [about] must say {', '.join(missing)} (empty when none)")
    clitics = about.get("clitics", "")
    danger: list[tuple[re.Pattern[str], str]] = []
    phrases: list[str] = []
    for concept, entries in data.get("danger", {}).items():
        for phrase in entries:
            phrases.append(phrase)
            compiled = _compile(phrase_pattern(phrase, clitics), f"lexicons/{name} [danger] {concept}")
            danger.append((compiled, _needed_literal(phrase)))
    for concept, entries in data.get("danger_patterns", {}).items():
        for pattern in entries:
            danger.append((_compile(pattern, f"lexicons/{name} [danger_patterns] {concept}"), ""))
    calm = [
        _compile(phrase_pattern(phrase, clitics), f"lexicons/{name} [calm]")
        for phrase in data.get("calm", {}).get("phrases", [])
    ]
    return Lexicon(
        language=language,
        name=about.get("name", language),
        serves=(language, *about.get("also_serves", [])),
        check_with=tuple(about.get("check_with", [])),
        about={key: str(about.get(key, "")) for key in (*_REVIEW_KEYS, "notes")},
        danger=tuple(danger),
        calm=tuple(calm),
        phrases=tuple(phrases),
        sentiment={str(word): float(weight) for word, weight in data.get("sentiment", {}).get("words", {}).items()},
        negators=tuple(data.get("sentiment", {}).get("negators", [])),
    )


_lock = threading.Lock()
_loaded: dict[str, Lexicon] | None = None


def lexicons() -> dict[str, Lexicon]:
    """Every lexicon, by each language code it serves (``"*"`` for the language-free one)."""
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                found: dict[str, Lexicon] = {}
                folder = resources.files("engage.inbound.classify").joinpath("lexicons")
                for entry in sorted(folder.iterdir(), key=lambda item: item.name):
                    if not entry.name.endswith(".toml"):
                        continue
                    lexicon = _load(entry.name, entry.read_text(encoding="utf-8"))
                    for code in lexicon.serves:
                        if code in found:
                            raise ValueError(f"lexicons/{entry.name}: {code!r} already has a list")
                        found[code] = lexicon
                _loaded = found
    return _loaded


def lexicon_reviews() -> dict[str, str]:
    """Per language code, a one-line account of its list's review."""
    out = {}
    for code, lexicon in lexicons().items():
        about = lexicon.about
        if about["reviewed_by"]:
            out[code] = f"reviewed by {about['reviewed_by']} on {about['reviewed_on']}"
        else:
            out[code] = about["status"] or "not reviewed"
    return out


@lru_cache(maxsize=128)
def _selected(language: str) -> tuple[tuple[tuple[re.Pattern[str], str], ...], tuple[re.Pattern[str], ...]]:
    """The danger and calm patterns to try for a reply in ``language``."""
    table = lexicons()
    chosen: list[Lexicon] = []

    def add(code: str) -> None:
        lexicon = table.get(code)
        if lexicon is not None and lexicon not in chosen:
            chosen.append(lexicon)

    add(ANY)
    add("en")
    own = table.get(language) if language != ANY else None
    if own is None:
        for lexicon in table.values():
            add(lexicon.language)
    else:
        add(language)
        for code in own.check_with:
            add(code)
    danger = tuple(pattern for lexicon in chosen for pattern in lexicon.danger)
    calm = tuple(pattern for lexicon in chosen for pattern in lexicon.calm)
    return danger, calm


def _blank(text: str, patterns: tuple[re.Pattern[str], ...]) -> str:
    """``text`` with every match of ``patterns`` replaced by spaces (same length, same offsets)."""
    for pattern in patterns:
        text = pattern.sub(lambda match: " " * len(match.group()), text)
    return text


def detect_urgency(text: str, language: str) -> UrgencyResult:
    """Whether ``text`` (in ``language``, a language code or "unknown") reports someone in danger."""
    folded = fold_with_offsets((text or "")[:_MAX_CHARS])
    if not folded.text.strip():
        return UrgencyResult(urgent=False, matched=[])
    danger, calm = _selected(language)
    searched = _blank(folded.text, calm)
    lowered = searched.lower()
    matched: list[str] = []
    for pattern, literal in danger:
        if literal and literal not in lowered:
            continue  # a phrase whose letters are not in the reply at all: skip its regex
        for found in pattern.finditer(searched):
            if found.end() <= found.start():
                continue
            hit = folded.original(found.start(), found.end()).strip()
            if hit and hit not in matched:
                matched.append(hit)
    return UrgencyResult(urgent=bool(matched), matched=matched)

