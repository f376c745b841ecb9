"""Codes shown by name on the desk: ``{{ code|language_label }}`` ("Farsi", not "fa"),
``{{ variant|variant_label }}`` ("Farsi · Easy read · Visitors"), ``{{ code|format_label }}``
("Short SMS") and ``{{ code|need_label }}`` ("Easy read", not "easy_read")."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext

from campaigns.models import Need
from campaigns.version_diff import format_name, variant_name

register = template.Library()


@register.filter
def language_label(code: Any) -> str:
    """A language code as the desk names it, in the desk's language ("Arabic", "Arabeg")."""
    from accounts.languages import desk_name

    return desk_name(str(code or "")) if code else ""


@register.filter
def format_label(code: Any) -> str:
    return format_name(str(code or ""))


@register.filter
def need_label(code: Any) -> str:
    label = dict(Need.choices).get(str(code))
    return gettext(label) if label else str(code)


@register.filter
def variant_label(variant: Any) -> str:
    """A variant (a ``Variant`` row) by its language, format and audience names."""
    if variant is None:
        return ""
    segment = variant.segment.name if getattr(variant, "segment_id", None) and variant.segment else ""
    return variant_name(variant.language, variant.format, segment)


@register.filter
def language_labels(codes: Any) -> str:
    """Several language codes as names, comma-separated."""
    return ", ".join(language_label(c) for c in codes or [])


@register.filter
def channel_kind_label(code: Any) -> str:
    from campaigns.models import ChannelKind

    label = dict(ChannelKind.choices).get(str(code))
    return gettext(label) if label else str(code)
