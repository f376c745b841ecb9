"""API token authentication: knox's tokens, plus the second-factor rule at every request.

A token records whether the second factor was checked when it was issued
(:class:`accounts.models.ApiTokenGrant`). A token issued on a password alone is refused (401
``otp_required``) as soon as its user must use the second factor: ``ENGAGE_REQUIRE_2FA`` with a
supervisor or admin role or platform-operator rights. Such tokens are also deleted when a role is
given (see ``accounts.signals``), but this check does not rely on it: a setting flipped on, or a
role given by any route, takes effect at the next request. Enrolling or removing a device deletes
every token of the user at once (``accounts.signals``).
"""

from __future__ import annotations

import binascii
from hmac import compare_digest
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions

from accounts import permissions
from accounts.models import ApiTokenGrant


class SecondFactorRequired(exceptions.AuthenticationFailed):
    error_code = "otp_required"
    default_detail = ("This token was issued without your second factor, which your account now needs. "
                      "Get a new one with your 6-digit code as \"otp\".")


def needs_second_factor(user: Any) -> bool:
    """Whether a token issued on a password alone may no longer be used: 2FA is required for this
    user (``ENGAGE_REQUIRE_2FA`` and a supervisor or admin role, or platform operator). Enrolling
    or removing a device revokes every token as it happens (``accounts.signals``); this check needs
    no query beyond the memberships the permission checks load anyway."""
    return bool(settings.ENGAGE_REQUIRE_2FA and permissions.must_use_2fa(user))


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        # knox's own loop, with the grant loaded in the same query as the token and its user.
        message = _("Invalid token.")
        key = token.decode("utf-8")
        candidates = get_token_model().objects.filter(
            token_key=key[:CONSTANTS.TOKEN_KEY_LENGTH]).select_related("user", "engage_grant")
        for auth_token in candidates:
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(key)
            except (TypeError, binascii.Error) as exc:
                raise exceptions.AuthenticationFailed(message) from exc
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(message)

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
