"""Figures in words, the same on the pages, in the PDF and in the charts' text alternatives."""

from __future__ import annotations


def duration(seconds: float | None) -> str:
    """``42 s``, ``7 min``, ``3 h 10 min``, ``2 d 4 h``; an en dash for no value."""
    if seconds is None:
        return "–"
    s = max(0, round(float(seconds)))
    if s < 60:
        return f"{s} s"
    minutes = round(s / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


def number(value: int | float | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"
