"""Folding text for rule matching, with a way back to the original characters.

Rules (category keywords, danger words) are matched against a *folded* copy of the reply so
that one pattern covers the common ways people type the same word:

* compatibility decomposition (NFKD) with combining marks dropped: ``é → e``, ``ż → z``,
  ``ș``/``ş → s``, Arabic ``أ إ آ → ا`` and harakat removed, ``й → и``, ``ї → і``;
* letters that NFKD keeps apart but people swap freely: ``ł → l``, ``ß → ss``, Arabic/Persian
  ``ی → ي``, ``ی``/``ى → ي``, ``ک → ك``, ``ة → ه``; the Urdu, Pashto and Sorani forms of heh,
  yeh, waw, lam, reh and gaf to the Persian/Arabic ones (``ہ ھ ە → ه``, ``ے ێ ې ۍ → ي``,
  ``ۆ → و``, ``ڵ → ل``, ``ڕ → ر``, ``ګ → گ``); the Ethiopic rows that sound alike
  (``ሠ → ሰ``, ``ፀ → ጸ``, ``ኀ → ሀ``, every vowel order); Arabic-Indic and Persian digits to ASCII;
* typographic apostrophes to ``'``; format characters (zero-width joiners and non-joiners,
  bidi marks) and the Arabic tatweel removed.

Patterns are folded with the same function before they are compiled, so a rule may be written
with its accents (``écrasé``) and still match text typed without them (``ecrase``), and the
other way round. Case is handled by ``re.IGNORECASE``, not by folding, because lower-casing a
regular expression would change ``\\S`` into ``\\s``.

Folding is one character at a time, so every folded character remembers the index of the
character it came from; :meth:`Folded.original` uses that to report what the citizen actually
wrote rather than the folded form.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_EXTRA = {
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "ø": "o",
    "Ø": "O",
    "ı": "i",
    "\u06cc": "\u064a",  # Persian yeh -> Arabic yeh
    "\u0649": "\u064a",  # alef maksura -> yeh
    "\u06a9": "\u0643",  # keheh (Persian kaf) -> Arabic kaf
    "\u0629": "\u0647",  # teh marbuta -> heh
    "\u06c0": "\u0647",  # heh with yeh above -> heh
    "\u2018": "'",
    "\u2019": "'",
    "\u02bc": "'",
    "\u00b4": "'",
    "`": "'",
    "\u0640": "",  # tatweel
    "ß": "ss",
    # Urdu, Pashto and Sorani letters that people type as the Persian/Arabic ones (or the other
    # way round) depending on their keyboard.
    "\u06c1": "\u0647",  # Urdu heh goal ہ -> heh
    "\u06be": "\u0647",  # heh doachashmee ھ -> heh
    "\u06d5": "\u0647",  # Sorani ae ە -> heh
    "\u06d2": "\u064a",  # Urdu yeh barree ے -> yeh
    "\u06ce": "\u064a",  # Sorani ێ -> yeh
    "\u06d0": "\u064a",  # Pashto ې -> yeh
    "\u06cd": "\u064a",  # Pashto ۍ -> yeh
    "\u06c6": "\u0648",  # Sorani ۆ -> waw
    "\u06b5": "\u0644",  # Sorani ڵ -> lam
    "\u0695": "\u0631",  # Sorani ڕ -> reh
    "\u06ab": "\u06af",  # Pashto ګ -> gaf
}
# Ethiopic letters that sound the same and are written either way: the ሠ, ፀ and ኀ rows are
# folded onto ሰ, ጸ and ሀ (all seven vowel orders of each).
_EXTRA.update({chr(0x1220 + i): chr(0x1230 + i) for i in range(8)})
_EXTRA.update({chr(0x1340 + i): chr(0x1338 + i) for i in range(8)})
_EXTRA.update({chr(0x1280 + i): chr(0x1200 + i) for i in range(8)})
_EXTRA.update({chr(0x0660 + i): str(i) for i in range(10)})  # Arabic-Indic digits
_EXTRA.update({chr(0x06F0 + i): str(i) for i in range(10)})  # Persian digits


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    mapped = _EXTRA.get(char)
    if mapped is not None:
        return mapped
    if char.isascii():
        return char
    category = unicodedata.category(char)
    if category == "Cf":
        return ""
    out = []
    for part in unicodedata.normalize("NFKD", char):
        if unicodedata.category(part) == "Mn":
            continue
        out.append(_EXTRA.get(part, part))
    return "".join(out)


def fold(text: str) -> str:
    """The folded form of ``text`` (see the module docstring)."""
    return "".join(_fold_char(char) for char in text)


@dataclass(frozen=True)
class Folded:
    """A folded copy of ``source`` and, for each folded character, where it came from."""

    source: str
    text: str
    offsets: tuple[int, ...]  # offsets[i] = index in source of text[i]; one extra = len(source)

    def original(self, start: int, end: int) -> str:
        """The slice of ``source`` that the folded slice ``text[start:end]`` came from."""
        if start >= end:
            return ""
        last = self.offsets[end - 1]
        # Take in what was dropped after the last character (its accents), but when one source
        # character folded to several and the match ends inside them, still take that character.
        stop = self.offsets[end] if self.offsets[end] > last else last + 1
        return self.source[self.offsets[start] : stop]

    def find_all(self, pattern: re.Pattern[str]) -> list[str]:
        """Original text of every non-overlapping match of ``pattern`` in the folded text."""
        return [self.original(m.start(), m.end()) for m in pattern.finditer(self.text) if m.end() > m.start()]


def fold_with_offsets(text: str) -> Folded:
    """Fold ``text`` and keep a map from folded characters back to ``text``."""
    pieces: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        if folded:
            pieces.append(folded)
            offsets.extend([index] * len(folded))
    offsets.append(len(text))
    return Folded(source=text, text="".join(pieces), offsets=tuple(offsets))


@lru_cache(maxsize=4096)
def compile_folded(pattern: str) -> re.Pattern[str]:
    """Compile a rule pattern after folding it like the text it will be matched against.

    Raises ``re.error`` for an invalid pattern. Write accented letters literally rather than
    as ``\\u`` escapes: escapes are not folded.
    """
    return re.compile(fold(pattern), re.IGNORECASE)
