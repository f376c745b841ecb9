"""API token authentication: knox's tokens, plus the second-factor rule at every request.

A token records whether the second factor was checked when it was issued
(:class:`accounts.models.ApiTokenGrant`). A token issued on a password alone is refused (401
``otp_required``) as soon as its user must use the second factor: a confirmed device, or
``ENGAGE_REQUIRE_2FA`` with a supervisor or admin role or platform-operator rights. Tokens are
also deleted when that happens (see ``accounts.signals``), but this check does not rely on it:
a setting flipped on, or a role given by any route, takes effect at the next request.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django_otp import devices_for_user
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions

from accounts import permissions
from accounts.models import ApiTokenGrant


class SecondFactorRequired(exceptions.AuthenticationFailed):
    error_code = "otp_required"
    default_detail = ("This token was issued without your second factor, which your account now needs. "
                      "Get a new one with your 6-digit code as \"otp\".")


def needs_second_factor(user: Any) -> bool:
    """The rule of the token endpoint: a confirmed device, or 2FA required for this user."""
    if settings.ENGAGE_REQUIRE_2FA and permissions.must_use_2fa(user):
        return True
    return any(devices_for_user(user, confirmed=True))


class TokenAuthentication(KnoxTokenAuthentication):
    def validate_user(self, auth_token: Any) -> tuple[Any, Any]:
        user, token = super().validate_user(auth_token)
        try:
            otp_verified = token.engage_grant.otp_verified
        except ApiTokenGrant.DoesNotExist:
            otp_verified = False
        if not otp_verified and needs_second_factor(user):
            raise SecondFactorRequired()
        # django-otp's view of the request, as for a verified browser session.
        user.is_verified = (lambda: otp_verified)  # noqa: E731
        return user, token


class EngageTokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme: the same ``Authorization: Token <key>`` as knox's."""

    target_class = "accounts.api.auth.TokenAuthentication"
