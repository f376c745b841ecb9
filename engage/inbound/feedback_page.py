"""``/feedback/<token>/``: "Did this answer help?" for the person who received an answer.

GET only shows the question (link previewers and mail scanners fetch links, so a GET never
votes); the two buttons POST the form, with CSRF. A vote is recorded once; a second one is
thanked and ignored. A bad or expired link gets a friendly page (400), never an error. The
page's words are in the public pages' languages (their gettext catalogs), from ``?lang=`` (which
the link carries), the visitor's cookie or browser. Votes are rate-limited per
(hashed) address like the public contact form, with their own counters. Nothing here keeps the
visitor's address, and the view never names the answer or the reply on the page.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
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

def _rate_limited(request: HttpRequest) -> bool:
    return over_limit(request, prefix="feedback", limits=VOTE_LIMITS)


def _page(request: HttpRequest, state: str, *, status: int = 200, **extra: Any) -> HttpResponse:
    lang = visitor_language(request)
    context = {**chrome_context(request, lang), "state": state, **extra}
    with translation.override(lang.ui):
        response = render(request, "engage/feedback.html", context, status=status)
    response["Content-Language"] = lang.ui
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
