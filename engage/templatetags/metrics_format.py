"""Template filters for the metrics pages: the same words as the charts, the PDF and the exports."""

from __future__ import annotations

from typing import Any

from django import template

from engage.metrics import format as fmt

register = template.Library()


@register.filter
def duration(seconds: Any) -> str:
    return fmt.duration(seconds)


@register.filter
def pct(value: Any) -> str:
    return fmt.percent(value)


@register.filter
def num(value: Any) -> str:
    return fmt.number(value)


@register.filter
def points(value: Any) -> str:
    """A rate gap (-0.3) as percentage points ("−30 pts")."""
    if value is None:
        return "–"
    pts = round(float(value) * 100)
    return f"+{pts} pts" if pts > 0 else (f"−{abs(pts)} pts" if pts < 0 else "0 pts")
