"""How a citizen's reply feels: positive, neutral, negative, or "unknown" when we cannot tell.

English uses VADER (``vaderSentiment``): a rule-based model with a human-rated lexicon that
ships inside the package and is read from disk; nothing is fetched (its module mentions
``requests`` only in a ``__main__`` demo that is never run here). Its ``compound`` score is in
[-1, 1]; we use VADER's own documented cut-offs, ±0.05.

Other languages get a deliberately small lexicon of words whose polarity is not in doubt
(thank-yous, "excellent", "disgraceful", "useless"…) for ar, fa, fr, es, de, pl, ro and uk, plus
a few emoji for every language. A negator up to two words before a lexicon word flips and
weakens it (``pas bien``, ``غير مقبول``, ``nicht gut``); that also turns "no, thanks" negative,
one of the cases a word list gets wrong. The score is the summed weights squashed into
[-1, 1] the way VADER squashes its sum. This is a keyword count, not a model:
sarcasm, idioms and most negation escape it. When no lexicon word is found the answer is
``"unknown"`` (score ``None``), not ``"neutral"``: silence from a tiny lexicon says nothing.
Any other language is ``"unknown"``.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from typing import Literal

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from engage.inbound.classify.text import fold

SentimentLabel = Literal["positive", "neutral", "negative", "unknown"]

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
_MAX_CHARS = 5000  # VADER is linear in length; longer replies do not change the mood much
_ALPHA = 15.0  # VADER's normalisation constant


@dataclass(frozen=True)
class Sentiment:
    label: SentimentLabel
    score: float | None  # in [-1, 1]; None when the label is "unknown"


# Word -> weight, written in their usual spelling; they are folded (accents, Arabic letter
# variants) like the text before comparing. Entries ending in "*" match any word that starts so.
LEXICONS: dict[str, dict[str, float]] = {
    "fr": {
        "merci": 2, "bravo": 2, "super": 1.5, "excellent": 2, "génial": 2, "parfait": 2, "formidable": 2,
        "gentil*": 1.5, "bien": 1, "magnifique": 2, "merveilleu*": 2, "content*": 1.5, "rassur*": 1.5, "utile": 1.5, "top": 1,
        "honte": -2, "honteux": -2, "scandal*": -2, "inadmissible": -2, "inacceptable": -2,
        "nul": -1.5, "nuls": -1.5, "horrible": -2, "terrible": -1.5, "colère": -1.5, "furieux": -2,
        "dégoûtant": -2, "mauvais": -1.5, "inutile*": -1.5, "peur": -1.5, "triste": -1.5, "incompétent*": -2,
    },
    "es": {
        "gracias": 2, "excelente": 2, "genial": 2, "perfecto": 2, "estupendo": 2, "bien": 1,
        "amable*": 1.5, "felicidades": 2, "enhorabuena": 2, "útil": 1.5, "bravo": 2,
        "vergüenza": -2, "vergonzoso": -2, "inaceptable": -2, "horrible": -2, "terrible": -1.5,
        "pésimo": -2, "malo": -1.5, "mala": -1.5, "inútil*": -1.5, "miedo": -1.5, "enfadad*": -1.5,
        "indignante": -2, "asqueroso": -2, "incompetent*": -2, "triste": -1.5,
    },
    "de": {
        "danke": 2, "dankeschön": 2, "super": 1.5, "toll": 1.5, "prima": 1.5, "hervorragend": 2,
        "klasse": 1.5, "freundlich*": 1.5, "hilfreich": 1.5, "gut": 1, "perfekt": 2,
        "schande": -2, "schrecklich": -2, "furchtbar": -2, "unverschämt": -2, "inakzeptabel": -2,
        "schlecht*": -1.5, "nutzlos": -1.5, "wütend": -2, "angst": -1.5, "peinlich": -1.5, "unfähig": -2,
    },
    "pl": {
        "dziękuj*": 2, "dzięki": 2, "dziekuj*": 2, "super": 1.5, "świetn*": 2, "wspaniał*": 2,
        "brawo": 2, "doskonał*": 2, "miło": 1.5, "mili": 1.5, "miła": 1.5, "pomocn*": 1.5, "dobrze": 1,
        "wstyd": -2, "skandal*": -2, "okropn*": -2, "straszn*": -2, "fataln*": -2, "beznadziej*": -2,
        "źle": -1.5, "zły": -1.5, "wściekł*": -2, "bezużyteczn*": -1.5, "niedopuszczaln*": -2, "boję": -1.5,
    },
    "ro": {
        "mulțumesc": 2, "mulțumim": 2, "mersi": 2, "bravo": 2, "excelent*": 2, "minunat*": 2,
        "super": 1.5, "perfect": 2, "amabil*": 1.5, "bine": 1,
        "rușine": -2, "inacceptabil*": -2, "groaznic*": -2, "îngrozitor*": -2, "oribil*": -2,
        "prost*": -1.5, "rău": -1.5, "nervos": -1.5, "furios": -2, "inutil*": -1.5, "frică": -1.5,
    },
    "uk": {
        "дякую": 2, "дякуємо": 2, "спасибі": 2, "чудово": 2, "чудов*": 2, "молодці": 2, "відмінно": 2,
        "супер": 1.5, "добре": 1, "ввічлив*": 1.5, "корисн*": 1.5, "вдячн*": 2,
        "ганьба": -2, "жахлив*": -2, "жахливо": -2, "погано": -1.5, "поган*": -1.5, "неприпустим*": -2,
        "обурлив*": -2, "злий": -1.5, "страшно": -1.5, "некомпетентн*": -2,
    },
    "ar": {
        "شكرا": 2, "شكراً": 2, "مشكور*": 2, "ممتاز*": 2, "رائع*": 2, "احسنتم": 2, "أحسنتم": 2, "جميل*": 1.5,
        "بارك": 1.5, "جزاكم": 2, "شاكر*": 2, "ممنون*": 2, "مفيد*": 1.5, "لطيف*": 1.5, "مقبول": 1,
        "سيء": -2, "سيئ*": -2, "فضيحة": -2, "مهزلة": -2, "عار": -2, "غاضب*": -2, "مخيف*": -1.5,
        "خايف*": -1.5, "خائف*": -1.5, "مقرف*": -2, "فاشل*": -2, "اهمال": -1.5, "إهمال": -1.5, "حرام": -1,
    },
    "fa": {
        "ممنون*": 2, "مرسی": 2, "متشکر*": 2, "سپاس*": 2, "عالی": 2, "خوب": 1, "آفرین": 2,
        "مهربان*": 1.5, "بد": -1.5, "افتضاح": -2, "وحشتناک": -2, "شرم": -2, "عصبانی": -2, "ناراحت*": -1.5,
        "ترسیده*": -1.5, "بی‌فایده": -1.5,
    },
}

NEGATORS: dict[str, frozenset[str]] = {
    "fr": frozenset({"pas", "jamais", "ni"}),
    "es": frozenset({"no", "nunca", "ni", "tampoco"}),
    "de": frozenset({"nicht", "kein", "keine", "keinen", "nie"}),
    "pl": frozenset({"nie", "ani"}),
    "ro": frozenset({"nu", "nici"}),
    "uk": frozenset({"не", "ні"}),
    "ar": frozenset({"لا", "ليس", "غير", "لم", "لن", "مش", "مو"}),
    "fa": frozenset({"نه"}),
}

# Emoji are language-free; only unambiguous ones (🔥 and 🙏 mean too many things).
EMOJI: dict[str, float] = {
    "👍": 1.5, "👏": 1.5, "❤": 2, "😊": 1.5, "🙂": 1, "😀": 1.5, "😃": 1.5, "🥰": 2, "💙": 2, "💪": 1,
    "👎": -1.5, "😡": -2, "🤬": -2.5, "😠": -2, "😢": -1.5, "😭": -1.5, "😞": -1.5, "💩": -2,
}

_TOKEN = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)?")

_analyzer: SentimentIntensityAnalyzer | None = None
_analyzer_lock = threading.Lock()


def _vader() -> SentimentIntensityAnalyzer:
    global _analyzer
    if _analyzer is None:
        with _analyzer_lock:
            if _analyzer is None:
                _analyzer = SentimentIntensityAnalyzer()
    return _analyzer


def warm_up() -> None:
    """Read VADER's lexicon now rather than on the first reply."""
    _vader()


