"""Ids that come from a request: one parser, bounded to the database's key range.

Every primary key is a ``BigAutoField`` (``DEFAULT_AUTO_FIELD``): a signed 64-bit integer on
PostgreSQL (``bigint``) and SQLite (``INTEGER``). A request can carry anything where an id is
expected: ``2**64`` (SQLite raises ``OverflowError``, PostgreSQL a ``DataError``), ``-1``, ``abc``,
``1e3``, ``٣`` (Python's ``int()`` and ``str.isdigit()`` accept other scripts' digits), ``1\\x00``...
Nothing from a request reaches a query as an id without going through one of these:

* ``parse_id`` / ``parse_ids``: HTML views reading ``request.GET`` / ``request.POST`` by hand;
* ``<id:pk>`` (``IdConverter``) in URL patterns, and the same pattern for the API router's lookups;
* ``IdField`` / ``IdListField`` / ``IdRelatedField``: API bodies and query serializers;
* ``IdFormField`` / ``IdFilter``: Django forms and django-filter query parameters.

A bad id is then "no such object" (404, in a URL) or "invalid" (400, elsewhere), never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.urls import register_converter
from django_filters import rest_framework as filters
from rest_framework import serializers

ID_MIN = 1
ID_MAX = 2**63 - 1  # the largest bigint / SQLite INTEGER; ids are BigAutoField everywhere
_ID_TEXT = re.compile(r"[0-9]{1,19}")  # ASCII digits only (\d would take any script's digits)


def parse_id(value: Any) -> int | None:
    """``value`` as an id (``1 <= id < 2**63``), or None when it is not one. Accepts an int (not a
    bool) or a string of at most 19 ASCII digits; signs, spaces, exponents, other scripts' digits and
    NUL bytes are not ids."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _ID_TEXT.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if ID_MIN <= number <= ID_MAX else None


def parse_ids(values: Iterable[Any], *, limit: int | None = None) -> list[int]:
    """The valid ids among ``values``, in order, without repeats, at most ``limit`` of them."""
    ids = list(dict.fromkeys(n for n in (parse_id(v) for v in values) if n is not None))
    return ids[:limit] if limit is not None else ids


class IdConverter:
    """``<id:pk>`` in a URL: like ``<id:pk>`` but only ids that can exist, so ``/messages/99999999999999999999/``
    is a 404 from the resolver instead of an overflow in the view's query."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(value)  # the resolver treats it as no match: 404
        return number

    def to_url(self, value: Any) -> str:
        number = parse_id(value)
        if number is None:
            raise ValueError(value)
        return str(number)


register_converter(IdConverter, "id")


class IdField(serializers.IntegerField):
    """An id in an API body or query: a 400 in the API's error format unless ``1 <= id < 2**63``."""

    default_error_messages = {"invalid": "A valid id is required."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", ID_MIN)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        number = parse_id(data.strip() if isinstance(data, str) else data)
        if number is None:
            self.fail("invalid")
        return number


class IdListField(serializers.ListField):
    """A list of ids (bulk actions, channels, segments): each one an ``IdField``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("child", IdField())
        super().__init__(**kwargs)


class IdFormField(forms.IntegerField):
    """An id in an HTML form or a django-filter query parameter: "Enter a valid id" unless ``1 <= id < 2**63``."""

    default_error_messages = {"invalid": "Enter a valid id."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", ID_MIN)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        number = parse_id(value.strip() if isinstance(value, str) else value)
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class IdFilter(filters.NumberFilter):
    """``?event=<id>`` on a related id: django-filter's ``NumberFilter`` is a decimal (``1e3``, ``1.5``, ``2**64``
    reach the query); this one is a 400 unless the value is an id."""

    field_class = IdFormField


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """DRF's ``PrimaryKeyRelatedField``, taking only ids: ``"٣"`` is not object 3 and ``2**64`` is refused
    before the query, both as "Incorrect type" (400)."""

    def to_internal_value(self, data: Any) -> Any:
        if parse_id(data) is None:
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)
