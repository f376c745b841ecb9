"""How long something has waited, in plain words: "just now", "4 min", "2 h 5 min", "3 days"."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext, ngettext

register = template.Library()


def waited(since: datetime | None, now: datetime | None = None) -> str:
    """Never "0 minutes ago": under a minute is "just now"; then minutes, then hours and minutes
    (under two days), then whole days."""
    if since is None:
        return ""
    seconds = max(0, int(((now or timezone.now()) - since).total_seconds()))
    if seconds < 60:
        return gettext("just now")
    minutes = seconds // 60
    if minutes < 60:
        return gettext("%(m)d min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        if minutes:
            return gettext("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
        return gettext("%(h)d h") % {"h": hours}
    days = hours // 24
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


register.filter("waited", waited)
