"""Request context for the audit trail, and the two-factor requirement."""

from __future__ import annotations

import contextvars
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

_current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("engage_request_ip", default=None)


def current_ip() -> str | None:
    return _current_ip.get()


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is trivially forged unless a trusted proxy rewrites
    # REMOTE_ADDR itself (gunicorn --forwarded-allow-ips does that).
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            _current_ip.reset(token)


_2FA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/feeds/", "/cap/", "/news/", "/events/", "/contact/")


OTP_PENDING_SESSION_KEY = "engage_otp_pending"


class TwoFactorRequiredMiddleware:
    """Signed-in pages need the second factor from anyone who has one, and from supervisors and
    admins when ENGAGE_REQUIRE_2FA is on. They go to verification (or enrolment, without a device)
    until they pass. The API refuses with 403 ``otp_required``; tokens need the code at issue time.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and not request.user.is_verified():
            from accounts.permissions import must_use_2fa

            path = request.path
            required = request.session.get(OTP_PENDING_SESSION_KEY) or (
                settings.ENGAGE_REQUIRE_2FA and must_use_2fa(request.user))
            if required and not path.startswith(_2FA_EXEMPT_PREFIXES) and path != "/":
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
