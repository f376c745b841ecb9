"""NUL characters in request text are refused at the door: PostgreSQL cannot store or even compare them.

A ``\\x00`` in a query parameter, a form field or a JSON string reached the database as a 500
(``DataError: PostgreSQL text fields cannot contain NUL (0x00) bytes``) on PostgreSQL, and passed on
SQLite, so the two databases answered differently. No text a person means contains one. So:

* ``NulBytesMiddleware`` answers 400 to a request with a NUL in a query parameter or form field
  (names or values; uploaded files are bytes and are not looked at), in the API's error format under
  ``/api/``;
* ``JSONParser`` (the API's JSON parser) refuses a body with a NUL in any string, key or value, 400.

Platform webhooks (``/api/v1/inbound/``) read their raw body themselves: their text is stored with NUL
replaced (``engage.services.ingest._scrub``), and a refusal is recorded there, so they are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from engage.common.api import error_body

MESSAGE = "Text cannot contain NUL characters."
RAW_BODY_PREFIXES = ("/api/v1/inbound/",)


def has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


def _query_has_nul(query: Any) -> bool:
    return any(has_nul(key) or has_nul(values) for key, values in query.lists())


class NulBytesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(RAW_BODY_PREFIXES) and self._has_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse(error_body(code="invalid", message=MESSAGE), status=400)
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        if _query_has_nul(request.GET) or "\x00" in request.path:
            return True
        if request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded",
                                                                 "multipart/form-data"):
            try:
                return _query_has_nul(request.POST)
            except Exception:  # noqa: BLE001 - a malformed body is the view's (or Django's) to refuse
                return False
        return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing NUL characters anywhere in the document (400 ``invalid``)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        if has_nul(data):
            raise ParseError(MESSAGE)
        return data


class FormParser(parsers.FormParser):
    """DRF's form parser (PATCH bodies too, which the middleware does not read), refusing NUL characters."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        if _query_has_nul(data):
            raise ParseError(MESSAGE)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, refusing NUL characters in the fields (files are bytes: not looked at)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        result = super().parse(stream, media_type, parser_context)
        if _query_has_nul(result.data):
            raise ParseError(MESSAGE)
        return result
