"""Reading ease (Flesch and its published adaptations) for the plain-language rule.

Words and sentences are counted by textstat; syllables by Pyphen, the hyphenation
library textstat itself relies on. We do not call ``textstat.flesch_reading_ease``:

- for English, textstat 0.7.13 looks words up in NLTK's CMU dictionary, which is not
  installed and which it then tries to download at run time (no network in production;
  without the download it raises ``LookupError``);
- ``textstat.set_lang`` changes process-wide state, which is unsafe when threads check
  messages in different languages at once.

So the formula is applied here with the language's coefficients, which are the ones
textstat uses: Flesch (en), Amstad (de), Fernández Huerta (es), Kandel and Moles
(fr), Flesch-Vacca (it), Douma (nl) and Oborneva (ru). Other languages get no score
(``None``): textstat would silently use the English coefficients, which say nothing
valid about Polish, Arabic, Farsi or Tigrinya.

URLs, email addresses, @mentions and #hashtags are left out of the score. Texts of
fewer than ``min_words`` words get no score: one short sentence scores anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Final

from pyphen import Pyphen  # textstat's own syllable engine (a textstat dependency)

__all__ = ["FLESCH_COEFFICIENTS", "ReadingEase", "language_root", "reading_ease", "supports"]

# language: (base, per word in a sentence, per syllable in a word)
FLESCH_COEFFICIENTS: Final = MappingProxyType(
    {
        "en": (206.835, 1.015, 84.6),
        "de": (180.0, 1.0, 58.5),
        "es": (206.84, 1.02, 60.0),
        "fr": (207.0, 1.015, 73.6),
        "it": (217.0, 1.3, 60.0),
        "nl": (206.835, 0.93, 77.0),
        "ru": (206.835, 1.3, 60.1),
    }
)
_PYPHEN_LANGUAGE: Final = MappingProxyType({"en": "en_GB"})

# URLs, anything with an "@" (email addresses, mentions) and hashtags. Every repeated
# part can only start after a space or punctuation, so matching stays linear.
_NOT_PROSE_RE: Final = re.compile(
    r"(?:https?://|www\.)\S+|(?<!\S)[^\s@]*@\S*|(?<!\w)[@#][\w.]+", re.IGNORECASE
)
_SENTENCE_END_RE: Final = re.compile(r"(?<=[.!?…])\s+|\n+")
_WORD_RE: Final = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")


@dataclass(frozen=True)
class ReadingEase:
    score: float
    words: int
    sentences: int
    longest_sentence: tuple[int, int]  # span in the original text
    longest_sentence_words: int


def language_root(language: str) -> str:
    """``"en-GB"`` and ``"en_GB"`` give ``"en"``."""
    return language.replace("-", "_").split("_")[0].strip().lower()


def supports(language: str) -> bool:
    return language_root(language) in FLESCH_COEFFICIENTS


def reading_ease(text: str, *, language: str, min_words: int = 10) -> ReadingEase | None:
    """Flesch reading ease of ``text`` in ``language``, or ``None`` when it cannot be scored."""
    root = language_root(language)
    coefficients = FLESCH_COEFFICIENTS.get(root)
    if coefficients is None:
        return None
    prose = _NOT_PROSE_RE.sub(lambda m: " " * len(m.group()), text)
    sentences = _sentences(prose)
    if not sentences:
        return None

    import textstat  # imported here: it loads NLTK (0.3 s), which most importers never need

    words = textstat.lexicon_count(prose)
    sentence_count = sum(1 for _, _, count in sentences if count)
    if words < min_words or sentence_count == 0:
        return None
    syllables = sum(_syllables(root, word.lower()) for word in _WORD_RE.findall(prose))
    letter_words = len(_WORD_RE.findall(prose)) or 1
    base, per_sentence_word, per_syllable = coefficients
    score = base - per_sentence_word * (words / sentence_count) - per_syllable * (syllables / letter_words)
    start, end, longest = max(sentences, key=lambda s: s[2])
    return ReadingEase(
        score=round(score, 1),
        words=words,
        sentences=sentence_count,
        longest_sentence=(start, end),
        longest_sentence_words=longest,
    )


def _sentences(text: str) -> list[tuple[int, int, int]]:
    """(start, end, word count) of each sentence, trimmed of surrounding space."""
    found = []
    position = 0
    for m in _SENTENCE_END_RE.finditer(text):
        found.append((position, m.start()))
        position = m.end()
    found.append((position, len(text)))
    result = []
    for start, end in found:
        chunk = text[start:end]
        stripped = chunk.strip()
        if not stripped:
            continue
        start += len(chunk) - len(chunk.lstrip())
        end = start + len(stripped)
        result.append((start, end, len(_WORD_RE.findall(stripped))))
    return result


@lru_cache(maxsize=8)
def _hyphenator(root: str) -> Pyphen:
    return Pyphen(lang=_PYPHEN_LANGUAGE.get(root, root))


_LONGEST_HYPHENATED_WORD: Final = 40


@lru_cache(maxsize=20_000)
def _syllables(root: str, word: str) -> int:
    if len(word) > _LONGEST_HYPHENATED_WORD:
        return len(word) // 3  # not a real word; Pyphen slows down on very long strings
    return len(_hyphenator(root).positions(word)) + 1
