"""Playbook templates: filling {event} {hashtag} {time} {place} from an event."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import Team, User
from campaigns.models import Event, PlaybookTemplate
from core.errors import InvalidInput, NotAllowed
from core.sanitize import sanitize_text

PLACEHOLDERS = ("event", "hashtag", "time", "place", "date")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


def playbook_fill(*, body: str, event: Event | None, zone: str | None = None) -> str:
    """Replace the placeholders we know; leave unknown ones visible so a person fills them."""
    if event is None:
        return body
    local = timezone.localtime(event.starts_at, timezone=_zone(zone or event.team.timezone))
    values = {
        "event": event.name,
        "hashtag": f"#{event.main_hashtag}" if event.main_hashtag else "",
        "time": local.strftime("%H:%M"),
        "date": local.strftime("%A %-d %B"),
        "place": event.location or "",
    }
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)] or m.group(0), body)


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


@transaction.atomic
def playbook_create(*, actor: User, team: Team, title: str, body: str, event_kind: str = "", phase: str = "",
                    language: str = "en", urgency: str = "routine", purpose: str = "") -> PlaybookTemplate:
    if not permissions.can_draft(actor, team):
        raise NotAllowed(gettext("You cannot add templates for this team."))
    title, body = sanitize_text(title, max_length=200), sanitize_text(body)
    if not title or not body:
        raise InvalidInput(gettext("A template needs a title and a text."), fields={"body": ["Required."]})
    try:
        with transaction.atomic():
            template = PlaybookTemplate.objects.create(
                team=team, title=title, body=body, event_kind=event_kind, phase=phase, language=language,
                urgency=urgency, purpose=purpose, created_by=actor)
    except IntegrityError as exc:
        raise InvalidInput(gettext("A template with that title exists."),
                           fields={"title": ["Taken."]}) from exc
    audit_record(actor=actor, verb="playbook.created", target=template, team=team, summary={"title": title})
    return template
