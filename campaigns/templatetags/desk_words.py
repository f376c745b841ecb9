"""The desk's words for stored codes shown without their model's label (a playbook's event kind and phase, a
segment's channels and needs, a reply's category), in the desk's language."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext

from campaigns.models import ChannelKind, EventKind, Need, Phase

register = template.Library()


@register.filter
def event_kind_label(value: str) -> str:
    """``protest`` → "Protest" in the desk's language; an unknown code as it is."""
    return gettext(dict(EventKind.choices)[value]) if value in EventKind.values else value  # noqa: INT001


@register.filter
def phase_label(value: str) -> str:
    return gettext(dict(Phase.choices)[value]) if value in Phase.values else value  # noqa: INT001


@register.filter
def category_label(value: str) -> str:
    """A reply's category code (``crime_report``) as the desk names it ("Crime report"), in its language;
    the words are in engage/inbound/forms.py's ``CHOICE_WORDS``."""
    return gettext(value.replace("_", " ").capitalize()) if value else value  # noqa: INT001


@register.filter
def sentiment_label(value: str) -> str:
    """A reply's sentiment code (``positive``, ``negative``, ``neutral``, ``unknown``) in the desk's language."""
    return gettext(value.capitalize()) if value else value  # noqa: INT001


@register.filter
def channel_kinds_label(values: list[str]) -> str:
    """A segment's channel codes (``["mastodon", "sms"]``) as the desk names them, comma-separated."""
    names = dict(ChannelKind.choices)
    return ", ".join(gettext(names[v]) if v in names else v for v in values or [])  # noqa: INT001


@register.filter
def needs_label(values: list[str]) -> str:
    names = dict(Need.choices)
    return ", ".join(gettext(names[v]) if v in names else v for v in values or [])  # noqa: INT001
