"""The two-person rule: submit, approve, request changes, schedule, withdraw.

Only a supervisor of the message's team approves, and never its author; an approval is
of one exact content hash. The one exception is a supervisor's emergency self-approval,
which goes out at once and waits in the review queue for a second supervisor.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import User
from accounts.policies import policy_for
from campaigns.models import Approval, ApprovalKind, Message, MessageStatus, Urgency
from campaigns.services import alerts
from campaigns.services.content import content_hash
from campaigns.services.messages import comment_add, lock_message
from core.errors import InvalidInput, NotAllowed, NotFound, WrongState


def _visible(actor: User, message: Message) -> None:
    if not policy_for(Message).may(actor, "view", message):
        raise NotFound(gettext("No such message."))


def submission_findings(message: Message) -> list:
    """The checker's findings on every variant, for its own channels and language."""
    from campaigns.services.checks import check_message_all

    return check_message_all(message)


@transaction.atomic
def message_submit(*, actor: User, message: Message, inbox_answer: bool = False) -> Message:
    """``inbox_answer``: a liaison officer submits the free-text answer they wrote (see ``message_create``)."""
    message = lock_message(message.pk)
    _visible(actor, message)
    answer_author = inbox_answer and message.author_id == actor.pk and permissions.can_triage(actor, message.team_id)
    if not (answer_author or policy_for(Message).may(actor, "draft", message)):
        raise NotAllowed(gettext("You cannot submit messages of this team."))
    if message.status not in (MessageStatus.DRAFT, MessageStatus.CHANGES_REQUESTED):
        raise WrongState(gettext("Only a draft can be submitted; this message is %(status)s.")
                         % {"status": gettext(message.get_status_display()).lower()})
    if not message.channels.exists():
        raise InvalidInput(gettext("Choose at least one channel before submitting."), code="no_channels",
                           fields={"channels": ["Choose at least one channel."]})
    unedited = [v for v in message.variants.all() if v.machine_suggested and not v.human_edited]
    if unedited:
        raise InvalidInput(
            gettext("A machine-suggested translation must be checked and edited by a person before submission: "
                    "%(languages)s.") % {"languages": ", ".join(v.language for v in unedited)},
            code="machine_translation_unedited", fields={"variants": [v.pk for v in unedited]},
        )
    from campaigns.services.coverage import coverage_blocks_submission, coverage_gaps

    if coverage_blocks_submission(message):
        gaps = coverage_gaps(message)
        if gaps:
            raise InvalidInput(gettext("Every targeted audience must be covered first: %(gap)s") % {"gap": gaps[0].message},
                               code="coverage_gaps", fields={"coverage": [g.as_dict() for g in gaps]})
    errors = [f for f in submission_findings(message) if f.severity == "error"]
    if errors:
        raise InvalidInput(
            gettext("Fix the checker's errors before submitting: %(errors)s")
            % {"errors": "; ".join(f.message for f in errors[:3])},
            code="checker_errors",
            fields={"checks": [{"code": f.code, "message": f.message, "span": f.span,
                                "variant": getattr(f, "variant", None)} for f in errors]},
        )
    updated = Message.objects.filter(
        pk=message.pk, status__in=[MessageStatus.DRAFT, MessageStatus.CHANGES_REQUESTED], version=message.version
    ).update(status=MessageStatus.IN_REVIEW, submitted_at=timezone.now())
    if updated != 1:
        raise WrongState(gettext("The message changed while it was being submitted. Reload and try again."))
    message.refresh_from_db()
    audit_record(actor=actor, verb="message.submitted", target=message,
                 summary={"version": message.version, "content_hash": message.content_hash})
    alerts.alert_submitted(actor=actor, message=message)
    return message


def approvals_required(message: Message) -> int:
    if message.urgency == Urgency.PRIORITY and message.team.setting("two_approvals_for_priority", False):
        return 2
    return 1


