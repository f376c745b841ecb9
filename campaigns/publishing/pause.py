"""The publishing pause: a supervisor stops everything of a team (or a platform operator, of every
force) from leaving; claimed rows that have not started their platform call go back to wait. On
resume, deliveries long overdue wait for review. During a pause, an emergency message leaves only
once a second supervisor confirms it (:func:`emergency_pause_override`).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import User
from accounts.policies import policy_for
from accounts.teams import parent_map, with_descendants
from campaigns.models import Approval, Delivery, DeliveryStatus, Message, PublishingPause, Urgency
from campaigns.publishing.schedule import enqueue_tick
from campaigns.services.messages import lock_message
from core.errors import InvalidInput, NotAllowed, WrongState

RESUME_REVIEW_AFTER = timedelta(minutes=settings.ENGAGE_RESUME_REVIEW_MINUTES)


def paused_team_ids() -> tuple[bool, set[int]]:
    """(everything paused?, ids of paused teams including their sub-teams)."""
    pauses = set(PublishingPause.objects.filter(resumed_at__isnull=True).values_list("team_id", flat=True))
    if None in pauses:
        return True, set()
    if not pauses:
        return False, set()
    return False, with_descendants(pauses, parent_map())


def _any_pause():
    return PublishingPause.objects.filter(resumed_at__isnull=True)


def team_is_paused(team_id: int, *, any_pause: bool | None = None) -> bool:
    """Whether a pause covers ``team_id`` (its own, a parent's or everything's). ``any_pause``: whether
    any pause is in force, when the caller already asked the database."""
    if any_pause is None:
        any_pause = _any_pause().exists()
    if not any_pause:
        return False
    everything, teams = paused_team_ids()
    return everything or team_id in teams


def is_paused_for(message: Message, *, any_pause: bool | None = None) -> bool:
    return team_is_paused(message.team_id, any_pause=any_pause)


def _pause_scope(actor: User, team: int | None, *, verb: str) -> int | None:
    """The team a pause or resume applies to; None only for a platform-wide one.

    A force is a tenant: a supervisor pauses and resumes their own force or its teams. Without a
    team, a platform operator means every force; anyone else means their own force (when they
    supervise exactly one at force level)."""
    if team is not None:
        if not permissions.can_pause_publishing(actor, team):
            raise NotAllowed(f"Only a supervisor of this team can {verb} its publishing.")
        return team
    if permissions.can_pause_everything(actor):
        return None
    forces = permissions.supervised_forces(actor)
    if len(forces) == 1:
        return forces[0]
    if forces:
        raise InvalidInput(gettext("Say which force or team this is for."),
                           fields={"team": ["This field is required."]})
    raise NotAllowed(f"Only a force-level supervisor can {verb} their whole force, and only platform operators "
                     f"every force.")


@transaction.atomic
def publishing_pause(*, actor: User, reason: str, team: int | None = None) -> PublishingPause:
    """Pause ``team`` and the teams below it; without a team, see ``_pause_scope``."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(gettext("Give a reason for the pause."),
                           fields={"reason": ["This field may not be blank."]})
    team = _pause_scope(actor, team, verb="pause")
    pause = PublishingPause.objects.create(team_id=team, reason=reason[:500], paused_by=actor)
    # Claimed rows of the paused teams that have not started their platform call go back to wait.
    claimed = Delivery.objects.filter(status=DeliveryStatus.SENDING, in_flight_since__isnull=True)
    if team is not None:
        # The teams' messages as a subquery, not a join: a join makes Django send WHERE id IN (SELECT
        # ... every condition), and PostgreSQL re-checks only the outer WHERE on a row a worker marked
        # in flight while this waited for its lock; so the in-flight row was sent back to wait, its
        # outcome then not recorded (tests/campaigns/test_lock_races.py).
        messages = policy_for(Message).restrict(Message.objects.all(), with_descendants({team}, parent_map()))
        claimed = claimed.filter(message__in=messages.values("pk"))
    claimed.update(status=DeliveryStatus.PENDING, claim_token="", claimed_at=None)
    audit_record(actor=actor, verb="publishing.paused", target=pause, team=team,
                 summary={"reason": reason, "scope": "platform" if team is None else "team"})
    return pause


