"""The API's error format: {"error": {"code", "message", "fields"}} with the right status."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ServiceError

logger = logging.getLogger(__name__)

_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "wrong_state",
    413: "too_large",
    415: "unsupported_media_type",
    429: "throttled",
}


def error_body(*, code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_response(*, status_code: int, code: str, message: str, fields: dict[str, Any] | None = None) -> Response:
    return Response(error_body(code=code, message=message, fields=fields), status=status_code)


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _first_message(fields: Any) -> str:
    if isinstance(fields, dict):
        for key, value in fields.items():
            inner = _first_message(value)
            if inner:
                return inner if key in ("non_field_errors", "detail") else f"{key}: {inner}"
    if isinstance(fields, list) and fields:
        return _first_message(fields[0])
    if isinstance(fields, str):
        return fields
    return ""


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ServiceError):
        return error_response(status_code=exc.status, code=exc.code, message=exc.message, fields=exc.fields)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return error_response(
            status_code=400, code="invalid", message=_first_message(fields) or "Invalid input.", fields=fields
        )
    if isinstance(exc, RequestDataTooBig):
        return error_response(status_code=413, code="too_large", message="The request body is too large.")
    if isinstance(exc, SuspiciousOperation):
        return error_response(status_code=400, code="invalid", message="The request was not understood.")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = getattr(exc, "error_code", None) or _CODES.get(response.status_code, "error")
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if not isinstance(fields, dict):
            fields = {"non_field_errors": fields}
        message = _first_message(fields) or "Invalid input."
        response.data = error_body(code="invalid", message=message, fields=fields)
        return response
    if isinstance(exc, exceptions.APIException):
        detail = exc.detail
        message = str(detail) if not isinstance(detail, dict | list) else _first_message(_flatten(detail))
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            message = f"Too many requests. Try again in {int(exc.wait) + 1} seconds."
        if response.status_code == status.HTTP_404_NOT_FOUND:
            message = "Not found."
        response.data = error_body(code=code, message=message)
    return response


def _is_api(request: Any) -> bool:
    return request.path.startswith("/api/")


def _is_desk(request: Any) -> bool:
    return request.path.startswith(("/desk/", "/accounts/"))


def handler404(request: Any, exception: Exception | None = None) -> Any:
    """A URL the resolver does not know, or a view's ``Http404``: under ``/api/`` the contract's error
    format (``/api/v1/messages/abc/`` is refused by the URL pattern, before any DRF view runs); on the
    desk the desk's own page; elsewhere Django's page."""
    from django.http import JsonResponse
    from django.shortcuts import render
    from django.views.defaults import page_not_found

    if _is_api(request):
        return JsonResponse(error_body(code="not_found", message="Not found."), status=404)
    if _is_desk(request):
        return render(request, "engage/desk_404.html", status=404)
    return page_not_found(request, exception)


def handler403(request: Any, exception: Exception | None = None) -> Any:
    """A ``PermissionDenied`` outside a view's own refusal: on the desk the desk's page, in plain words."""
    from django.http import JsonResponse
    from django.shortcuts import render
    from django.views.defaults import permission_denied

    if _is_api(request):
        return JsonResponse(error_body(code="forbidden", message="Not allowed."), status=403)
    if _is_desk(request):
        return render(request, "campaigns/forbidden.html",
                      {"reason": "Your role or team does not allow this."}, status=403)
    return permission_denied(request, exception)


def handler400(request: Any, exception: Exception | None = None) -> Any:
    """A request Django refused before any view (a bad Host, a SuspiciousOperation): the API's format under ``/api/``."""
    from django.http import JsonResponse
    from django.views.defaults import bad_request

    if _is_api(request):
        return JsonResponse(error_body(code="invalid", message="The request was not understood."), status=400)
    return bad_request(request, exception)