@transaction.atomic
def message_approve(*, actor: User, message: Message, expected_hash: str | None = None) -> Message:
    """Approve the exact content the supervisor reviewed.

    ``expected_hash`` is the content hash shown to the supervisor. The API and the page always pass
    what the request carried, and an empty one is refused (400): nobody approves content unseen.
    ``None`` is for code that approves the current content on a person's behalf (seeding, tests).
    """
    message = lock_message(message.pk)
    _visible(actor, message)
    self_emergency = permissions.can_emergency_self_approve(actor, message)
    if not (policy_for(Message).may(actor, "approve", message) or self_emergency):
        if permissions.wrote_part_of(actor, message):
            raise NotAllowed(gettext("You wrote this message, or part of it, so another supervisor must approve it."),
                             code="own_message")
        raise NotAllowed(gettext("Only a supervisor of this team can approve messages."))
    if message.status != MessageStatus.IN_REVIEW:
        raise WrongState(gettext("Only a message in review can be approved; this one is %(status)s.")
                         % {"status": gettext(message.get_status_display()).lower()})
    if expected_hash is not None and not expected_hash.strip():
        raise InvalidInput(gettext("Give the content_hash of the version you reviewed; it is shown with the message."),
                           code="content_hash_required", fields={"content_hash": ["This field is required."]})
    current = content_hash(message)
    if current != message.content_hash or (expected_hash is not None and expected_hash.strip() != current):
        raise WrongState(gettext("The message changed since you opened it. Review the current version."),
                         code="content_changed")
    kind = ApprovalKind.EMERGENCY_SELF if self_emergency else ApprovalKind.STANDARD
    live = Approval.objects.filter(message=message, version=message.version, content_hash=current,
                                   voided_at__isnull=True)
    if live.filter(approver=actor).exists():
        raise WrongState(gettext("You have already approved this version."), code="already_approved")
    if kind == ApprovalKind.STANDARD and live.exists():
        kind = ApprovalKind.SECOND
    try:
        with transaction.atomic():
            Approval.objects.create(message=message, approver=actor, kind=kind, content_hash=current,
                                    version=message.version)
    except IntegrityError as exc:
        raise WrongState(gettext("You have already approved this version."), code="already_approved") from exc
    required = 1 if self_emergency else approvals_required(message)
    approvers = live.values("approver_id").distinct().count()
    audit_record(actor=actor, verb="message.approved" if approvers >= required else "message.approval_added",
                 target=message, summary={"version": message.version, "content_hash": current, "kind": kind,
                                          "approvals": approvers, "required": required})
    if approvers < required:
        return message
    now = timezone.now()
    updated = Message.objects.filter(
        pk=message.pk, status=MessageStatus.IN_REVIEW, version=message.version, content_hash=current
    ).update(status=MessageStatus.APPROVED, approved_hash=current, approved_version=message.version,
             approved_at=now, approved_by=actor, emergency_self_approved=self_emergency)
    if updated != 1:
        raise WrongState(gettext("The message changed while it was being approved."))
    message.refresh_from_db()
    alerts.alert_approved(actor=actor, message=message)
    if message.urgency == Urgency.EMERGENCY:
        from campaigns.publishing.schedule import message_schedule

        message = message_schedule(actor=actor, message=message, scheduled_at=None)
    return message


@transaction.atomic
def message_request_changes(*, actor: User, message: Message, comment: str) -> Message:
    message = lock_message(message.pk)
    _visible(actor, message)
    if not policy_for(Message).may(actor, "approve", message):
        raise NotAllowed(gettext("Only a supervisor of this team who is not the author can request changes."))
    if message.status != MessageStatus.IN_REVIEW:
        raise WrongState(gettext("Changes can only be requested on a message in review."))
    if not (comment or "").strip():
        raise InvalidInput(gettext("Say what needs to change."), fields={"comment": ["This field may not be blank."]})
    Message.objects.filter(pk=message.pk, status=MessageStatus.IN_REVIEW).update(
        status=MessageStatus.CHANGES_REQUESTED)
    message.refresh_from_db()
    comment_add(actor=actor, message=message, body=comment, kind="changes_requested")
    alerts.alert_changes_requested(actor=actor, message=message, comment=comment)
    return message


@transaction.atomic
def message_emergency_review(*, actor: User, message: Message, comment: str = "") -> Message:
    """A second supervisor reviews a self-approved emergency message after it went out."""
    message = lock_message(message.pk)
    _visible(actor, message)
    if not message.emergency_self_approved:
        raise WrongState(gettext("This message was not self-approved; there is nothing to review."))
    if message.emergency_reviewed_at is not None:
        raise WrongState(gettext("This emergency message has already been reviewed."))
    if not policy_for(Message).may(actor, "review_emergency", message):
        raise NotAllowed(gettext("A second supervisor, not the author, must review an emergency self-approval."))
    Approval.objects.create(message=message, approver=actor, kind=ApprovalKind.EMERGENCY_REVIEW,
                            content_hash=message.approved_hash or message.content_hash, version=message.version)
    message.emergency_reviewed_by = actor
    message.emergency_reviewed_at = timezone.now()
    message.save(update_fields=["emergency_reviewed_by", "emergency_reviewed_at", "updated_at"])
    audit_record(actor=actor, verb="message.emergency_reviewed", target=message, summary={"comment": comment[:500]})
    if comment.strip():
        comment_add(actor=actor, message=message, body=comment)
    return message


def parse_schedule_time(value: datetime | None) -> datetime:
    """A time in the past (or none) means now."""
    now = timezone.now()
    if value is None or value <= now:
        return now
    return value
