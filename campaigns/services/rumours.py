"""Rumour control: officers register claims; one person writes a verdict, a second publishes it.

A new rumour is not public. A verdict (status and explanation) is a ``RumourVerdict`` version
written by an officer or supervisor; a supervisor who wrote neither the version nor (the first
time) the claim publishes it on the event's live page, and every publication is added to the
public corrections log. In an emergency a supervisor may publish their own version, flagged for a
second supervisor's review afterwards. Nothing here is ever deleted: a correction is a new row.
"""

from __future__ import annotations

import hashlib
import json

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import User
from campaigns.models import Event, Rumour, RumourChange, RumourStatus, RumourVerdict
from core.errors import InvalidInput, NotAllowed, NotFound, WrongState
from core.sanitize import sanitize_text

MAX_CLAIM = 500
MAX_EXPLANATION = 2000


def _clean_claim(claim: str) -> str:
    text = sanitize_text(claim or "")
    if not text:
        raise InvalidInput(gettext("Write down the claim as people are repeating it."),
                           fields={"claim": ["This field may not be blank."]})
    if len(text) > MAX_CLAIM:
        raise InvalidInput(gettext("Keep the claim under %(max)s characters.") % {"max": MAX_CLAIM},
                           fields={"claim": ["Too long."]})
    return text


def _clean_explanation(explanation: str) -> str:
    text = sanitize_text(explanation or "")
    if not text:
        raise InvalidInput(gettext("Explain what we know: the public sees this."),
                           fields={"explanation": ["This field may not be blank."]})
    if len(text) > MAX_EXPLANATION:
        raise InvalidInput(gettext("Keep the explanation under %(max)s characters.") % {"max": MAX_EXPLANATION},
                           fields={"explanation": ["Too long."]})
    return text


@transaction.atomic
def rumour_create(*, actor: User, event: Event, claim: str) -> Rumour:
    """An officer or supervisor of the event's team registers a claim they have seen. Not public yet."""
    if not permissions.can_view_team(actor, event.team_id):
        raise NotFound(gettext("No such event."))
    if not permissions.can_manage_events(actor, event.team_id):
        raise NotAllowed(gettext("Only officers and supervisors of this team register rumours."))
    rumour = Rumour.objects.create(event=event, claim=_clean_claim(claim), created_by=actor,
                                   status=RumourStatus.UNVERIFIED)
    audit_record(actor=actor, verb="rumour.created", target=rumour, team=event.team_id,
                 summary={"event": event.pk, "claim": rumour.claim})
    return rumour


