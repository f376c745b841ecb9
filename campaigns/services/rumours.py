"""Rumour control: officers register claims; supervisors say whether they are true.

A new rumour is not public. A supervisor's first status decision (with an explanation)
publishes it on the event's live page; every later decision is added to the public
corrections log. Nothing here is ever deleted: a correction is a new row.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import User
from campaigns.models import Event, Rumour, RumourChange, RumourStatus
from engage.common.errors import InvalidInput, NotAllowed, NotFound, WrongState
from engage.common.sanitize import sanitize_text

MAX_CLAIM = 500
MAX_EXPLANATION = 2000


def _clean_claim(claim: str) -> str:
    text = sanitize_text(claim or "")
    if not text:
        raise InvalidInput("Write down the claim as people are repeating it.",
                           fields={"claim": ["This field may not be blank."]})
    if len(text) > MAX_CLAIM:
        raise InvalidInput(f"Keep the claim under {MAX_CLAIM} characters.", fields={"claim": ["Too long."]})
    return text


def _clean_explanation(explanation: str) -> str:
    text = sanitize_text(explanation or "")
    if not text:
        raise InvalidInput("Explain what we know: the public sees this.",
                           fields={"explanation": ["This field may not be blank."]})
    if len(text) > MAX_EXPLANATION:
        raise InvalidInput(f"Keep the explanation under {MAX_EXPLANATION} characters.",
                           fields={"explanation": ["Too long."]})
    return text


@transaction.atomic
def rumour_create(*, actor: User, event: Event, claim: str) -> Rumour:
    """An officer or supervisor of the event's team registers a claim they have seen. Not public yet."""
    if not permissions.can_view_team(actor, event.team_id):
        raise NotFound("No such event.")
    if not permissions.can_manage_events(actor, event.team_id):
        raise NotAllowed("Only officers and supervisors of this team register rumours.")
    rumour = Rumour.objects.create(event=event, claim=_clean_claim(claim), created_by=actor,
                                   status=RumourStatus.UNVERIFIED)
    audit_record(actor=actor, verb="rumour.created", target=rumour, team=event.team_id,
                 summary={"event": event.pk, "claim": rumour.claim})
    return rumour


@transaction.atomic
def rumour_set_status(*, actor: User, rumour: Rumour, status: str, explanation: str) -> Rumour:
    """A supervisor decides: confirmed, false or unverified, with a public explanation.

    The first decision publishes the rumour; each decision is a row in the corrections log.
    """
    rumour = Rumour.objects.select_for_update().select_related("event").filter(pk=rumour.pk).first()
    if rumour is None or not permissions.can_view_team(actor, rumour.event.team_id):
        raise NotFound("No such rumour.")
    if not permissions.can_set_rumour_status(actor, rumour.event.team_id):
        raise NotAllowed("Only a supervisor of this team can say whether a rumour is true.")
    if status not in RumourStatus.values:
        raise InvalidInput("Status is confirmed, false or unverified.", fields={"status": ["Invalid choice."]})
    text = _clean_explanation(explanation)
    if rumour.is_public and status == rumour.status and text == rumour.explanation:
        raise WrongState("Nothing changed: give a new status or a new explanation.", code="unchanged")
    now = timezone.now()
    previous = rumour.status if rumour.is_public else ""
    RumourChange.objects.create(rumour=rumour, previous_status=previous, status=status, explanation=text,
                                actor=actor, created_at=now)
    rumour.status = status
    rumour.explanation = text
    rumour.status_changed_at = now
    fields = ["status", "explanation", "status_changed_at", "updated_at"]
    if rumour.published_at is None:
        rumour.published_at = now
        fields.append("published_at")
    rumour.save(update_fields=fields)
    audit_record(actor=actor, verb="rumour.status_set", target=rumour, team=rumour.event.team_id,
                 summary={"from": previous or None, "to": status, "explanation": text[:500],
                          "published": previous == ""})
    return rumour
