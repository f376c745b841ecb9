"""Events (gatherings) and campaigns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext, gettext_noop

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import Team, User
from accounts.policies import policy_for
from campaigns.models import (
    PUBLIC_EVENT_FIELDS,
    Campaign,
    Event,
    EventKind,
    EventRevision,
    Phase,
    RiskLevel,
    snapshot_hash,
)
from core.errors import InvalidInput, NotAllowed, NotFound, WrongState
from core.sanitize import sanitize_text

_TEXT_FIELDS = ("description", "location", "what_to_bring", "prohibited_items", "help_points")

# Sanity limits on an event's times: a typo (or a test) like 1900-9999 must not put "Happening now"
# on the public home page. Encampments may last long; everything else is a gathering of days.
EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)
MAX_YEARS_AHEAD = 5
MAX_DURATION = timedelta(days=31)
MAX_ENCAMPMENT_DURATION = timedelta(days=3 * 366)


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
        raise InvalidInput(gettext("Unknown event kind."),
                           fields={"kind": [f"Choose one of {', '.join(EventKind.values)}."]})
    if data.get("risk_level") and data["risk_level"] not in RiskLevel.values:
        raise InvalidInput(gettext("Unknown risk level."), fields={"risk_level": ["Invalid choice."]})
    starts, ends = data.get("starts_at"), data.get("ends_at")
    if starts and ends and ends <= starts:
        raise InvalidInput(gettext("The event must end after it starts."),
                           fields={"ends_at": ["Must be after the start."]})
    _validate_times(kind=data.get("kind") or "", starts=starts, ends=ends)
    lat, lon = data.get("latitude"), data.get("longitude")
    if lat is not None and not -90 <= float(lat) <= 90:
        raise InvalidInput(gettext("Latitude is between -90 and 90."), fields={"latitude": ["Out of range."]})
    if lon is not None and not -180 <= float(lon) <= 180:
        raise InvalidInput(gettext("Longitude is between -180 and 180."),
                           fields={"longitude": ["Out of range."]})
    polygon = data.get("polygon")
    if polygon:
        if not isinstance(polygon, list) or len(polygon) < 3 or not all(
            isinstance(p, list | tuple) and len(p) == 2 and -90 <= float(p[0]) <= 90 and -180 <= float(p[1]) <= 180
            for p in polygon
        ):
            raise InvalidInput(gettext("A polygon is at least three [lat, lon] points."),
                               fields={"polygon": ["Invalid."]})


def _to_minute(value: datetime | None) -> datetime | None:
    """Event times are to the minute, as the desk's form gives them: a save from the form must not
    make a draft of seconds nobody can see."""
    return value.replace(second=0, microsecond=0) if isinstance(value, datetime) else value


def _validate_times(*, kind: str, starts: datetime | None, ends: datetime | None) -> None:
    latest = timezone.now() + timedelta(days=366 * MAX_YEARS_AHEAD)
    for key, value in (("starts_at", starts), ("ends_at", ends)):
        if value is not None and not EARLIEST_EVENT <= value <= latest:
            raise InvalidInput(
                gettext("Give a date between %(first)s and %(last)s.") % {"first": EARLIEST_EVENT.year, "last": latest.year},
                fields={key: [f"Out of range: between {EARLIEST_EVENT.year} and {latest.year}."]})
    if starts and ends:
        limit = MAX_ENCAMPMENT_DURATION if kind == EventKind.ENCAMPMENT else MAX_DURATION
        if ends - starts > limit:
            what = "An encampment" if kind == EventKind.ENCAMPMENT else "An event of this kind"
            raise InvalidInput(
                f"{what} can last at most {limit.days} days; check the dates (or make it an encampment).",
                fields={"ends_at": [f"At most {limit.days} days after the start."]})


# --- revisions: the public fields go out only as a second person published them ----------------

def _latest_revision(event: Event) -> EventRevision | None:
    return EventRevision.objects.filter(event=event).order_by("-number").first()


def _record_revision(*, actor: User | None, event: Event, author_label: str = "") -> EventRevision | None:
    """A new draft revision if the working copy's public fields differ from the latest revision."""
    event.refresh_from_db(fields=list(PUBLIC_EVENT_FIELDS))
    snapshot = event.public_snapshot()
    digest = snapshot_hash(snapshot)
    latest = _latest_revision(event)
    if latest is not None and latest.content_hash == digest:
        return None
    revision = EventRevision.objects.create(
        event=event, number=(latest.number + 1) if latest else 1, snapshot=snapshot, content_hash=digest,
        starts_at=event.starts_at, ends_at=event.ends_at, is_public=event.is_public,
        author=actor if actor is not None and actor.is_authenticated else None, author_label=author_label[:200])
    audit_record(actor=actor, verb="event.revision_drafted", target=event,
                 summary={"revision": revision.number, "content_hash": digest})
    return revision


