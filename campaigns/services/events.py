"""Events (gatherings) and campaigns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import Team, User
from campaigns.models import Campaign, Event, EventKind, Phase, RiskLevel
from engage.common.errors import InvalidInput, NotAllowed, NotFound
from engage.common.sanitize import sanitize_text

_TEXT_FIELDS = ("description", "location", "what_to_bring", "prohibited_items", "help_points")


def _clean_hashtags(values: Any) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    tags: list[str] = []
    for raw in values:
        tag = sanitize_text(str(raw)).lstrip("#").strip()
        if tag and not any(ch.isspace() for ch in tag) and tag not in tags:
            tags.append(tag[:100])
    return tags


def _validate_event(data: dict[str, Any]) -> None:
    if data.get("kind") and data["kind"] not in EventKind.values:
        raise InvalidInput("Unknown event kind.", fields={"kind": [f"Choose one of {', '.join(EventKind.values)}."]})
    if data.get("risk_level") and data["risk_level"] not in RiskLevel.values:
        raise InvalidInput("Unknown risk level.", fields={"risk_level": ["Invalid choice."]})
    starts, ends = data.get("starts_at"), data.get("ends_at")
    if starts and ends and ends <= starts:
        raise InvalidInput("The event must end after it starts.", fields={"ends_at": ["Must be after the start."]})
    lat, lon = data.get("latitude"), data.get("longitude")
    if lat is not None and not -90 <= float(lat) <= 90:
        raise InvalidInput("Latitude is between -90 and 90.", fields={"latitude": ["Out of range."]})
    if lon is not None and not -180 <= float(lon) <= 180:
        raise InvalidInput("Longitude is between -180 and 180.", fields={"longitude": ["Out of range."]})
    polygon = data.get("polygon")
    if polygon:
        if not isinstance(polygon, list) or len(polygon) < 3 or not all(
            isinstance(p, list | tuple) and len(p) == 2 and -90 <= float(p[0]) <= 90 and -180 <= float(p[1]) <= 180
            for p in polygon
        ):
            raise InvalidInput("A polygon is at least three [lat, lon] points.", fields={"polygon": ["Invalid."]})


@transaction.atomic
def event_create(
    *, actor: User, team: Team, name: str, kind: str, starts_at: datetime, ends_at: datetime | None = None,
    **fields: Any,
) -> Event:
    if not permissions.can_manage_events(actor, team):
        raise NotAllowed("You cannot create events for this team.")
    name = sanitize_text(name, max_length=200)
    if not name:
        raise InvalidInput("The event needs a name.", fields={"name": ["This field may not be blank."]})
    data = {"kind": kind, "starts_at": starts_at, "ends_at": ends_at, **fields}
    _validate_event(data)
    for key in _TEXT_FIELDS:
        if key in data:
            data[key] = sanitize_text(data[key] or "")
    data["hashtags"] = _clean_hashtags(data.get("hashtags"))
    data.pop("phase_override", None)
    event = Event.objects.create(team=team, name=name, created_by=actor, **data)
    audit_record(actor=actor, verb="event.created", target=event, summary={"name": name, "kind": kind})
    return event


@transaction.atomic
def event_update(*, actor: User, event: Event, **changes: Any) -> Event:
    if not permissions.can_manage_events(actor, event.team_id):
        raise NotAllowed("You cannot edit this team's events.")
    event = Event.objects.select_for_update().get(pk=event.pk)
    changes.pop("phase_override", None)
    changes.pop("team", None)
    if "name" in changes:
        changes["name"] = sanitize_text(changes["name"], max_length=200)
        if not changes["name"]:
            raise InvalidInput("The event needs a name.", fields={"name": ["This field may not be blank."]})
    for key in _TEXT_FIELDS:
        if key in changes:
            changes[key] = sanitize_text(changes[key] or "")
    if "hashtags" in changes:
        changes["hashtags"] = _clean_hashtags(changes["hashtags"])
    merged = {"starts_at": event.starts_at, "ends_at": event.ends_at, **changes}
    _validate_event(merged)
    before = {k: str(getattr(event, k)) for k in changes}
    for key, value in changes.items():
        setattr(event, key, value)
    event.save(update_fields=[*changes.keys(), "updated_at"])
    audit_record(actor=actor, verb="event.updated", target=event,
                 summary={"before": before, "after": {k: str(v) for k, v in changes.items()}})
    return event


@transaction.atomic
def event_set_phase(*, actor: User, event: Event, phase: str | None, reason: str = "") -> Event:
    """A supervisor overrides the derived phase (or clears the override with ``None``)."""
    if not permissions.can_override_phase(actor, event.team_id):
        raise NotAllowed("Only a supervisor can override an event's phase.")
    if phase and phase not in Phase.values:
        raise InvalidInput("Phase is before, during or after.", fields={"phase": ["Invalid choice."]})
    before = event.phase_override
    event.phase_override = phase or ""
    event.save(update_fields=["phase_override", "updated_at"])
    audit_record(actor=actor, verb="event.phase_overridden", target=event,
                 summary={"from": before, "to": event.phase_override, "reason": reason[:500]})
    return event


@transaction.atomic
def campaign_create(
    *, actor: User, team: Team, name: str, event: Event | None = None, description: str = ""
) -> Campaign:
    if not permissions.can_draft(actor, team):
        raise NotAllowed("You cannot create campaigns for this team.")
    if event is not None and event.team_id != team.pk and not permissions.can_view_team(actor, event.team_id):
        raise NotFound("No such event.")
    name = sanitize_text(name, max_length=200)
    if not name:
        raise InvalidInput("The campaign needs a name.", fields={"name": ["This field may not be blank."]})
    campaign = Campaign.objects.create(team=team, name=name, event=event, description=sanitize_text(description),
                                       created_by=actor)
    audit_record(actor=actor, verb="campaign.created", target=campaign, summary={"name": name})
    return campaign


@transaction.atomic
def campaign_update(*, actor: User, campaign: Campaign, **changes: Any) -> Campaign:
    if not permissions.can_draft(actor, campaign.team_id):
        raise NotAllowed("You cannot edit this team's campaigns.")
    changes.pop("team", None)
    if "name" in changes:
        changes["name"] = sanitize_text(changes["name"], max_length=200)
        if not changes["name"]:
            raise InvalidInput("The campaign needs a name.", fields={"name": ["This field may not be blank."]})
    if "description" in changes:
        changes["description"] = sanitize_text(changes["description"])
    event = changes.get("event")
    if event is not None and not permissions.can_view_team(actor, event.team_id):
        raise NotFound("No such event.")
    for key, value in changes.items():
        setattr(campaign, key, value)
    campaign.save(update_fields=list(changes.keys()))
    audit_record(actor=actor, verb="campaign.updated", target=campaign,
                 summary={k: str(v) for k, v in changes.items()})
    return campaign
