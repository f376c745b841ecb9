"""``{{ url|safe_href }}``: an outside URL as an href, or ``""`` unless it is plain http(s)."""

from __future__ import annotations

from django import template

from core.links import safe_external_url

register = template.Library()


@register.filter
def safe_href(value: object) -> str:
    return safe_external_url(value)