@transaction.atomic
def publishing_resume(*, actor: User, reason: str = "", team: int | None = None,
                      restore_report_seen: bool = False) -> int:
    """Lift the pause on ``team`` (see ``_pause_scope``). Deliveries of the teams it covered that are
    more than RESUME_REVIEW_AFTER overdue wait for review. A pause placed by a restore is lifted only
    by someone who says they have read its report (``restore_report_seen``, from the Publishing page)."""
    team = _pause_scope(actor, team, verb="resume")
    pauses = PublishingPause.objects.filter(resumed_at__isnull=True, team_id=team)
    if not pauses.exists():
        if team is not None and _any_pause().filter(team__isnull=True).exists():
            raise WrongState(gettext("Publishing is paused on the whole platform; only a platform operator can resume it."))
        raise WrongState(gettext("Publishing is not paused here."))
    restored = list(pauses.filter(restore_report__isnull=False).values_list("restore_report__pk", flat=True))
    if restored and not restore_report_seen:
        raise WrongState(gettext("This force was restored from a backup and comes up paused. Read the restore report on "
                         "the Publishing page, then resume there, ticking that you have read it."))
    now = timezone.now()
    count = pauses.update(resumed_at=now, resumed_by=actor)
    overdue = Delivery.objects.filter(status=DeliveryStatus.PENDING, due_at__lt=now - RESUME_REVIEW_AFTER,
                                      urgent=False)
    if team is not None:
        overdue = policy_for(Delivery).restrict(overdue, with_descendants({team}, parent_map()))
    held = overdue.update(needs_review=True)
    audit_record(actor=actor, verb="publishing.resumed", target_type="campaigns.publishingpause", team=team,
                 summary={"reason": reason, "pauses": count, "held_for_review": held,
                          "scope": "platform" if team is None else "team", "restore_reports": restored})
    return held


@transaction.atomic
def delivery_release(*, actor: User, delivery: Delivery, send: bool) -> Delivery:
    """From the review-before-sending list: send now, or skip."""
    if not permissions.can_pause_publishing(actor, delivery.message.team_id):
        raise NotAllowed(gettext("Only a supervisor can release held deliveries."))
    if send:
        n = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING, needs_review=True).update(
            needs_review=False, due_at=timezone.now())
    else:
        n = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING, needs_review=True).update(
            needs_review=False, status=DeliveryStatus.SKIPPED, last_error="Skipped after review")
    if n != 1:
        raise WrongState(gettext("This delivery is not waiting for review."))
    audit_record(actor=actor, verb="delivery.released" if send else "delivery.skipped", target=delivery,
                 team=delivery.message.team_id)
    delivery.refresh_from_db()
    if send:
        transaction.on_commit(lambda: enqueue_tick(urgent=False))
    return delivery


@transaction.atomic
def emergency_pause_override(*, actor: User, message: Message) -> Message:
    """A second supervisor confirms that an emergency message may leave during a pause."""
    message = lock_message(message.pk)
    if message.urgency != Urgency.EMERGENCY:
        raise WrongState(gettext("Only emergency messages can go out during a pause."))
    # The two-person rule: nobody who wrote any version of it, nor anyone whose approval stands.
    approvers = {message.approved_by_id, *Approval.objects.filter(message=message, voided_at__isnull=True)
                 .values_list("approver_id", flat=True)}
    if (not permissions.can_pause_publishing(actor, message.team_id) or actor.pk in approvers
            or permissions.wrote_part_of(actor, message)):
        raise NotAllowed(gettext("A second supervisor, who neither wrote nor approved it, must confirm."))
    message.pause_override_by = actor
    message.pause_override_at = timezone.now()
    message.save(update_fields=["pause_override_by", "pause_override_at", "updated_at"])
    audit_record(actor=actor, verb="publishing.emergency_override", target=message)
    transaction.on_commit(lambda: enqueue_tick(urgent=True))
    return message
