"""``/api/schema/`` and ``/api/docs/``: open when ``ENGAGE_PUBLIC_API_DOCS`` is on (the embedded
default), otherwise for signed-in users only (the production default). The schema maps every
endpoint and parameter, which helps an attacker more than a citizen."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request


class ApiDocsPermission(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(settings.ENGAGE_PUBLIC_API_DOCS or (request.user and request.user.is_authenticated))


class SchemaView(SpectacularAPIView):
    permission_classes = [ApiDocsPermission]

    def handle_exception(self, exc: Exception) -> Any:
        response = super().handle_exception(exc)
        # Refusals in the API's JSON error format, not as an OpenAPI document.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


class DocsView(SpectacularSwaggerView):
    permission_classes = [ApiDocsPermission]

    def permission_denied(self, request: Request, message: str | None = None, code: str | None = None) -> None:
        if not request.user.is_authenticated and not request.auth:
            # A person with a browser: to the sign-in page and back.
            raise _RedirectToLogin(request.get_full_path())
        super().permission_denied(request, message=message, code=code)

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, _RedirectToLogin):
            return redirect_to_login(exc.next_path)
        return super().handle_exception(exc)


class _RedirectToLogin(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path
