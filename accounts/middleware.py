"""Request context for the audit trail, and the two-factor requirement."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from core.client_ip import forget_ip, remember_ip


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = remember_ip(request)
        try:
            return self.get_response(request)
        finally:
            forget_ip(token)


_2FA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/feeds/", "/cap/", "/news/", "/events/", "/contact/")


OTP_PENDING_SESSION_KEY = "engage_otp_pending"


def second_factor_pending(request: HttpRequest) -> bool:
    """Signed in with the password, but the second factor this session needs is not given yet."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.is_verified():
        return False
    from accounts.permissions import must_use_2fa

    return bool(request.session.get(OTP_PENDING_SESSION_KEY) or (
        settings.ENGAGE_REQUIRE_2FA and must_use_2fa(user)))


class TwoFactorRequiredMiddleware:
    """Signed-in pages need the second factor from anyone who has one, and from supervisors and
    admins when ENGAGE_REQUIRE_2FA is on. They go to verification (or enrolment, without a device)
    until they pass. The API refuses with 403 ``otp_required``; tokens need the code at issue time.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if second_factor_pending(request):
            path = request.path
            if not path.startswith(_2FA_EXEMPT_PREFIXES) and path != "/":
                if path.startswith("/api/"):
                    return JsonResponse(
                        {"error": {"code": "otp_required", "message": "Sign in with your second factor first.",
                                   "fields": {}}},
                        status=403,
                    )
                return redirect("accounts:otp")
        return self.get_response(request)


class TeamTimezoneMiddleware:
    """Show and read times in the signed-in user's team time zone (stored in UTC)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.utils import timezone

        zone = None
        if request.user.is_authenticated:
            membership = request.user.memberships.select_related("team").order_by("team__parent_id", "id").first()
            zone = membership.team.timezone if membership else None
        if zone:
            timezone.activate(zone)
        else:
            timezone.activate(settings.ENGAGE_DEFAULT_TIMEZONE)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


# The one API route whose answer is words for a person at the desk (the editor's checker findings).
CHECKER_API = "/api/v1/checks/"


class DeskLanguageMiddleware:
    """The staff desk's words in the signed-in person's own language (``User.desk_language``:
    English or Welsh); signed out, English or Welsh as LocaleMiddleware found it in the browser,
    else English. Never another public language: the desk has no catalog for it, and half-translated
    chrome is worse than English. Public views choose the visitor's language themselves
    (``engage.public.i18n.in_visitor_language`` and ``translation.override``), inside this."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.utils import translation

        from accounts.models import DESK_LANGUAGES

        if request.path.startswith(CHECKER_API):
            # The message checker's findings are words for the person writing (the editor asks in the
            # desk's language): English or Welsh, as the request's Accept-Language says (docs/api.md).
            language = (translation.get_language() or "en").split("-")[0]
            if language not in dict(DESK_LANGUAGES):
                language = "en"
        elif request.path.startswith("/api/"):
            # The rest of the API answers in English whoever asks and whatever the browser says: its
            # error texts (core.errors, raised through gettext for the desk) are part of the contract.
            language = "en"
        else:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                language = user.desk_language
            else:
                language = (translation.get_language() or "en").split("-")[0]
            if language not in dict(DESK_LANGUAGES):
                language = "en"
        # Only for this request: afterwards the thread is back to the default (English), so that work done
        # outside a request (a task, a test) never inherits the last person's language.
        with translation.override(language, deactivate=True):
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", language)
            return response