def verdict_hash(*, claim: str, status: str, explanation: str) -> str:
    payload = json.dumps({"claim": claim, "status": status, "explanation": explanation}, sort_keys=True,
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _lock_rumour(actor: User, rumour_id: int) -> Rumour:
    rumour = Rumour.objects.select_for_update().select_related("event").filter(pk=rumour_id).first()
    if rumour is None or not permissions.can_view_team(actor, rumour.event.team_id):
        raise NotFound(gettext("No such rumour."))
    return rumour


def verdict_writers(rumour: Rumour, verdict: RumourVerdict) -> set[int]:
    """Who wrote the words a publication would put out: the version's author and, for a rumour not
    yet public, whoever wrote the claim."""
    writers = {verdict.author_id}
    if not rumour.is_public:
        writers.add(rumour.created_by_id)
    return writers


@transaction.atomic
def rumour_verdict_write(*, actor: User, rumour: Rumour, status: str, explanation: str) -> RumourVerdict:
    """An officer or supervisor writes a verdict: a new version, not public until a second person
    publishes it. Any older unpublished version is superseded."""
    rumour = _lock_rumour(actor, rumour.pk)
    if not permissions.can_set_rumour_status(actor, rumour.event.team_id):
        raise NotAllowed(gettext("Only officers and supervisors of this team write what we say about a rumour."))
    if status not in RumourStatus.values:
        raise InvalidInput(gettext("Status is confirmed, false or unverified."),
                           fields={"status": ["Invalid choice."]})
    text = _clean_explanation(explanation)
    if rumour.is_public and status == rumour.status and text == rumour.explanation:
        raise WrongState(gettext("Nothing changed: give a new status or a new explanation."),
                         code="unchanged")
    now = timezone.now()
    RumourVerdict.objects.filter(rumour=rumour, published_at__isnull=True, superseded_at__isnull=True).update(
        superseded_at=now)
    last = RumourVerdict.objects.filter(rumour=rumour).order_by("-number").values_list("number", flat=True).first()
    verdict = RumourVerdict.objects.create(
        rumour=rumour, number=(last or 0) + 1, claim=rumour.claim, status=status, explanation=text,
        content_hash=verdict_hash(claim=rumour.claim, status=status, explanation=text), author=actor,
        created_at=now)
    audit_record(actor=actor, verb="rumour.verdict_written", target=rumour, team=rumour.event.team_id,
                 summary={"verdict": verdict.pk, "version": verdict.number, "status": status,
                          "explanation": text[:500], "content_hash": verdict.content_hash})
    return verdict


@transaction.atomic
def rumour_verdict_publish(*, actor: User, verdict: RumourVerdict, expected_hash: str = "",
                           emergency: bool = False) -> Rumour:
    """A supervisor who wrote none of it publishes a verdict version on the event's live page.

    With ``emergency``, a supervisor may publish their own version at once; it is flagged for a
    second supervisor's review. The first publication makes the rumour public; each publication
    is a row in the corrections log.
    """
    rumour = _lock_rumour(actor, verdict.rumour_id)
    verdict = RumourVerdict.objects.select_for_update().get(pk=verdict.pk)
    team_id = rumour.event.team_id
    writers = verdict_writers(rumour, verdict)
    self_emergency = False
    if not permissions.can_publish_rumour_verdict(actor, team_id, writers=writers):
        if emergency and permissions.can_emergency_publish(actor, team_id):
            self_emergency = True
        elif actor.pk in writers and permissions.can_emergency_publish(actor, team_id):
            raise NotAllowed(gettext("You wrote this verdict (or the claim), so another supervisor must publish it; "
                             "in an emergency, publish it yourself as an emergency for review afterwards."),
                             code="own_verdict")
        else:
            raise NotAllowed(gettext("Only a supervisor of this team can publish what we say about a rumour."))
    if not verdict.is_pending:
        raise WrongState(gettext("This version is no longer waiting: it was published or a newer one was written."),
                         code="not_pending")
    current = verdict_hash(claim=rumour.claim, status=verdict.status, explanation=verdict.explanation)
    if current != verdict.content_hash or (expected_hash and expected_hash != current):
        raise WrongState(gettext("The verdict changed since you opened it. Review the current version."),
                         code="content_changed")
    now = timezone.now()
    previous = rumour.status if rumour.is_public else ""
    verdict.published_by, verdict.published_at, verdict.emergency = actor, now, self_emergency
    verdict.save(update_fields=["published_by", "published_at", "emergency"])
    RumourVerdict.objects.filter(rumour=rumour, published_at__isnull=True, superseded_at__isnull=True).update(
        superseded_at=now)
    RumourChange.objects.create(rumour=rumour, previous_status=previous, status=verdict.status,
                                explanation=verdict.explanation, actor=actor, created_at=now, verdict=verdict)
    rumour.status = verdict.status
    rumour.explanation = verdict.explanation
    rumour.status_changed_at = now
    fields = ["status", "explanation", "status_changed_at", "updated_at"]
    if rumour.published_at is None:
        rumour.published_at = now
        fields.append("published_at")
    rumour.save(update_fields=fields)
    audit_record(actor=actor, verb="rumour.status_set", target=rumour, team=team_id,
                 summary={"from": previous or None, "to": verdict.status, "explanation": verdict.explanation[:500],
                          "published": previous == "", "verdict": verdict.pk, "author": verdict.author_id,
                          "content_hash": current, "emergency_self_published": self_emergency})
    return rumour


@transaction.atomic
def rumour_verdict_review(*, actor: User, verdict: RumourVerdict, comment: str = "") -> RumourVerdict:
    """A second supervisor reviews a verdict its author self-published in an emergency."""
    rumour = _lock_rumour(actor, verdict.rumour_id)
    verdict = RumourVerdict.objects.select_for_update().get(pk=verdict.pk)
    if not verdict.emergency:
        raise WrongState(gettext("This verdict was not self-published; there is nothing to review."),
                         code="not_emergency")
    if verdict.emergency_reviewed_at is not None:
        raise WrongState(gettext("This emergency verdict has already been reviewed."),
                         code="already_reviewed")
    if not permissions.can_review_emergency_publication(actor, rumour.event.team_id,
                                                        publisher_id=verdict.published_by_id):
        raise NotAllowed(gettext("A second supervisor, not the one who published it, must review an emergency verdict."))
    verdict.emergency_reviewed_by, verdict.emergency_reviewed_at = actor, timezone.now()
    verdict.save(update_fields=["emergency_reviewed_by", "emergency_reviewed_at"])
    audit_record(actor=actor, verb="rumour.emergency_reviewed", target=rumour, team=rumour.event.team_id,
                 summary={"verdict": verdict.pk, "comment": sanitize_text(comment or "")[:500]})
    return verdict