def _label(score: float) -> SentimentLabel:
    if score >= POSITIVE_THRESHOLD:
        return "positive"
    if score <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


class _Lexicon:
    def __init__(self, words: dict[str, float], negators: frozenset[str]) -> None:
        self.exact: dict[str, float] = {}
        self.prefixes: list[tuple[str, float]] = []
        for word, weight in words.items():
            folded = fold(word).lower()
            if folded.endswith("*"):
                self.prefixes.append((folded[:-1], weight))
            else:
                self.exact[folded] = weight
        self.negators = frozenset(fold(word).lower() for word in negators)

    def weight(self, token: str) -> float | None:
        if token in self.exact:
            return self.exact[token]
        for prefix, weight in self.prefixes:
            if token.startswith(prefix):
                return weight
        return None


_LEXICON_CACHE: dict[str, _Lexicon] = {}


def _lexicon(language: str) -> _Lexicon | None:
    if language not in LEXICONS:
        return None
    cached = _LEXICON_CACHE.get(language)
    if cached is None:
        cached = _Lexicon(LEXICONS[language], NEGATORS.get(language, frozenset()))
        _LEXICON_CACHE[language] = cached
    return cached


def _emoji_sum(text: str) -> tuple[float, int]:
    total = 0.0
    hits = 0
    for char in text:
        weight = EMOJI.get(char)
        if weight is not None:
            total += weight
            hits += 1
    return total, hits


def _lexicon_score(text: str, language: str) -> Sentiment:
    total, hits = _emoji_sum(text)
    lexicon = _lexicon(language)
    if lexicon is not None:
        tokens = [token.lower() for token in _TOKEN.findall(fold(text))]
        for index, token in enumerate(tokens):
            weight = lexicon.weight(token)
            if weight is None:
                continue
            hits += 1
            window = tokens[max(0, index - 2) : index]
            if any(previous in lexicon.negators for previous in window):
                weight = -weight * 0.75  # "pas bien" is weaker than "mauvais"
            total += weight
    if not hits:
        return Sentiment(label="unknown", score=None)
    score = total / math.sqrt(total * total + _ALPHA)
    return Sentiment(label=_label(score), score=round(score, 4))


def score_sentiment(text: str, language: str) -> Sentiment:
    """Sentiment of ``text`` written in ``language`` (an ISO 639-1 code or "unknown")."""
    if not text or not text.strip():
        return Sentiment(label="unknown", score=None)
    text = text[:_MAX_CHARS]
    if language == "en":
        compound = float(_vader().polarity_scores(text)["compound"])
        return Sentiment(label=_label(compound), score=round(compound, 4))
    return _lexicon_score(text, language)
