"""CAP 1.2 fields of a priority or emergency message, checked and stored in ``Message.cap``.

They are stored through ``message_update(cap=...)``, so they are part of the content hash:
the supervisor approves the alert exactly as aggregators will receive it, and changing a
field after approval voids the approval like any other edit.

Keys are CAP's own element names. Values never include ``Unknown`` (aggregators such as the
public alert hubs refuse or down-rank it). Areas are a description plus a circle
(``"lat,lon radius_km"``) or a polygon (``"lat,lon lat,lon ..."``, closed, at least four
points), defaulting to the event's place where the event has one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from accounts.audit import audit_record
from accounts.models import User
from accounts.policies import policy_for
from campaigns.models import Event, Message, Urgency
from campaigns.services.messages import message_update
from core.errors import InvalidInput, NotAllowed
from core.sanitize import sanitize_text

CATEGORIES = ("Safety", "Security", "Transport", "Rescue", "Fire", "Health", "Env", "Infra", "Met", "Geo",
              "CBRNE", "Other")
URGENCIES = ("Immediate", "Expected", "Future", "Past")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely")
RESPONSE_TYPES = ("Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None")
ALERT_URGENCIES = (Urgency.PRIORITY, Urgency.EMERGENCY)
# Defaults by the message's own urgency, used when a field is left empty.
DEFAULTS = {
    Urgency.EMERGENCY: {"urgency": "Immediate", "severity": "Severe", "certainty": "Observed"},
    Urgency.PRIORITY: {"urgency": "Expected", "severity": "Moderate", "certainty": "Likely"},
}
_NUMBER = r"-?\d{1,3}(?:\.\d+)?"
_POINT = re.compile(rf"^({_NUMBER}),({_NUMBER})$")
_CIRCLE = re.compile(rf"^({_NUMBER}),({_NUMBER}) (\d+(?:\.\d+)?)$")
_SENDER = re.compile(r"^[^\s,<&]{3,200}$")


def _point(raw: str, field: str) -> tuple[float, float]:
    match = _POINT.match(raw.strip())
    if not match:
        raise InvalidInput(gettext("A point is written as latitude,longitude (for example 52.95,-1.15)."),
                           fields={field: [f"Invalid point: {raw[:40]}"]})
    lat, lon = float(match.group(1)), float(match.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput(gettext("Latitude is between -90 and 90, longitude between -180 and 180."),
                           fields={field: ["Out of range."]})
    return lat, lon


def clean_circle(raw: str) -> str:
    raw = " ".join((raw or "").split())
    match = _CIRCLE.match(raw)
    if not match:
        raise InvalidInput(gettext("A circle is written as latitude,longitude radius in km (for example 52.95,-1.15 1.5)."),
                           fields={"circle": ["Invalid circle."]})
    lat, lon = _point(f"{match.group(1)},{match.group(2)}", "circle")
    radius = float(match.group(3))
    if radius <= 0 or radius > 500:
        raise InvalidInput(gettext("The radius is in kilometres, more than 0 and at most 500."),
                           fields={"circle": ["Invalid radius."]})
    return f"{lat:g},{lon:g} {radius:g}"


def clean_polygon(raw: str) -> str:
    points = [_point(p, "polygon") for p in (raw or "").split()]
    if points and points[0] != points[-1]:
        points.append(points[0])  # CAP polygons are closed: the first point repeated last
    if len(points) < 4:
        raise InvalidInput(gettext("A polygon needs at least three distinct points."), fields={"polygon": ["Too few points."]})
    return " ".join(f"{lat:g},{lon:g}" for lat, lon in points)


def event_area(event: Event | None) -> dict[str, str]:
    """The event's place as CAP area fields, where the event has one."""
    if event is None:
        return {}
    out = {"areaDesc": event.location or event.name}
    if event.polygon:
        try:
            out["polygon"] = clean_polygon(" ".join(f"{p[0]},{p[1]}" for p in event.polygon))
        except (InvalidInput, IndexError, TypeError):
            pass
    if "polygon" not in out and event.latitude is not None and event.longitude is not None:
        radius_km = (event.radius_m or 500) / 1000
        out["circle"] = clean_circle(f"{event.latitude},{event.longitude} {radius_km}")
    return out


def _choice(values: dict[str, Any], key: str, allowed: tuple[str, ...], default: str | None) -> str:
    value = str(values.get(key) or default or "").strip()
    if value not in allowed:
        raise InvalidInput(gettext("%(key)s is one of: %(allowed)s.") % {"key": key, "allowed": ", ".join(allowed)},
                           fields={key: ["Invalid choice."]})
    return value


