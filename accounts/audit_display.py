"""How an audit row reads to a person: its details as plain text, and a link to its object.

The ``summary`` of an :class:`~accounts.models.AuditEvent` is JSON (a dict, maybe nested). The
audit page and its CSV show it as ``key: value`` pairs separated by ``; `` (a change as
``from → to``, a list comma-separated), never as Python's ``{'key': ...}`` text.
"""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse

# Object type (``app_label.model``) -> the desk page that shows it (reversed with its id).
_PAGES = {
    "campaigns.message": "campaigns:message",
    "campaigns.event": "campaigns:event",
    "campaigns.segment": "campaigns:segment",
    "campaigns.delivery": "campaigns:delivery",  # its row on its message's page
    "engage.reply": "inbox:detail",
}
_LISTS = {"campaigns.channel": "campaigns:channels"}  # no page of its own: the list it is on


def _label(key: Any) -> str:
    return str(key).replace("_", " ")


def _value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        if set(value) == {"from", "to"}:
            return f"{_value(value['from'])} → {_value(value['to'])}"
        return "(" + details_text(value) + ")"
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(v) for v in value) if value else "none"
    return str(value)


def details_text(summary: Any) -> str:
    """``"reason: late; status: approved → sent"`` for ``{"reason": "late", "status": {"from":
    "approved", "to": "sent"}}``; an empty summary is ``""``. Keys in alphabetical order: PostgreSQL's
    jsonb keeps them in its own order (shortest first), SQLite in the order written, and the page and
    the CSV must read the same whichever database holds them."""
    if not summary:
        return ""
    if not isinstance(summary, dict):
        return _value(summary)
    return "; ".join(f"{_label(key)}: {_value(summary[key])}" for key in sorted(summary))


def object_url(target_type: str, target_id: str) -> str | None:
    """The desk page of the audited object, or None when it has none (or the id is not a number)."""
    try:
        if target_type in _LISTS:
            return reverse(_LISTS[target_type])
        name = _PAGES.get(target_type)
        if name is None or not str(target_id).isdigit():
            return None
        return reverse(name, args=[int(target_id)])
    except NoReverseMatch:
        return None
