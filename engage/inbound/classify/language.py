"""Which language a citizen's reply is written in.

``detect_language(text)`` returns an ISO 639-1 code (``"en"``, ``"ar"``, ``"fa"``, ``"ti"``, …),
``"ckb"`` for Sorani Kurdish (which has no two-letter code), or ``"unknown"``. It is deliberately
honest: a reply that is too short or too mixed to tell is ``"unknown"`` rather than a confident
guess, so triage can route it to a person.

How it decides, in order:

1. URLs, e-mail addresses, @handles and #hashtags are removed; only letters count.
2. The dominant writing system (by letter count) is found. Scripts that belong to one language
   (or one language that matters here) decide on their own, even for short text:

   * **Arabic script** is Arabic, Persian or Urdu. Letters that only Persian uses (پ چ ژ گ and
     the Persian forms ک ی) are weighed against letters Persian does not use (ك ي ة ى);
     Urdu-only letters (ٹ ڈ ڑ ں ے ہ, and ھ when no Sorani letter is there) mean ``"ur"``,
     Pashto-only letters (ټ ځ څ ډ ړ ږ ښ ګ ڼ ۍ ې) and words (زما دی شوی …) ``"ps"``, Sorani Kurdish letters (ڕ ڵ ۆ ێ ە)
     ``"ckb"`` (ISO 639-3: Sorani has no two-letter code); the most frequent wins. With no
     telling letter at all the statistical detector is asked, and if it is unsure the answer
     is ``"ar"``. Sindhi, Kurmanji in Arabic script and Balochi are not told apart.
   * **Ethiopic (Ge'ez) script** is ``"ti"`` (Tigrinya) unless Amharic markers clearly
     outnumber Tigrinya ones, then ``"am"``. This is a spelling heuristic (Tigrinya writes
     ኣ where Amharic writes አ, uses ቐ and ኸ, and words such as እዩ/ኣብ vs ነው/እና), not a
     model: short Ethiopic text with no marker is reported as ``"ti"``, and Tigre, Oromo
     in Ge'ez script and other languages that use the script are not recognised.
   * Hebrew, Greek, Georgian, Armenian, Thai and Korean (Hangul) map to he/el/ka/hy/th/ko;
     Han characters with any kana are ``"ja"``, without kana ``"zh"``.

3. Everything else (Latin, Cyrillic, Devanagari, …) goes to ``langdetect`` (a port of Google's
   language-detection, profiles shipped in the package, no network) with a fixed seed, so the
   same text always gives the same answer. Its probabilities are over-confident on short text
   (``"ok"`` comes back as Slovak with p=0.99999), so it is only asked when there are at least
   :data:`MIN_WORDS` words or :data:`MIN_LETTERS` letters, and its answer is kept only when its
   probability is at least :data:`MIN_PROBABILITY`. For Cyrillic text it cannot settle,
   Ukrainian-only letters (і ї є ґ) mean ``"uk"``.

Why langdetect and not lingua: measured here, lingua (with the 15 languages we care about,
models preloaded) took 1.8 s to build and ~440 MB of memory per process, ~300 MB lazily; all
languages 5.4 s and 1.2 GB. langdetect loads its profiles in ~0.26 s, the whole process stays
around 75 MB, and it classifies a reply in about 1-2 ms. With a web server, a Celery worker and beat on one small machine, memory wins;
lingua is more accurate on very short text, which we answer with "unknown" instead.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

UNKNOWN = "unknown"
MIN_PROBABILITY = 0.80
MIN_WORDS = 3
MIN_LETTERS = 12
MIN_SCRIPT_LETTERS = 2  # a single-language script decides with this many letters
_MAX_CHARS = 2000  # more text does not change the answer, only the time

# Bounded repetitions keep this linear on hostile input such as "a@a@a@…".
_NOISE = re.compile(
    r"https?://\S+|www\.\S+|[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}|[@#][\w.]+", re.IGNORECASE
)
_WORD = re.compile(r"[^\W\d_]{2,}")

_PERSIAN_ONLY = set("پچژگکیۀ")  # U+067E U+0686 U+0698 U+06AF U+06A9 U+06CC U+06C0
_ARABIC_NOT_PERSIAN = set("كيةى")  # U+0643 U+064A U+0629 U+0649
_URDU_ONLY = set("ٹڈڑںےۓہۂ")  # U+0679 U+0688 U+0691 U+06BA U+06D2 U+06D3 U+06C1 U+06C2
_URDU_OR_SORANI = "\u06be"  # ھ (do-chashmi heh): Urdu aspirates, Sorani h; Persian and Arabic write ه
# Pashto's own letters: ټ ځ څ ډ ړ ږ ښ ګ ڼ ۍ ې (U+067C U+0681 U+0685 U+0689 U+0693 U+0696 U+069A U+06AB
# U+06BC U+06CD U+06D0).
_PASHTO_ONLY = set("\u067c\u0681\u0685\u0689\u0693\u0696\u069a\u06ab\u06bc\u06cd\u06d0")
# Sorani Kurdish's own letters: ڕ ڵ ۆ ێ ە (U+0695 U+06B5 U+06C6 U+06CE U+06D5); ە is in most words.
# Common Pashto words that Persian does not use, for replies without a Pashto-only letter.
_PASHTO_WORDS = frozenset({"زما", "زموږ", "ستاسو", "دی", "شوی", "کې", "څخه", "وکړئ", "مې", "یې", "چې"})
_SORANI_ONLY = set("\u0695\u06b5\u06c6\u06ce\u06d5")

_TIGRINYA_LETTERS = set("ቐቑቒቓቔቕቖቘቚቛቜቝኸኹኺኻኼኽኾዀዂዃዄዅኣ")
_TIGRINYA_WORDS = frozenset({"እዩ", "ኢዩ", "ኣብ", "ከኣ", "እንታይ", "ኣይኮነን", "ኣሎ", "የለን", "ኢኻ", "እዮም", "ኣሎና", "ሓገዝ", "ስለምንታይ"})
_AMHARIC_WORDS = frozenset({"ነው", "ናቸው", "እና", "ምን", "አይደለም", "ይህ", "እባክህ", "እባክዎ", "አለ", "የለም", "ለምን", "እርዳታ", "አዎ"})

_SINGLE_SCRIPT = {
    "HEBREW": "he",
    "GREEK": "el",
    "GEORGIAN": "ka",
    "ARMENIAN": "hy",
    "THAI": "th",
    "HANGUL": "ko",
}
_LANGDETECT_ALIASES = {"zh-cn": "zh", "zh-tw": "zh"}

_factory: DetectorFactory | None = None
_factory_lock = threading.Lock()


def _detector_factory() -> DetectorFactory:
    """One profile set per process, loaded on first use, with a fixed seed.

    Our own factory instead of langdetect's module-level one: that one is initialised without
    a lock (two threads can both load it and fail with "duplicate profile") and its seed is a
    class attribute shared with any other user of the library.
    """
    global _factory
    if _factory is None:
        with _factory_lock:
            if _factory is None:
                factory = DetectorFactory()
                factory.load_profile(PROFILES_DIRECTORY)
                factory.set_seed(0)
                _factory = factory
    return _factory


def warm_up() -> None:
    """Load the language profiles now (about a quarter of a second) rather than on first use."""
    _detector_factory()


def _script(char: str) -> str:
    code = ord(char)
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0x08A0 <= code <= 0x08FF or 0xFB50 <= code <= 0xFEFF:
        return "ARABIC"
    if 0x1200 <= code <= 0x139F or 0x2D80 <= code <= 0x2DDF or 0xAB00 <= code <= 0xAB2F:
        return "ETHIOPIC"
    if 0x0590 <= code <= 0x05FF:
        return "HEBREW"
    if 0x0370 <= code <= 0x03FF or 0x1F00 <= code <= 0x1FFF:
        return "GREEK"
    if 0x10A0 <= code <= 0x10FF:
        return "GEORGIAN"
    if 0x0530 <= code <= 0x058F:
        return "ARMENIAN"
    if 0x0E00 <= code <= 0x0E7F:
        return "THAI"
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return "HANGUL"
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF:
        return "KANA"
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
        return "HAN"
    if 0x0400 <= code <= 0x052F:
        return "CYRILLIC"
    if code < 0x0250 or 0x1E00 <= code <= 0x1EFF:
        return "LATIN"
    return "OTHER"


def _letters(text: str) -> list[str]:
    return [char for char in text if unicodedata.category(char).startswith("L")]


def _arabic_script_language(letters: list[str], text: str) -> str:
    sorani = sum(1 for char in letters if char in _SORANI_ONLY)
    pashto = sum(1 for char in letters if char in _PASHTO_ONLY)
    pashto += 2 * sum(1 for word in text.split() if word.strip("،.!؟?") in _PASHTO_WORDS)
    urdu = sum(1 for char in letters if char in _URDU_ONLY)
    if not sorani:
        urdu += sum(1 for char in letters if char == _URDU_OR_SORANI)
    best = max(sorani, pashto, urdu)
    if best:
        # The language whose own letters are most frequent; ties to the one listed first.
        return next(code for code, count in (("ckb", sorani), ("ps", pashto), ("ur", urdu)) if count == best)
    persian = sum(1 for char in letters if char in _PERSIAN_ONLY)
    arabic = sum(1 for char in letters if char in _ARABIC_NOT_PERSIAN)
    if persian > arabic:
        return "fa"
    if arabic > persian:
        return "ar"
    guess = _langdetect(text)
    return guess if guess in {"ar", "fa", "ur"} else "ar"


def _ethiopic_language(text: str) -> str:
    words = re.findall(r"[\u1200-\u139F\u2D80-\u2DDF\uAB00-\uAB2F]+", text)
    tigrinya = sum(1 for char in text if char in _TIGRINYA_LETTERS)
    tigrinya += 2 * sum(1 for word in words if word in _TIGRINYA_WORDS)
    amharic = 2 * sum(1 for word in words if word in _AMHARIC_WORDS)
    amharic += text.count("አ")  # Amharic spelling of the vowel-a carrier; Tigrinya writes ኣ
    if amharic >= 2 and amharic > 2 * tigrinya:
        return "am"
    return "ti"


def _cyrillic_hint(letters: list[str]) -> str:
    lowered = {char.lower() for char in letters}
    if lowered & {"ї", "є", "ґ"} or ("і" in lowered and not lowered & {"ы", "э", "ъ", "ё", "ў"}):
        return "uk"
    return UNKNOWN


def _langdetect(text: str) -> str:
    try:
        detector = _detector_factory().create()
        detector.append(text)
        candidates = detector.get_probabilities()
    except LangDetectException:
        return UNKNOWN
    if not candidates:
        return UNKNOWN
    best = candidates[0]
    if best.prob < MIN_PROBABILITY:
        return UNKNOWN
    return _LANGDETECT_ALIASES.get(best.lang, best.lang)


def detect_language(text: str) -> str:
    """ISO 639-1 code of the language of ``text``, or ``"unknown"`` (see the module docstring)."""
    if not text:
        return UNKNOWN
    cleaned = _NOISE.sub(" ", text[:_MAX_CHARS])
    letters = _letters(cleaned)
    if len(letters) < MIN_SCRIPT_LETTERS:
        return UNKNOWN
    scripts = Counter(_script(char) for char in letters)
    kana = scripts.pop("KANA", 0)
    if kana:
        scripts["HAN"] += kana  # Japanese mixes kanji and kana: count them as one writing system
    script, count = scripts.most_common(1)[0]
    if count * 2 <= len(letters) and script not in {"LATIN", "CYRILLIC"}:
        # No script has a majority: too mixed to call.
        return UNKNOWN
    if script == "ARABIC":
        return _arabic_script_language(letters, cleaned)
    if script == "ETHIOPIC":
        return _ethiopic_language(cleaned)
    if script == "HAN":
        return "ja" if kana else "zh"
    if script in _SINGLE_SCRIPT:
        return _SINGLE_SCRIPT[script]
    words = _WORD.findall(cleaned)
    if len(words) < MIN_WORDS and len(letters) < MIN_LETTERS:
        return UNKNOWN
    guess = _langdetect(cleaned)
    if script == "CYRILLIC" and guess not in {"uk", "ru", "bg", "mk", "sr"}:
        return _cyrillic_hint(letters)
    if script == "CYRILLIC" and guess == "ru" and _cyrillic_hint(letters) == "uk":
        return "uk"
    return guess
