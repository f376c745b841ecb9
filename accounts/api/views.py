"""API sign-in and sign-out.

``POST /api/v1/auth/token/``: ``{"email", "password"}`` (+ ``"otp"`` where 2FA applies) → ``{"token", "expiry"}``.
``POST /api/v1/auth/logout/``: revoke the token used (or end the browser session).
``POST /api/v1/auth/logout-all/``: revoke every token of the user and end all their sessions.
"""

from __future__ import annotations

from axes.exceptions import AxesBackendPermissionDenied
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import logout as django_logout
from django_otp import devices_for_user, match_token
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions, services
from accounts.audit import audit_record
from core.api import error_response
from core.throttling import ScopedClientRateThrottle


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
    otp = serializers.RegexField(r"^\d{6}$", required=False)


class ObtainTokenView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedClientRateThrottle]
    throttle_scope = "token"

    @extend_schema(request=TokenRequestSerializer,
                   responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField(),
                                                                       "expiry": serializers.DateTimeField()})})
    def post(self, request: Request) -> Response:
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = authenticate(request._request, username=data.validated_data["email"].lower(),
                                password=data.validated_data["password"])
        except AxesBackendPermissionDenied:
            user = None
            locked = True
        else:
            locked = getattr(request._request, "axes_locked_out", False)
        if locked:
            # Answer in the API's error format; without this, AxesMiddleware swaps the response for
            # its HTML lock-out page (status 429).
            request._request.axes_locked_out = False
            return error_response(status_code=status.HTTP_403_FORBIDDEN, code="locked_out",
                                  message="Too many failed sign-ins. This account is locked for a while.")
        if user is None:
            return error_response(status_code=status.HTTP_401_UNAUTHORIZED, code="invalid_credentials",
                                  message="That email address and password do not match.")
        needs_otp = any(devices_for_user(user, confirmed=True)) or (
            settings.ENGAGE_REQUIRE_2FA and permissions.must_use_2fa(user))
        if needs_otp:
            code = data.validated_data.get("otp")
            if not code:
                return error_response(status_code=status.HTTP_401_UNAUTHORIZED, code="otp_required",
                                      message="Give the 6-digit code from your authenticator app as \"otp\".")
            if match_token(user, code) is None:
                audit_record(actor=user, verb="auth.second_factor_failed", target=user)
                return error_response(status_code=status.HTTP_401_UNAUTHORIZED, code="otp_invalid",
                                      message="That code is not right, or it has expired.")
        instance, token = services.api_token_issue(user=user, otp_verified=needs_otp)
        return Response({"token": token, "expiry": instance.expiry})


def _end_browser_session(request: Request) -> None:
    if request.auth is None and request._request.user.is_authenticated:
        django_logout(request._request)


class LogoutView(APIView):
    """Revoke the token this request carries (a browser session is signed out instead)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, AuthToken):
            services.api_tokens_revoke(user=request.user, token=request.auth, reason="signed_out")
        else:
            _end_browser_session(request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(APIView):
    """Sign out everywhere: every API token of the user is revoked and every session ended."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: inline_serializer("LogoutAll", {
        "tokens_revoked": serializers.IntegerField()})})
    def post(self, request: Request) -> Response:
        count = services.user_sign_out_everywhere(user=request.user)
        _end_browser_session(request)
        return Response({"tokens_revoked": count})


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: inline_serializer("Me", {
        "id": serializers.IntegerField(), "email": serializers.EmailField(), "name": serializers.CharField(),
        "memberships": serializers.ListField(child=serializers.DictField())})})
    def get(self, request: Request) -> Response:
        from accounts.selectors import memberships_for

        user = request.user
        return Response({
            "id": user.pk, "email": user.email, "name": user.display_name,
            "memberships": [{"team": m.team_id, "team_name": m.team.name, "role": m.role}
                            for m in memberships_for(user)],
        })
