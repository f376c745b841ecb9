"""The API's request parsers: DRF's JSON, form and multipart parsers, refusing NUL characters (400).

PostgreSQL cannot store or compare text with a NUL in it (a 500), SQLite can: refusing them at the
parser makes both databases answer alike. See ``core.nul`` for query strings and HTML forms.
This module imports nothing of the project: DRF loads it from ``DEFAULT_PARSER_CLASSES`` while its
own views module is being imported.
"""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MESSAGE = "Text cannot contain NUL characters."


def has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


def query_has_nul(query: Any) -> bool:
    """A QueryDict (or any MultiValueDict) with a NUL in a key or value."""
    return any(has_nul(key) or has_nul(values) for key, values in query.lists())


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
        if query_has_nul(data):
            raise ParseError(MESSAGE)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, refusing NUL characters in the fields (files are bytes: not looked at)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        result = super().parse(stream, media_type, parser_context)
        if query_has_nul(result.data):
            raise ParseError(MESSAGE)
        return result
