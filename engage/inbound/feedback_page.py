"""``/feedback/<token>/``: "Did this answer help?" for the person who received an answer.

GET only shows the question (link previewers and mail scanners fetch links, so a GET never
votes); the two buttons POST the form, with CSRF. A vote is recorded once; a second one is
thanked and ignored. A bad or expired link gets a friendly page (400), never an error. The
page's words are in English and Arabic (the public pages' languages), from ``?lang=`` (which
the link carries for Arabic), the visitor's cookie or browser. Votes are rate-limited per
(hashed) address like the public contact form, with their own counters. Nothing here keeps the
visitor's address, and the view never names the answer or the reply on the page.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.errors import InvalidInput, NotFound
from core.ratelimit import over_limit
from engage.inbound.feedback import (
    FeedbackTokenExpired,
    feedback_record,
    feedback_status,
    feedback_token_read,
)
from engage.public.i18n import chrome_context, visitor_language

VOTE_LIMITS = ((60, 10, "minute"), (86400, 100, "day"))  # (seconds, votes, name) per address

WORDS: dict[str, dict[str, str]] = {
    "title": {"en": "Did this answer help?", "ar": "هل ساعدك هذا الرد؟"},
    "intro": {"en": "You received an answer from us. Tell us if it helped: it takes one click.",
              "ar": "وصلك رد منا. أخبرنا إن كان قد ساعدك: يكفي نقرة واحدة."},
    "anonymous": {"en": "Your answer is anonymous: we store only yes or no, with the hour and the kind of "
                        "question, never who you are or what you wrote.",
                  "ar": "إجابتك مجهولة الهوية: نحفظ فقط نعم أو لا مع الساعة ونوع السؤال، ولا نحفظ أبدًا "
                        "من أنت أو ما كتبته."},
    "yes": {"en": "Yes, it helped", "ar": "نعم، ساعدني"},
    "no": {"en": "No, it did not help", "ar": "لا، لم يساعدني"},
    "thanks": {"en": "Thank you", "ar": "شكرًا لك"},
    "recorded": {"en": "We have your answer. It helps us see where our answers work and where they do not.",
                 "ar": "وصلتنا إجابتك. تساعدنا على معرفة أين تنجح ردودنا وأين لا تنجح."},
    "already": {"en": "Thanks, we already have your answer to this question.",
                "ar": "شكرًا، لدينا إجابتك على هذا السؤال بالفعل."},
    "bad_title": {"en": "This link does not work", "ar": "هذا الرابط لا يعمل"},
    "bad": {"en": "The link may be incomplete or changed. Please copy the whole link from our message.",
            "ar": "قد يكون الرابط ناقصًا أو تم تغييره. يرجى نسخ الرابط كاملًا من رسالتنا."},
    "expired": {"en": "This link has expired: we ask about an answer for 30 days after sending it.",
                "ar": "انتهت صلاحية هذا الرابط: نسأل عن الرد لمدة 30 يومًا بعد إرساله."},
    "gone": {"en": "We can no longer find this answer, so we cannot take a vote on it.",
             "ar": "لم نعد نجد هذا الرد، لذلك لا يمكننا تسجيل تقييم له."},
    "choose": {"en": "Please choose yes or no.", "ar": "يرجى اختيار نعم أو لا."},
    "wait_title": {"en": "Please wait a moment", "ar": "يرجى الانتظار قليلًا"},
    "wait": {"en": "We have had many answers from your connection in a short time. Please try again in a few "
                   "minutes.", "ar": "وصلتنا إجابات كثيرة من اتصالك خلال وقت قصير. يرجى المحاولة بعد بضع دقائق."},
    "more": {"en": "How we use your messages", "ar": "كيف نستخدم رسائلك"},
    "news": {"en": "Read the latest updates", "ar": "اقرأ آخر التحديثات"},
}


def _words(language: str) -> dict[str, str]:
    return {key: values.get(language) or values["en"] for key, values in WORDS.items()}


def _rate_limited(request: HttpRequest) -> bool:
    return over_limit(request, prefix="feedback", limits=VOTE_LIMITS)


def _page(request: HttpRequest, state: str, *, status: int = 200, **extra: Any) -> HttpResponse:
    lang = visitor_language(request)
    context = {**chrome_context(request, lang), "w": _words(lang.ui), "state": state, **extra}
    response = render(request, "engage/feedback.html", context, status=status)
    # The token never leaves in a Referer header to another site ("no-referrer" would make the browser
    # send "Origin: null" with the vote, which the CSRF check rightly refuses).
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache  # the page carries a CSRF token and is about one answer: never from a shared cache
@require_http_methods(["GET", "POST"])
def feedback(request: HttpRequest, token: str) -> HttpResponse:
    try:
        answer_id, _kind = feedback_token_read(token)
    except FeedbackTokenExpired:
        return _page(request, "expired", status=400)
    except InvalidInput:
        return _page(request, "bad", status=400)
    if request.method == "GET":
        status = feedback_status(answer_id=answer_id)
        if status == "gone":
            return _page(request, "gone", status=404)
        return _page(request, "already" if status == "given" else "ask")
    if _rate_limited(request):
        return _page(request, "wait", status=429)
    choice = request.POST.get("helpful", "")
    if choice not in ("yes", "no"):
        return _page(request, "ask", status=400, error=True)
    try:
        recorded = feedback_record(token=token, helpful=choice == "yes")
    except FeedbackTokenExpired:  # expired between the two reads
        return _page(request, "expired", status=400)
    except NotFound:
        return _page(request, "gone", status=404)
    except InvalidInput:
        return _page(request, "bad", status=400)
    return _page(request, "thanks" if recorded else "already")
