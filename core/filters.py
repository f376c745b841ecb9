"""The API's query-parameter filters (django-filter), hardened against bad input.

``DEFAULT_FILTER_BACKENDS`` uses ``FilterBackend``, so every ``filterset_fields`` list builds its filters on
``FilterSet``, and explicit filter sets subclass it: a date or time filter refuses values whose
conversion to UTC would overflow (``9999-12-31T23:59:59-12:00`` was a 500), with a 400 in the API's
error format. Ids are ``core.ids.IdFilter``; related objects are django-filter's
``ModelChoiceFilter``, which already refuses what is not an id of its queryset.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django_filters import rest_framework as filters

from core.timeutil import REQUEST_DATE_MESSAGE, in_request_range


class BoundedDateTimeFormField(forms.DateTimeField):
    def to_python(self, value: Any) -> Any:
        result = super().to_python(value)
        if result is not None and not in_request_range(result):
            raise forms.ValidationError(REQUEST_DATE_MESSAGE, code="out_of_range")
        return result


class BoundedDateFormField(forms.DateField):
    def to_python(self, value: Any) -> Any:
        result = super().to_python(value)
        if result is not None and not in_request_range(result):
            raise forms.ValidationError(REQUEST_DATE_MESSAGE, code="out_of_range")
        return result


class DateTimeFilter(filters.DateTimeFilter):
    field_class = BoundedDateTimeFormField


class DateFilter(filters.DateFilter):
    field_class = BoundedDateFormField


class FilterSet(filters.FilterSet):
    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,  # with django-filter's DRF boolean filter
        models.DateTimeField: {"filter_class": DateTimeFilter},
        models.DateField: {"filter_class": DateFilter},
    }


class FilterBackend(filters.DjangoFilterBackend):
    filterset_base = FilterSet
