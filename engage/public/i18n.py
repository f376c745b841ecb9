"""The visitor's languages, and the words around the content on the public pages.

Content (the messages) comes in whatever languages the officers wrote variants in. The
page's own words (headings, labels, the footer) exist in English and Arabic here; other
visitors get English words around content in their language. Both are chosen from
``?lang=`` (the visible switcher), then the ``engage_lang`` cookie it sets, then the
browser's ``Accept-Language``.

The result is normalised (at most three base codes) because it is part of the public page
cache key: a visitor cannot create unbounded cache entries by inventing headers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation.trans_real import parse_accept_lang_header

LANG_COOKIE = "engage_lang"
_CODE = re.compile(r"^[a-z]{2,3}$")
MAX_PREFS = 3

STRINGS: dict[str, dict[str, str]] = {
    "site_name": {"en": "Police updates", "ar": "تحديثات الشرطة"},
    "skip": {"en": "Skip to main content", "ar": "انتقل إلى المحتوى الرئيسي"},
    "main_nav": {"en": "Main", "ar": "القائمة الرئيسية"},
    "news": {"en": "News", "ar": "الأخبار"},
    "news_title": {"en": "News and safety updates", "ar": "الأخبار وتحديثات السلامة"},
    "news_intro": {"en": "Updates from the police about events and gatherings near you.",
                   "ar": "تحديثات من الشرطة حول الفعاليات والتجمعات القريبة منك."},
    "language": {"en": "Language", "ar": "اللغة"},
    "easy_read": {"en": "Easy read", "ar": "نسخة سهلة القراءة"},
    "easy_read_on": {"en": "Show easy-read versions", "ar": "اعرض النسخ سهلة القراءة"},
    "standard_on": {"en": "Show standard versions", "ar": "اعرض النسخ العادية"},
    "filters": {"en": "Filter updates", "ar": "تصفية التحديثات"},
    "event": {"en": "Event", "ar": "الفعالية"},
    "area": {"en": "Area", "ar": "المنطقة"},
    "all_events": {"en": "All events", "ar": "كل الفعاليات"},
    "all_areas": {"en": "All areas", "ar": "كل المناطق"},
    "show": {"en": "Show", "ar": "عرض"},
    "no_updates": {"en": "No updates yet.", "ar": "لا توجد تحديثات بعد."},
    "pages": {"en": "More updates", "ar": "مزيد من التحديثات"},
    "newer": {"en": "Newer updates", "ar": "تحديثات أحدث"},
    "older": {"en": "Older updates", "ar": "تحديثات أقدم"},
    "priority": {"en": "Priority", "ar": "مهم"},
    "emergency": {"en": "Emergency", "ar": "طوارئ"},
    "correction": {"en": "Correction", "ar": "تصحيح"},
    "corrects": {"en": "This corrects an earlier update.", "ar": "هذا تصحيح لتحديث سابق."},
    "see_original": {"en": "Read the earlier update", "ar": "اقرأ التحديث السابق"},
    "corrected": {"en": "This update has been corrected.", "ar": "تم تصحيح هذا التحديث."},
    "see_correction": {"en": "Read the correction", "ar": "اقرأ التصحيح"},
    "also_in": {"en": "Also in", "ar": "متوفر أيضًا بـ"},
    "not_in_your_language": {"en": "Not available in your language yet.", "ar": "غير متوفر بلغتك بعد."},
    "open_update": {"en": "Update of", "ar": "تحديث بتاريخ"},
    "live_events": {"en": "Live event pages", "ar": "صفحات الفعاليات المباشرة"},
    "live_page": {"en": "Live page", "ar": "الصفحة المباشرة"},
    "key_facts": {"en": "Key facts", "ar": "معلومات أساسية"},
    "where": {"en": "Where", "ar": "المكان"},
    "when": {"en": "When", "ar": "الوقت"},
    "now": {"en": "Status", "ar": "الحالة"},
    "phase_before": {"en": "Not started yet", "ar": "لم تبدأ بعد"},
    "phase_during": {"en": "Happening now", "ar": "جارية الآن"},
    "phase_after": {"en": "Finished", "ar": "انتهت"},
    "until": {"en": "until", "ar": "حتى"},
    "what_to_bring": {"en": "What to bring", "ar": "ماذا تحضر معك"},
    "prohibited": {"en": "Do not bring", "ar": "لا تحضر معك"},
    "help_points": {"en": "Where to get help", "ar": "أين تجد المساعدة"},
    "latest_updates": {"en": "Latest updates", "ar": "آخر التحديثات"},
    "older_updates": {"en": "Older updates for this event", "ar": "تحديثات أقدم لهذه الفعالية"},
    "rumours": {"en": "Rumours: what is true?", "ar": "الشائعات: ما الصحيح؟"},
    "rumours_intro": {"en": "Claims we have seen about this event, and what we know.",
                      "ar": "ادعاءات رأيناها حول هذه الفعالية، وما نعرفه عنها."},
    "no_rumours": {"en": "No rumours to report.", "ar": "لا توجد شائعات للإبلاغ عنها."},
    "status_unverified": {"en": "Unverified", "ar": "غير مؤكد"},
    "status_confirmed": {"en": "Confirmed", "ar": "مؤكد"},
    "status_false": {"en": "False", "ar": "غير صحيح"},
    "status_new": {"en": "New", "ar": "جديد"},
    "claim": {"en": "Claim", "ar": "الادعاء"},
    "updated": {"en": "Updated", "ar": "حُدّث"},
    "corrections_log": {"en": "Corrections log", "ar": "سجل التصحيحات"},
    "corrections_intro": {"en": "Every change we made to a rumour's status, newest first.",
                          "ar": "كل تغيير أجريناه على حالة شائعة، الأحدث أولًا."},
    "changed_to": {"en": "now", "ar": "أصبحت"},
    "was": {"en": "was", "ar": "كانت"},
    "marked": {"en": "marked", "ar": "صُنّفت"},
    "comma": {"en": ",", "ar": "،"},
    "last_updated": {"en": "Page updated", "ar": "آخر تحديث للصفحة"},
    "check_new": {"en": "Check for new updates", "ar": "تحقق من وجود تحديثات جديدة"},
    "auto_updates": {"en": "This page checks for new updates by itself.",
                     "ar": "تتحقق هذه الصفحة من وجود تحديثات جديدة تلقائيًا."},
    "new_updates": {"en": "New updates: %n", "ar": "تحديثات جديدة: %n"},
    "feeds": {"en": "Follow", "ar": "تابع"},
    "atom_feed": {"en": "Atom feed", "ar": "خلاصة Atom"},
    "cap_feed": {"en": "Alerts feed (CAP)", "ar": "خلاصة التنبيهات (CAP)"},
    "event_feed": {"en": "Atom feed for this event", "ar": "خلاصة Atom لهذه الفعالية"},
    "withdrawn_title": {"en": "This update was withdrawn", "ar": "تم سحب هذا التحديث"},
    "withdrawn_text": {"en": "We withdrew this update. Please read the latest updates instead.",
                       "ar": "لقد سحبنا هذا التحديث. يرجى قراءة آخر التحديثات بدلًا منه."},
    "all_updates": {"en": "All updates", "ar": "كل التحديثات"},
    "not_found": {"en": "We could not find that page.", "ar": "لم نتمكن من العثور على هذه الصفحة."},
    "staff": {"en": "Staff sign-in", "ar": "دخول الموظفين"},
    "contact": {"en": "Contact us", "ar": "تواصل معنا"},
    "privacy": {"en": "How we use your messages", "ar": "كيف نستخدم رسائلك"},
    "image": {"en": "Image", "ar": "صورة"},
    "footer": {"en": "In an emergency call 999 (or 112). To report a crime that is not an emergency, call 101. "
                     "This site is not monitored around the clock.",
               "ar": "في حالة الطوارئ اتصل بالرقم 999 (أو 112). للإبلاغ عن جريمة ليست طارئة اتصل بالرقم 101. "
                     "لا تتم مراقبة هذا الموقع على مدار الساعة."},
}

UI_LANGUAGES = frozenset({"en", "ar"})


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
    explicit = _base(request.GET.get("lang", ""))
    explicit = explicit if _CODE.match(explicit) else ""
    cookie = _base(request.COOKIES.get(LANG_COOKIE, ""))
    header = [_base(code) for code, _q in parse_accept_lang_header(request.headers.get("Accept-Language", ""))[:8]]
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


def ui_strings(language: str) -> dict[str, str]:
    lang = language if language in UI_LANGUAGES else "en"
    return {key: values.get(lang) or values["en"] for key, values in STRINGS.items()}


def language_choices() -> list[tuple[str, str, str]]:
    """(code, name in that language, direction) for the switcher."""
    return [(code, name, direction_of(code)) for code, name in settings.LANGUAGES]


def chrome_context(request: HttpRequest, lang: VisitorLanguage) -> dict[str, Any]:
    """What public_base.html needs: the words, the language switcher's links, the current language."""
    kept = [(k, v) for k, v in request.GET.items() if k in ("event", "area", "format")]
    links = [{"code": code, "name": name, "dir": direction, "current": code == lang.prefs[0],
              "href": "?" + urlencode([*kept, ("lang", code)])}
             for code, name, direction in language_choices()]
    current = next((name for code, name, _d in language_choices() if code == lang.prefs[0]), lang.prefs[0])
    return {"ui": ui_strings(lang.ui), "lang": lang, "lang_links": links, "current_language": current,
            "lang_query": f"lang={lang.prefs[0]}"}