def pending_revisions(event: Event) -> list[EventRevision]:
    """The draft revisions written since the last publication, oldest first."""
    qs = EventRevision.objects.filter(event=event, published_at__isnull=True)
    if event.published_revision_id:
        qs = qs.filter(number__gt=EventRevision.objects.filter(pk=event.published_revision_id)
                       .values_list("number", flat=True)[0])
    return list(qs.select_related("author").order_by("number"))


def event_draft(event: Event) -> EventRevision | None:
    """The revision waiting to be published: the latest one, if it is newer than the published one."""
    latest = _latest_revision(event)
    if latest is None or latest.published_at is not None or latest.pk == event.published_revision_id:
        return None
    if event.published_revision_id and latest.content_hash == event.published_revision.content_hash:
        return None  # changed and changed back: the public already sees these words
    return latest


def event_diff(event: Event) -> list[dict[str, Any]]:
    """Field by field: what the public sees now, and what publishing the draft would show."""
    draft = event_draft(event)
    if draft is None:
        return []
    published = event.published_revision.snapshot if event.published_revision_id else {}
    zone = _zone(event.team.timezone if event.team_id else "")
    return [{"field": name, "label": gettext(_LABELS.get(name, name.replace("_", " ").capitalize())),  # noqa: INT001
             "published": _display(name, published.get(name), zone) if event.published_revision_id else None,
             "draft": _display(name, draft.snapshot.get(name), zone)}
            for name in PUBLIC_EVENT_FIELDS if published.get(name) != draft.snapshot.get(name)]


_LABELS = {"phase_override": gettext_noop("Phase (set by a supervisor)"),
           "is_public": gettext_noop("Shown on the public pages"), "help_points": gettext_noop("Where to get help"),
           "radius_m": gettext_noop("Radius (metres)"), "starts_at": gettext_noop("Starts"), "ends_at": gettext_noop("Ends")}
# The other fields' labels in the diff (their names, capitalised), for the catalogs.
_FIELD_WORDS = (gettext_noop("Name"), gettext_noop("Kind"), gettext_noop("Description"), gettext_noop("Location"),
                gettext_noop("Latitude"), gettext_noop("Longitude"), gettext_noop("Polygon"), gettext_noop("Hashtags"),
                gettext_noop("What to bring"), gettext_noop("Prohibited items"))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or settings.ENGAGE_DEFAULT_TIMEZONE)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _display(name: str, value: Any, zone: ZoneInfo) -> str:
    """A snapshot value as the desk shows it in a diff."""
    if value in (None, "", []):
        return "—"
    if name in ("starts_at", "ends_at"):  # Django's day and month names, in the desk's language
        return date_format(datetime.fromisoformat(value).astimezone(zone), "D d M Y H:i T")
    if name == "kind" and value in EventKind.values:
        return gettext(EventKind(value).label)  # noqa: INT001 - campaigns/desk_labels.py
    if name == "phase_override" and value in Phase.values:
        return gettext(Phase(value).label)  # noqa: INT001
    if name == "hashtags":
        return " ".join(f"#{tag}" for tag in value)
    if name == "is_public":
        return gettext("Yes") if value else gettext("No")
    if name == "polygon":
        return "; ".join(f"{p[0]}, {p[1]}" for p in value)
    return str(value)


