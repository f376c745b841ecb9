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


class TwoFactorRequiredMiddleware:
    """With ENGAGE_REQUIRE_2FA on, supervisors and admins must sign in with a second factor.

    Signed-in pages redirect them to enrolment (no device yet) or verification. The API
    enforces the same rule at token issue time.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.ENGAGE_REQUIRE_2FA and request.user.is_authenticated:
            from accounts.permissions import must_use_2fa

            path = request.path
            if (
                must_use_2fa(request.user)
                and not request.user.is_verified()
                and not path.startswith(_2FA_EXEMPT_PREFIXES)
                and path != "/"
            ):
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
