"""Segments: audiences described by languages, channels, areas and needs. Never lists of people."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import Team, User
from accounts.policies import policy_for
from campaigns.models import ChannelKind, Need, Partner, Segment
from core.errors import InvalidInput, NotAllowed
from core.sanitize import sanitize_text


def _clean_list(values: Any, *, field: str, allowed: set[str] | None = None, lower: bool = False) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, list | tuple):
        raise InvalidInput(f"{field} must be a list.", fields={field: ["Expected a list."]})
    out: list[str] = []
    for raw in values:
        item = sanitize_text(str(raw), max_length=100)
        if lower:
            item = item.lower()
        if not item:
            continue
        if allowed is not None and item not in allowed:
            raise InvalidInput(f"Unknown value {item!r} in {field}.", fields={field: [f"Unknown: {item}"]})
        if item not in out:
            out.append(item)
    return out


def _clean_languages(values: Any) -> list[str]:
    langs = _clean_list(values, field="languages", lower=True)
    for lang in langs:
        if not (2 <= len(lang.split("-")[0]) <= 3 and lang.replace("-", "").isalpha()):
            raise InvalidInput(gettext("%(code)s is not an ISO 639-1 language code.") % {"code": repr(lang)},
                               fields={"languages": ["Invalid code."]})
    return langs


def _segment_fields(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in data:
        out["name"] = sanitize_text(data["name"], max_length=200)
        if not out["name"]:
            raise InvalidInput(gettext("The segment needs a name."),
                               fields={"name": ["This field may not be blank."]})
    if "description" in data:
        out["description"] = sanitize_text(data["description"] or "")
    if "languages" in data:
        out["languages"] = _clean_languages(data["languages"])
    if "channels" in data:
        out["channels"] = _clean_list(data["channels"], field="channels", allowed=set(ChannelKind.values))
    if "areas" in data:
        out["areas"] = _clean_list(data["areas"], field="areas")
    if "needs" in data:
        out["needs"] = _clean_list(data["needs"], field="needs", allowed=set(Need.values))
    return out


@transaction.atomic
def segment_create(*, actor: User, team: Team, **data: Any) -> Segment:
    if not permissions.can_manage_segments(actor, team):
        raise NotAllowed(gettext("You cannot manage this team's segments."))
    fields = _segment_fields({"name": data.get("name", ""), **data})
    partners = data.get("partners") or []
    try:
        with transaction.atomic():
            segment = Segment.objects.create(team=team, **fields)
    except IntegrityError as exc:
        raise InvalidInput(gettext("This team already has a segment with that name."), code="duplicate",
                           fields={"name": ["Taken."]}) from exc
    _set_partners(segment, partners)
    audit_record(actor=actor, verb="segment.created", target=segment, summary=fields)
    return segment


@transaction.atomic
def segment_update(*, actor: User, segment: Segment, **data: Any) -> Segment:
    if not policy_for(Segment).may(actor, "draft", segment):
        raise NotAllowed(gettext("You cannot manage this team's segments."))
    fields = _segment_fields(data)
    before = {k: getattr(segment, k) for k in fields}
    for key, value in fields.items():
        setattr(segment, key, value)
    if fields:
        try:
            with transaction.atomic():
                segment.save(update_fields=[*fields.keys(), "updated_at"])
        except IntegrityError as exc:
            raise InvalidInput(gettext("This team already has a segment with that name."), code="duplicate",
                               fields={"name": ["Taken."]}) from exc
    if "partners" in data:
        _set_partners(segment, data["partners"] or [])
    audit_record(actor=actor, verb="segment.updated", target=segment, summary={"before": before, "after": fields})
    return segment


def _set_partners(segment: Segment, partners: list[dict[str, Any]]) -> None:
    if not isinstance(partners, list):
        raise InvalidInput(gettext("partners must be a list."), fields={"partners": ["Expected a list."]})
    kinds = {k for k, _ in Partner.KINDS}
    segment.partners.all().delete()
    for item in partners:
        if not isinstance(item, dict) or not sanitize_text(str(item.get("name", ""))):
            raise InvalidInput(gettext("Each partner needs a name."),
                               fields={"partners": ["Each partner needs a name."]})
        kind = item.get("kind") or "other"
        if kind not in kinds:
            raise InvalidInput(gettext("Unknown partner kind."),
                               fields={"partners": [f"Unknown kind {kind}."]})
        channel_id = item.get("channel")
        if channel_id and not segment.team.channels.filter(pk=channel_id).exists():
            raise InvalidInput(gettext("A partner's channel must be one of this team's."),
                               fields={"partners": ["Bad channel."]})
        Partner.objects.create(segment=segment, name=sanitize_text(str(item["name"]), max_length=200), kind=kind,
                               channel_id=channel_id or None,
                               contact_note=sanitize_text(str(item.get("contact_note", "")), max_length=300))
