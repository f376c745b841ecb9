"""The languages staff can say they read (``User.reads_languages``), and their English names.

The codes are those of ``settings.LANGUAGES`` (the public pages) plus every code the reply
classifier can return (``engage.inbound.classify.language``: its single-script languages and the
``langdetect`` profiles), so a reader can be recorded for any language a reply is tagged with.
"""

from __future__ import annotations

import os
from functools import lru_cache

from django.conf import settings
from django.conf.locale import LANG_INFO
from django.utils.translation import gettext, gettext_noop

# What the classifier decides itself (Arabic and Ethiopic scripts, single-script languages).
CLASSIFIER_CODES = ("ar", "fa", "ur", "ps", "ckb", "ti", "am", "uk", "he", "el", "ka", "hy", "th", "ko", "ja", "zh")
_ALIASES = {"zh-cn": "zh", "zh-tw": "zh"}
# English names, marked for the catalogs: the desk shows them in its language (``desk_name``).
ENGLISH_NAMES = {
    "en": gettext_noop("English"),
    "cy": gettext_noop("Welsh"),
    "ar": gettext_noop("Arabic"),
    "fa": gettext_noop("Farsi"),
    "ur": gettext_noop("Urdu"),
    "ps": gettext_noop("Pashto"),
    "ckb": gettext_noop("Sorani Kurdish"),
    "pl": gettext_noop("Polish"),
    "ro": gettext_noop("Romanian"),
    "uk": gettext_noop("Ukrainian"),
    "ru": gettext_noop("Russian"),
    "so": gettext_noop("Somali"),
    "ti": gettext_noop("Tigrinya"),
    "am": gettext_noop("Amharic"),
    "tr": gettext_noop("Turkish"),
    "pt": gettext_noop("Portuguese"),
    "es": gettext_noop("Spanish"),
    "fr": gettext_noop("French"),
    "de": gettext_noop("German"),
    "sw": gettext_noop("Swahili"),
    "ku": gettext_noop("Kurdish"),
}


@lru_cache(maxsize=1)
def reading_codes() -> frozenset[str]:
    codes = {code for code, _name in settings.LANGUAGES} | set(CLASSIFIER_CODES)
    try:
        from langdetect.detector_factory import PROFILES_DIRECTORY

        codes |= {_ALIASES.get(name, name) for name in os.listdir(PROFILES_DIRECTORY)}
    except (ImportError, OSError):  # pragma: no cover - langdetect is a dependency
        pass
    return frozenset(codes)


def desk_name(code: str) -> str:
    """A language's name in the desk's language (Welsh or English): ours from the catalogs, else Django's."""
    if code in ENGLISH_NAMES:
        return gettext(ENGLISH_NAMES[code])  # noqa: INT001
    info = LANG_INFO.get(code) or LANG_INFO.get(code.split("-")[0]) or {}
    return gettext(info["name"]) if info.get("name") else code  # noqa: INT001


def english_name(code: str) -> str:
    if code in ENGLISH_NAMES:
        return ENGLISH_NAMES[code]
    info = LANG_INFO.get(code) or LANG_INFO.get(code.split("-")[0]) or {}
    return info.get("name") or code


def choices() -> list[tuple[str, str]]:
    """Every code, named, sorted by name (the form's choices)."""
    return sorted(((code, f"{english_name(code)} ({code})") for code in reading_codes()), key=lambda c: c[1])


def clean_codes(values: list[str]) -> tuple[list[str], list[str]]:
    """``(known codes, unknown values)``: the known ones lower-cased, each once, sorted."""
    known, unknown = set(), []
    for value in values:
        code = str(value).strip().lower()
        if code in reading_codes():
            known.add(code)
        elif code:
            unknown.append(str(value)[:20])
    return sorted(known), unknown
