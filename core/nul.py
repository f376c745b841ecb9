"""NUL characters in request text are refused at the door: PostgreSQL cannot store or even compare them.

A ``\\x00`` in a query parameter, a form field or a JSON string reached the database as a 500
(``DataError: PostgreSQL text fields cannot contain NUL (0x00) bytes``) on PostgreSQL, and passed on
SQLite, so the two databases answered differently. No text a person means contains one. So:

* ``NulBytesMiddleware`` answers 400 to a request with a NUL in a query parameter or form field
  (names or values; uploaded files are bytes and are not looked at), in the API's error format under
  ``/api/``;
* ``core.parsers`` (the API's parsers) refuse a JSON, form or multipart body with a NUL in any
  string, key or value, 400.

Platform webhooks (``/api/v1/inbound/``) read their raw body themselves: their text is stored with NUL
replaced (``engage.inbound.ingest._scrub``), and a refusal is recorded there, so they are left alone.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from core.api import error_body
from core.parsers import MESSAGE, query_has_nul

RAW_BODY_PREFIXES = ("/api/v1/inbound/",)


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
        if query_has_nul(request.GET):
            return True
        if "\x00" in request.path and request.path.startswith("/api/"):
            # Page URLs with a NUL match no id converter (a 404), and the one free-text page route
            # (the feedback link) answers its own friendly 400; API paths get the API's format here.
            return True
        if request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded",
                                                                 "multipart/form-data"):
            try:
                return query_has_nul(request.POST)
            except Exception:  # noqa: BLE001 - a malformed body is the view's (or Django's) to refuse
                return False
        return False