@transaction.atomic
def event_publish(*, actor: User, event: Event, expected_hash: str) -> Event:
    """A supervisor of the event's team, who wrote none of the drafts since the last publication,
    publishes exactly the revision they reviewed (by its content hash)."""
    event = Event.objects.select_for_update().filter(pk=event.pk).first()
    if event is None or not policy_for(Event).may(actor, "view", event):
        raise NotFound(gettext("No such event."))
    pending = pending_revisions(event)
    authors = {r.author_id for r in pending if r.author_id is not None}
    if not permissions.can_publish_event(actor, event, draft_authors=authors):
        if actor.pk in authors:
            raise NotAllowed(gettext("You wrote changes in this draft, so another supervisor must publish it."),
                             code="own_revision")
        raise NotAllowed(gettext("Only a supervisor of this team can publish an event's public page."))
    draft = event_draft(event)
    if draft is None:
        raise WrongState(gettext("Nothing to publish: the public page already shows the latest version."),
                         code="nothing_to_publish")
    if not expected_hash or expected_hash != draft.content_hash \
            or draft.content_hash != snapshot_hash(event.public_snapshot()):
        raise WrongState(gettext("The event changed since you opened it. Review the current version."),
                         code="content_changed")
    now = timezone.now()
    updated = EventRevision.objects.filter(pk=draft.pk, published_at__isnull=True).update(
        published_by=actor, published_at=now)
    if updated != 1:
        raise WrongState(gettext("This revision was published meanwhile."), code="nothing_to_publish")
    event.published_revision = draft
    event.save(update_fields=["published_revision", "updated_at"])
    audit_record(actor=actor, verb="event.published", target=event,
                 summary={"revision": draft.number, "content_hash": draft.content_hash,
                          "authors": sorted(authors), "first": len(EventRevision.objects.filter(
                              event=event, published_at__isnull=False)[:2]) == 1})
    return event


@transaction.atomic
def event_publish_seeded(*, event: Event, label: str = "seed") -> Event:
    """Demo and shipped data only: publish the working copy as a revision written and published by
    the system (``label``), with no user. Never reachable from a view or the API."""
    revision = _record_revision(actor=None, event=event, author_label=label) or _latest_revision(event)
    if revision is not None and revision.published_at is None:
        EventRevision.objects.filter(pk=revision.pk).update(published_at=timezone.now())
        event.published_revision = revision
        event.save(update_fields=["published_revision", "updated_at"])
        audit_record(actor=None, verb="event.published", target=event,
                     summary={"revision": revision.number, "content_hash": revision.content_hash, "seed": label})
    return event


@transaction.atomic
def event_create(
    *, actor: User, team: Team, name: str, kind: str, starts_at: datetime, ends_at: datetime | None = None,
    **fields: Any,
) -> Event:
    if not permissions.can_manage_events(actor, team):
        raise NotAllowed(gettext("You cannot create events for this team."))
    name = sanitize_text(name, max_length=200)
    if not name:
        raise InvalidInput(gettext("The event needs a name."),
                           fields={"name": ["This field may not be blank."]})
    data = {"kind": kind, "starts_at": _to_minute(starts_at), "ends_at": _to_minute(ends_at), **fields}
    _validate_event(data)
    for key in _TEXT_FIELDS:
        if key in data:
            data[key] = sanitize_text(data[key] or "")
    data["hashtags"] = _clean_hashtags(data.get("hashtags"))
    data.pop("phase_override", None)
    event = Event.objects.create(team=team, name=name, created_by=actor, **data)
    audit_record(actor=actor, verb="event.created", target=event, summary={"name": name, "kind": kind})
    _record_revision(actor=actor, event=event)
    return event


