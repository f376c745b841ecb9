"""Figures in words, the same on the pages, in the PDF and in the charts' text alternatives."""

from __future__ import annotations

from django.utils.translation import npgettext, pgettext


def _seconds(n: int) -> str:
    return npgettext("duration", "%(num)d s", "%(num)d s", n) % {"num": n}


def _minutes(n: int) -> str:
    return npgettext("duration", "%(num)d min", "%(num)d min", n) % {"num": n}


def _hours(n: int) -> str:
    return npgettext("duration", "%(num)d h", "%(num)d h", n) % {"num": n}


def _days(n: int) -> str:
    return npgettext("duration", "%(num)d d", "%(num)d d", n) % {"num": n}


def _pair(larger: str, smaller: str) -> str:
    return pgettext("duration", "%(larger)s %(smaller)s") % {"larger": larger, "smaller": smaller}


def duration(seconds: float | None) -> str:
    """``42 s``, ``7 min``, ``3 h 10 min``, ``2 d 4 h``; an en dash for no value. In the active language
    (the desk's, or the visitor's on the public transparency page): each unit through ``npgettext``, so
    every catalog gives it the plural form its language needs."""
    if seconds is None:
        return "–"
    s = max(0, round(float(seconds)))
    if s < 60:
        return _seconds(s)
    minutes = round(s / 60)
    if minutes < 60:
        return _minutes(minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _pair(_hours(hours), _minutes(minutes)) if minutes else _hours(hours)
    days, hours = divmod(hours, 24)
    return _pair(_days(days), _hours(hours)) if hours else _days(days)


def percent(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


def number(value: int | float | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"
