"""The visitor's languages, and the words around the content on the public pages.

Content (the messages) comes in whatever languages the officers wrote variants in. The
page's own words (headings, labels, the footer) come from Django's gettext catalogs in
``locale/`` for the languages in :data:`UI_LANGUAGES`; a visitor whose languages have no
catalog gets English words around content in their language. Both are chosen from
``?lang=`` (the visible switcher), then the ``engage_lang`` cookie it sets, then the
browser's ``Accept-Language``.

The result is normalised (at most three base codes) because it is part of the public page
cache key: a visitor cannot create unbounded cache entries by inventing headers.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext_noop, pgettext_lazy
from django.utils.translation.trans_real import parse_accept_lang_header

LANG_COOKIE = "engage_lang"
_CODE = re.compile(r"^[a-z]{2,3}$")
MAX_PREFS = 3

# The languages the public pages' own words are translated into: each has a catalog in
# locale/<code>/LC_MESSAGES/django.po (compiled .mo committed next to it). See docs/translations.md.
UI_LANGUAGES = ("en", "cy", "ar", "fa", "ur", "ps", "ckb", "pl", "ro", "uk", "ru", "so", "ti", "tr", "pt", "es")
REVIEW_FILE = Path(__file__).with_name("translation_review.toml")


@lru_cache(maxsize=1)
def _reviews() -> dict[str, dict[str, Any]]:
    with REVIEW_FILE.open("rb") as handle:
        return tomllib.load(handle)


def reviewed(language: str) -> bool:
    """Has a native speaker reviewed this language's catalog (engage/public/translation_review.toml)?"""
    return bool(_reviews().get(language, {}).get("reviewed", False))


def desk_reviewed(language: str) -> bool:
    """Has a native speaker reviewed the staff desk's words in this language (``desk_reviewed`` in
    translation_review.toml; the desk is in English and Welsh, docs/translations.md)?"""
    return bool(_reviews().get(language.split("-")[0], {}).get("desk_reviewed", False))


@dataclass(frozen=True)
class VisitorLanguage:
    prefs: tuple[str, ...]   # content languages in order of preference, base codes
    ui: str                  # the language of the page's own words
    explicit: str            # the ?lang= value, when the visitor chose one on this request

    @property
    def key(self) -> str:
        return ".".join(self.prefs)

    @property
    def direction(self) -> str:
        return direction_of(self.ui)


def direction_of(language: str) -> str:
    return "rtl" if (language or "").split("-")[0].lower() in settings.LANGUAGES_BIDI else "ltr"


def _base(code: str) -> str:
    return (code or "").strip().lower().replace("_", "-").split("-")[0]


def visitor_language(request: HttpRequest) -> VisitorLanguage:
    # Worked out once per request: the cache's key and its response both ask.
    known = getattr(request, "_engage_visitor_language", None)
    if known is None:
        known = request._engage_visitor_language = _visitor_language(request)  # type: ignore[attr-defined]
    return known


def _visitor_language(request: HttpRequest) -> VisitorLanguage:
    return _language_of(request.GET.get("lang", ""), request.COOKIES.get(LANG_COOKIE, ""),
                        request.META.get("HTTP_ACCEPT_LANGUAGE", ""))


@lru_cache(maxsize=1024)  # a surge sends a few dozen distinct Accept-Language headers
def _language_of(chosen: str, cookie: str, accept_language: str) -> VisitorLanguage:
    explicit = _base(chosen)
    explicit = explicit if _CODE.match(explicit) else ""
    cookie = _base(cookie)
    header = [_base(code) for code, _q in parse_accept_lang_header(accept_language)[:8]]
    prefs: list[str] = []
    for code in [explicit, cookie, *header]:
        if code and _CODE.match(code) and code not in prefs:
            prefs.append(code)
        if len(prefs) == MAX_PREFS:
            break
    if not prefs:
        prefs = ["en"]
    ui = next((code for code in prefs if code in UI_LANGUAGES), "en")
    return VisitorLanguage(prefs=tuple(prefs), ui=ui, explicit=explicit)


# Django has no catalog for Pashto, Somali or Tigrinya: the date filter's month and weekday names
# (django.utils.dates) come from ours in those languages. Elsewhere Django's own words are used.
CALENDAR_WORDS = (
    gettext_noop("January"), gettext_noop("February"), gettext_noop("March"), gettext_noop("April"),
    gettext_noop("May"), gettext_noop("June"), gettext_noop("July"), gettext_noop("August"),
    gettext_noop("September"), gettext_noop("October"), gettext_noop("November"), gettext_noop("December"),
    gettext_noop("Monday"), gettext_noop("Tuesday"), gettext_noop("Wednesday"), gettext_noop("Thursday"),
    gettext_noop("Friday"), gettext_noop("Saturday"), gettext_noop("Sunday"),
    # The date filter's "E" (the month as in "4 December": genitive in Polish, Ukrainian, Russian).
    pgettext_lazy("alt. month", "January"), pgettext_lazy("alt. month", "February"),
    pgettext_lazy("alt. month", "March"), pgettext_lazy("alt. month", "April"), pgettext_lazy("alt. month", "May"),
    pgettext_lazy("alt. month", "June"), pgettext_lazy("alt. month", "July"), pgettext_lazy("alt. month", "August"),
    pgettext_lazy("alt. month", "September"), pgettext_lazy("alt. month", "October"),
    pgettext_lazy("alt. month", "November"), pgettext_lazy("alt. month", "December"),
)
CALENDAR_LANGUAGES = ("ps", "so", "ti")

PHASES = {"before": pgettext_lazy("event phase", "Not started yet"),
          "during": pgettext_lazy("event phase", "Happening now"),
          "after": pgettext_lazy("event phase", "Finished")}
RUMOUR_STATUSES = {"new": pgettext_lazy("rumour status", "New"),
                   "unverified": pgettext_lazy("rumour status", "Unverified"),
                   "confirmed": pgettext_lazy("rumour status", "Confirmed"),
                   "false": pgettext_lazy("rumour status", "False")}


def phase_label(phase: str) -> str:
    """An event's phase in the active language."""
    return str(PHASES.get(phase, phase))


def rumour_status_label(status: str) -> str:
    """A rumour's verdict in the active language."""
    return str(RUMOUR_STATUSES.get(status, status))


def in_visitor_language(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Render a public view's words in the visitor's language (see :func:`visitor_language`), not
    the language LocaleMiddleware picked for the staff desk."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = visitor_language(request).ui
        with translation.override(language):
            response = view(request, *args, **kwargs)
        response.headers.setdefault("Content-Language", language)
        return response

    return wrapped


def language_choices() -> list[tuple[str, str, str]]:
    """(code, name in that language, direction) for the switcher."""
    return [(code, name, direction_of(code)) for code, name in settings.LANGUAGES]


def chrome_context(request: HttpRequest, lang: VisitorLanguage) -> dict[str, Any]:
    """What public_base.html needs: the language switcher's links, the current language, and
    whether a native speaker reviewed the page's words."""
    kept = [(k, v) for k, v in request.GET.items() if k in ("event", "area", "format")]
    links = [{"code": code, "name": name, "dir": direction, "current": code == lang.prefs[0],
              "href": "?" + urlencode([*kept, ("lang", code)])}
             for code, name, direction in language_choices()]
    current = next((name for code, name, _d in language_choices() if code == lang.prefs[0]), lang.prefs[0])
    return {"lang": lang, "reviewed": reviewed(lang.ui), "lang_links": links, "current_language": current,
            "lang_query": f"lang={lang.prefs[0]}"}
