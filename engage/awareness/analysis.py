"""The pure part of reading a public post: mask it, classify it, pick its terms, its place and its
words for clustering. No database: the worker (``processing.py``) and the benchmark call it.

Masking (:func:`mask`): ``core.pii`` (phone numbers, emails, vehicle registrations, dates of birth,
addresses) and, on top, handles (``@name``, ``@name@instance``) and links, which the platform
readers already removed; a post is masked before anything of it is kept. Classification is the
replies' own: language (the platform's, else :func:`~engage.inbound.classify.language.detect_language`),
sentiment and the danger detector (:func:`~engage.inbound.classify.urgency.detect_urgency`).

Top terms drop what could point at a person: masked spans, handles, numbers (phone numbers,
house numbers), words that carry a digit, stop words, and words written with a capital inside a
sentence (names: "Jane", "Kowalski") unless the event's own words (its name, place and hashtags)
include them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from core.pii import mask_pii
from engage.inbound.classify.language import detect_language
from engage.inbound.classify.sentiment import score_sentiment
from engage.inbound.classify.urgency import detect_urgency

_HANDLE = re.compile(r"(?<![\w/])@[\w.\-]+(?:@[\w.\-]+\.\w+)?")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_][\w'’\-]*", re.UNICODE)
_MASKED = re.compile(r"\[(?:phone|email|vehicle_registration|date_of_birth|address|handle|link)\]")
# Places inside an event: "gate 3", "north stand", "turnstile B", "car park 2", "platform 4".
_PLACE = re.compile(
    r"\b(?:(?:north|south|east|west|main|upper|lower)\s+(?:stand|gate|entrance|exit|concourse|terrace)"
    r"|(?:gate|entrance|exit|stand|turnstile|car\s+park|platform|block|section|stage|zone|bridge)\s+[A-Za-z0-9]{1,3})\b",
    re.IGNORECASE)
STOP_WORDS = frozenset("""
a about after again all also am an and any are as at be been before being but by can could did do does doing
down for from had has have he her here him his how i if in into is it its just me more most my no not now of
off on once only or other our out over own same she should so some such than that the their them then there
these they this those through to too under until up very was we were what when where which while who why will
with would you your yours i'm it's don't can't we're they're there's rt via amp just get got one still like
""".split())
PLACE_WORDS = frozenset({"gate", "entrance", "exit", "stand", "turnstile", "car", "park", "platform", "block",
                         "section", "stage", "zone", "bridge", "north", "south", "east", "west", "main", "upper",
                         "lower", "concourse", "terrace"})


@dataclass(frozen=True)
class Reading:
    text: str  # masked
    language: str
    sentiment: str
    danger_terms: list[str] = field(default_factory=list)
    place: str = ""
    terms: list[str] = field(default_factory=list)  # candidate top terms (names and numbers dropped)
    tokens: frozenset[str] = frozenset()  # normalised words for near-duplicate matching


def mask(text: str) -> str:
    text = _URL.sub("[link]", text or "")
    text = _HANDLE.sub("[handle]", text)
    return mask_pii(text)


def _sentence_starts(text: str) -> set[int]:
    starts = {0}
    for found in re.finditer(r"[.!?\n]\s*", text):
        starts.add(found.end())
    return starts


def terms_of(text: str, *, allowed: frozenset[str] = frozenset()) -> list[str]:
    """The words of a masked text that may be counted as top terms (lower case, each once)."""
    clean = _MASKED.sub(" ", text)
    starts = _sentence_starts(clean)
    found: list[str] = []
    for word in _WORD.finditer(clean):
        raw = word.group(0).strip("'’-")
        lower = raw.lower()
        if len(lower) < 3 or lower in STOP_WORDS or lower in found:
            continue
        previous = clean[:word.start()].rstrip()
        after_hash = previous.endswith("#") or clean[max(0, word.start() - 1):word.start()] == "#"
        if raw[:1].isupper() and word.start() not in starts and not after_hash and lower not in allowed:
            continue  # a capitalised word inside a sentence: likely a name
        found.append(lower)
    return found


def tokens_of(text: str) -> frozenset[str]:
    clean = _MASKED.sub(" ", text).lower()
    return frozenset(w for w in (m.group(0).strip("'’-") for m in _WORD.finditer(clean))
                     if len(w) >= 3 and w not in STOP_WORDS)


def place_of(text: str) -> str:
    found = _PLACE.search(text)
    return re.sub(r"\s+", " ", found.group(0).lower()) if found else ""


def jaccard(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def read_post(text: str, language: str = "", *, allowed: frozenset[str] = frozenset()) -> Reading:
    masked = mask(text)
    lang = language or detect_language(masked)
    mood = score_sentiment(masked, lang)
    danger = detect_urgency(masked, lang)
    return Reading(text=masked, language=lang or "unknown", sentiment=mood.label, danger_terms=list(danger.matched),
                   place=place_of(masked), terms=terms_of(masked, allowed=allowed), tokens=tokens_of(masked))


def allowed_words(*phrases: Iterable[str] | str) -> frozenset[str]:
    """The event's own words (name, location, hashtags): capitalised there, still counted."""
    words: set[str] = set(PLACE_WORDS)
    for phrase in phrases:
        for part in ([phrase] if isinstance(phrase, str) else phrase):
            words |= {w.lower() for w in _WORD.findall(str(part))}
    return frozenset(words)


def top(counter: Counter[str], n: int) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:n])