def _choices(values: dict[str, Any], key: str, allowed: tuple[str, ...]) -> list[str]:
    raw = values.get(key) or []
    if isinstance(raw, str):
        raw = [raw]
    out: list[str] = []
    for item in raw:
        item = str(item).strip()
        if item not in allowed:
            raise InvalidInput(gettext("%(key)s is one of: %(allowed)s.") % {"key": key, "allowed": ", ".join(allowed)},
                               fields={key: [f"Invalid: {item[:40]}"]})
        if item not in out:
            out.append(item)
    return out


def _expires(raw: Any, now: datetime) -> str:
    if isinstance(raw, datetime):
        value = raw
    else:
        value = parse_datetime(str(raw).strip())
        if value is None:
            raise InvalidInput(gettext("Give the expiry as a date and time."), fields={"expires": ["Invalid date."]})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)  # the active (team) time zone
    if value <= now:
        raise InvalidInput(gettext("The alert must expire in the future."), fields={"expires": ["In the past."]})
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def clean_cap(values: dict[str, Any], *, message: Message, now: datetime | None = None) -> dict[str, Any]:
    """Check and normalise CAP fields for ``message``. Raises InvalidInput with per-field errors."""
    now = now or timezone.now()
    if message.urgency not in ALERT_URGENCIES:
        raise InvalidInput(gettext("CAP alert fields are for priority and emergency messages."),
                           code="not_an_alert", fields={"urgency": ["Make the message priority or emergency."]})
    defaults = DEFAULTS[message.urgency]
    cleaned: dict[str, Any] = {
        "category": _choices(values, "category", CATEGORIES) or ["Safety"],
        "event": sanitize_text(str(values.get("event") or ""), max_length=120),
        "urgency": _choice(values, "urgency", URGENCIES, defaults["urgency"]),
        "severity": _choice(values, "severity", SEVERITIES, defaults["severity"]),
        "certainty": _choice(values, "certainty", CERTAINTIES, defaults["certainty"]),
        "responseType": _choices(values, "responseType", RESPONSE_TYPES),
    }
    if not cleaned["event"]:
        event = message.campaign.event if message.campaign_id else None
        cleaned["event"] = event.name[:120] if event else ""
    if not cleaned["event"]:
        raise InvalidInput(gettext("Name the event the alert is about (for example: Crowd safety)."),
                           fields={"event": ["This field may not be blank."]})
    if values.get("expires"):
        cleaned["expires"] = _expires(values["expires"], now)
    area = {k: str(values.get(k) or "").strip() for k in ("areaDesc", "circle", "polygon")}
    if not any(area.values()):
        area = event_area(message.campaign.event if message.campaign_id else None)
    if area.get("circle"):
        cleaned["circle"] = clean_circle(area["circle"])
    if area.get("polygon"):
        cleaned["polygon"] = clean_polygon(area["polygon"])
    cleaned["areaDesc"] = sanitize_text(area.get("areaDesc", ""), max_length=200)
    if not cleaned["areaDesc"] or not (cleaned.get("circle") or cleaned.get("polygon")):
        raise InvalidInput(gettext("Describe the area to notify and give it as a circle or a polygon."),
                           fields={"areaDesc": ["Describe the area and give a circle or polygon."]})
    instruction = sanitize_text(str(values.get("instruction") or ""), max_length=1000)
    if instruction:
        cleaned["instruction"] = instruction
    sender = str(values.get("sender") or "").strip()
    if sender:
        if not _SENDER.match(sender):
            raise InvalidInput(gettext("The sender is an address without spaces, commas, < or &."),
                               fields={"sender": ["Invalid sender."]})
        cleaned["sender"] = sender
    sender_name = sanitize_text(str(values.get("senderName") or ""), max_length=200)
    if sender_name:
        cleaned["senderName"] = sender_name
    web = str(values.get("web") or "").strip()
    if web:
        if not web.lower().startswith(("https://", "http://")) or any(c.isspace() for c in web):
            raise InvalidInput(gettext("The web address starts with https://."), fields={"web": ["Invalid address."]})
        cleaned["web"] = web[:500]
    return cleaned


@transaction.atomic
def message_set_cap(*, actor: User, message: Message, values: dict[str, Any] | None) -> Message:
    """Set (or, with empty ``values``, clear) the CAP fields. Part of the approved content."""
    if not policy_for(Message).may(actor, "draft", message):
        raise NotAllowed(gettext("You cannot edit messages of this team."))
    cleaned = clean_cap(values, message=message) if values else {}
    message = message_update(actor=actor, message=message, cap=cleaned)
    audit_record(actor=actor, verb="message.cap_set", target=message,
                 summary={"cap": cleaned, "version": message.version})
    return message