@transaction.atomic
def event_update(*, actor: User, event: Event, **changes: Any) -> Event:
    if not policy_for(Event).may(actor, "draft", event):
        raise NotAllowed(gettext("You cannot edit this team's events."))
    event = Event.objects.select_for_update().get(pk=event.pk)
    changes.pop("phase_override", None)
    changes.pop("team", None)
    if "name" in changes:
        changes["name"] = sanitize_text(changes["name"], max_length=200)
        if not changes["name"]:
            raise InvalidInput(gettext("The event needs a name."),
                               fields={"name": ["This field may not be blank."]})
    for key in _TEXT_FIELDS:
        if key in changes:
            changes[key] = sanitize_text(changes[key] or "")
    if "hashtags" in changes:
        changes["hashtags"] = _clean_hashtags(changes["hashtags"])
    for key in ("starts_at", "ends_at"):
        if key in changes:
            changes[key] = _to_minute(changes[key])
    merged = {"kind": event.kind, "starts_at": event.starts_at, "ends_at": event.ends_at, **changes}
    _validate_event(merged)
    before = {k: str(getattr(event, k)) for k in changes}
    for key, value in changes.items():
        setattr(event, key, value)
    event.save(update_fields=[*changes.keys(), "updated_at"])
    audit_record(actor=actor, verb="event.updated", target=event,
                 summary={"before": before, "after": {k: str(v) for k, v in changes.items()}})
    _record_revision(actor=actor, event=event)
    return event


@transaction.atomic
def event_set_phase(*, actor: User, event: Event, phase: str | None, reason: str = "") -> Event:
    """A supervisor overrides the derived phase (or clears the override with ``None``)."""
    if not policy_for(Event).may(actor, "supervise", event):
        raise NotAllowed(gettext("Only a supervisor can override an event's phase."))
    if phase and phase not in Phase.values:
        raise InvalidInput(gettext("Phase is before, during or after."),
                           fields={"phase": ["Invalid choice."]})
    before = event.phase_override
    event.phase_override = phase or ""
    event.save(update_fields=["phase_override", "updated_at"])
    audit_record(actor=actor, verb="event.phase_overridden", target=event,
                 summary={"from": before, "to": event.phase_override, "reason": reason[:500]})
    _record_revision(actor=actor, event=event)
    return event


@transaction.atomic
def campaign_create(
    *, actor: User, team: Team, name: str, event: Event | None = None, description: str = "",
    inbox_answer: bool = False,
) -> Campaign:
    """``inbox_answer``: the team's campaign for answers to replies, which a liaison officer's first
    free-text answer may create (``engage.inbound.answers`` alone passes it)."""
    if not (permissions.can_draft(actor, team) or (inbox_answer and permissions.can_triage(actor, team))):
        raise NotAllowed(gettext("You cannot create campaigns for this team."))
    if event is not None and event.team_id != team.pk and not policy_for(Event).may(actor, "view", event):
        raise NotFound(gettext("No such event."))
    name = sanitize_text(name, max_length=200)
    if not name:
        raise InvalidInput(gettext("The campaign needs a name."),
                           fields={"name": ["This field may not be blank."]})
    campaign = Campaign.objects.create(team=team, name=name, event=event, description=sanitize_text(description),
                                       created_by=actor)
    audit_record(actor=actor, verb="campaign.created", target=campaign, summary={"name": name})
    return campaign


@transaction.atomic
def campaign_update(*, actor: User, campaign: Campaign, **changes: Any) -> Campaign:
    if not permissions.can_draft(actor, campaign.team_id):
        raise NotAllowed(gettext("You cannot edit this team's campaigns."))
    changes.pop("team", None)
    if "name" in changes:
        changes["name"] = sanitize_text(changes["name"], max_length=200)
        if not changes["name"]:
            raise InvalidInput(gettext("The campaign needs a name."),
                               fields={"name": ["This field may not be blank."]})
    if "description" in changes:
        changes["description"] = sanitize_text(changes["description"])
    event = changes.get("event")
    if event is not None and not policy_for(Event).may(actor, "view", event):
        raise NotFound(gettext("No such event."))
    for key, value in changes.items():
        setattr(campaign, key, value)
    campaign.save(update_fields=list(changes.keys()))
    audit_record(actor=actor, verb="campaign.updated", target=campaign,
                 summary={k: str(v) for k, v in changes.items()})
    return campaign
