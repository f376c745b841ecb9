"""Hashtags: which are valid, and how a message's hashtags are added to a post.

**What a hashtag may be.** The rules both X (twitter-text) and Mastodon (``Tag::HASHTAG_RE``) agree
on: after the ``#``, letters of any script, combining marks, digits and the underscore, with at
least one letter or underscore (``#2024`` is not a hashtag on either), and nothing else: no space,
no punctuation (``#Derby-Day`` is linked as ``#Derby`` on both), no ``<`` or ``>``. Engage adds a
length limit of :data:`MAX_HASHTAG_LENGTH` characters, which no useful tag reaches.

**Where they go.** A message's hashtags (its *Hashtags* field, covered by the approval hash) are
added to the post on the platforms where people follow hashtags (:data:`HASHTAG_KINDS`: X,
Mastodon, Facebook, Telegram): each one the text does not already contain goes on a last line,
separated by spaces (:func:`with_hashtags`). SMS, email, partner webhooks and the public pages send
the text as written: a hashtag there costs a text message or reads as noise.

``engage/static/engage/counting.js`` repeats :func:`with_hashtags` for the editor's live preview;
``tests/browser/test_previews.py`` checks that both give the same text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final

__all__ = ["HASHTAG_KINDS", "MAX_HASHTAG_LENGTH", "hashtag_problem", "missing_hashtags", "with_hashtags"]

HASHTAG_KINDS: Final = frozenset({"x", "mastodon", "facebook", "telegram"})
MAX_HASHTAG_LENGTH: Final = 50

_WORD_CATEGORIES: Final = ("L", "M", "N")  # letters, marks, numbers (and "_", checked apart)


def _is_tag_character(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch)[0] in _WORD_CATEGORIES


def hashtag_problem(tag: str) -> str | None:
    """Why ``tag`` (with or without its leading ``#``) is not a valid hashtag, or ``None``.

    The reason is a short English phrase for the desk to translate: "is empty", "is too long",
    "has no letter", "has a space or a character a hashtag cannot have".
    """
    name = tag[1:] if tag.startswith("#") else tag
    if not name:
        return "is empty"
    if len(name) > MAX_HASHTAG_LENGTH:
        return "is too long"
    if not all(_is_tag_character(ch) for ch in name):
        return "has a space or a character a hashtag cannot have"
    if unicodedata.category(name[0])[0] == "M":
        return "has a space or a character a hashtag cannot have"
    if not any(ch == "_" or unicodedata.category(ch)[0] == "L" for ch in name):
        return "has no letter"
    return None


def _contains(text: str, name: str) -> bool:
    """Whether ``text`` has ``#name`` as a whole hashtag (any case; ``#NHC2024`` does not hold ``#NHC``)."""
    pattern = rf"(?<![\w#])#{re.escape(name)}(?![\w])"
    return re.search(pattern, text, re.IGNORECASE) is not None


def missing_hashtags(text: str, hashtags: Iterable[str]) -> list[str]:
    """The hashtags (names without ``#``) that ``text`` does not contain yet, in order, once each."""
    out: list[str] = []
    for raw in hashtags:
        name = str(raw).strip().lstrip("#")
        if name and not _contains(text, name) and name.lower() not in (n.lower() for n in out):
            out.append(name)
    return out


def with_hashtags(text: str, hashtags: Iterable[str]) -> str:
    """``text`` with the ``hashtags`` it does not contain yet on a last line: what X, Mastodon,
    Facebook and Telegram are sent (their adapters' ``composed_text``)."""
    missing = missing_hashtags(text, hashtags)
    if not missing:
        return text
    tail = " ".join(f"#{name}" for name in missing)
    body = text.rstrip()
    return f"{body}\n\n{tail}" if body else tail
