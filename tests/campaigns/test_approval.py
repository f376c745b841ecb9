"""The two-person rule, in the services where it lives."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from campaigns.models import Approval, MessageStatus
from campaigns.services import messages as message_services
from campaigns.services import workflow
from campaigns.services.content import content_hash
from core.errors import InvalidInput, NotAllowed, NotFound, WrongState
from tests.factories import make_approved, make_message, make_submitted

pytestmark = pytest.mark.django_db


def test_submit_moves_draft_to_review_and_is_audited(world):
    message = make_message(world.a)
    message = workflow.message_submit(actor=world.a.officer, message=message)
    assert message.status == MessageStatus.IN_REVIEW
    assert AuditEvent.objects.filter(verb="message.submitted", target_id=str(message.pk)).exists()


def test_supervisor_approves_exact_content_hash(world):
    message = make_submitted(world.a)
    approved = workflow.message_approve(actor=world.a.supervisor, message=message)
    assert approved.status == MessageStatus.APPROVED
    assert approved.approved_hash == content_hash(approved) == approved.content_hash
    assert approved.approved_by == world.a.supervisor
    assert Approval.objects.get(message=approved).content_hash == approved.content_hash


def test_author_cannot_approve_own_message_even_as_supervisor(world):
    message = make_submitted(world.a, author=world.a.supervisor)
    with pytest.raises(NotAllowed) as exc:
        workflow.message_approve(actor=world.a.supervisor, message=message)
    assert exc.value.code == "own_message"
    message.refresh_from_db()
    assert message.status == MessageStatus.IN_REVIEW


@pytest.mark.parametrize("role", ["officer", "liaison", "admin"])
def test_only_supervisors_approve(world, role):
    message = make_submitted(world.a)
    with pytest.raises(NotAllowed):
        workflow.message_approve(actor=world.a.users[role], message=message)


def test_other_teams_supervisor_gets_not_found(world):
    message = make_submitted(world.a)
    with pytest.raises(NotFound):
        workflow.message_approve(actor=world.b.supervisor, message=message)


def test_approving_a_draft_is_wrong_state(world):
    message = make_message(world.a)
    with pytest.raises(WrongState):
        workflow.message_approve(actor=world.a.supervisor, message=message)


def test_edit_after_approval_voids_it_and_returns_to_draft(world):
    message = make_approved(world.a)
    old_hash = message.approved_hash
    edited = message_services.message_update(actor=world.a.officer, message=message, body=message.body + " Thanks!")
    assert edited.status == MessageStatus.DRAFT
    assert edited.approved_hash == ""
    assert edited.content_hash != old_hash
    assert Approval.objects.get(message=message).voided_at is not None
    assert AuditEvent.objects.filter(verb="message.edited", target_id=str(message.pk),
                                     summary__approval_voided=True).exists()


def test_adding_a_variant_after_approval_voids_it(world):
    message = make_approved(world.a)
    message_services.variant_add(actor=world.a.officer, message=message, language="ar",
                                 body="يرجى استخدام القطار والسماح بوقت إضافي. #DerbyDay")
    message.refresh_from_db()
    assert message.status == MessageStatus.DRAFT and not message.approved_hash


def test_edit_during_review_returns_to_draft(world):
    message = make_submitted(world.a)
    edited = message_services.message_update(actor=world.a.officer, message=message, body=message.body + " Now.")
    assert edited.status == MessageStatus.DRAFT
    with pytest.raises(WrongState):
        workflow.message_approve(actor=world.a.supervisor, message=edited)


def test_approve_refuses_when_reviewer_saw_an_older_hash(world):
    message = make_submitted(world.a)
    with pytest.raises(WrongState) as exc:
        workflow.message_approve(actor=world.a.supervisor, message=message, expected_hash="0" * 64)
    assert exc.value.code == "content_changed"


def test_unchanged_save_keeps_the_approval(world):
    message = make_approved(world.a)
    same = message_services.message_update(actor=world.a.officer, message=message, body=message.body)
    assert same.status == MessageStatus.APPROVED


def test_request_changes_then_edit_then_resubmit(world):
    message = make_submitted(world.a)
    message = workflow.message_request_changes(actor=world.a.supervisor, message=message, comment="Softer tone")
    assert message.status == MessageStatus.CHANGES_REQUESTED
    assert message.comments.get().kind == "changes_requested"
    message = message_services.message_update(actor=world.a.officer, message=message, body=message.body + " Thank you.")
    assert message.status == MessageStatus.DRAFT
    assert workflow.message_submit(actor=world.a.officer, message=message).status == MessageStatus.IN_REVIEW


def test_request_changes_needs_a_comment(world):
    message = make_submitted(world.a)
    with pytest.raises(InvalidInput):
        workflow.message_request_changes(actor=world.a.supervisor, message=message, comment="  ")


def test_two_approvals_for_priority_when_the_team_asks(world):
    world.a.team.settings = {"two_approvals_for_priority": True}
    world.a.team.save(update_fields=["settings"])
    message = make_submitted(world.a, urgency="priority")
    message = workflow.message_approve(actor=world.a.supervisor, message=message)
    assert message.status == MessageStatus.IN_REVIEW
    with pytest.raises(WrongState):
        workflow.message_approve(actor=world.a.supervisor, message=message)  # the same person twice
    message = workflow.message_approve(actor=world.a.supervisor2, message=message)
    assert message.status == MessageStatus.APPROVED


def test_emergency_self_approval_is_flagged_and_goes_out_at_once(world):
    message = make_submitted(world.a, author=world.a.supervisor, urgency="emergency",
                             body="Please move away from Station Road now, calmly. If you are in danger call 999.")
    message = workflow.message_approve(actor=world.a.supervisor, message=message)
    assert message.emergency_self_approved is True
    assert message.status == MessageStatus.SCHEDULED
    assert message.deliveries.filter(urgent=True).count() == message.deliveries.count() > 0
    from campaigns.selectors import emergency_reviews_due

    assert list(emergency_reviews_due(world.a.supervisor2)) == [message]
    assert list(emergency_reviews_due(world.a.supervisor)) == []
    with pytest.raises(NotAllowed):
        workflow.message_emergency_review(actor=world.a.supervisor, message=message)
    reviewed = workflow.message_emergency_review(actor=world.a.supervisor2, message=message, comment="Right call")
    assert reviewed.emergency_reviewed_by == world.a.supervisor2
    assert list(emergency_reviews_due(world.a.supervisor2)) == []


def test_routine_self_approval_is_refused(world):
    message = make_submitted(world.a, author=world.a.supervisor, urgency="priority")
    with pytest.raises(NotAllowed):
        workflow.message_approve(actor=world.a.supervisor, message=message)


def test_submission_is_blocked_by_checker_errors(world):
    long_body = "Please take care. " * 60  # far over Mastodon's 500
    message = make_message(world.a, body=long_body, channels=[world.a.mastodon])
    with pytest.raises(InvalidInput) as exc:
        workflow.message_submit(actor=world.a.officer, message=message)
    assert exc.value.code == "checker_errors"
    assert any(f["code"].startswith("length.") for f in exc.value.fields["checks"])


def test_submission_needs_a_channel(world):
    message = make_message(world.a, channels=[])
    with pytest.raises(InvalidInput) as exc:
        workflow.message_submit(actor=world.a.officer, message=message)
    assert exc.value.code == "no_channels"


def test_every_version_is_kept(world):
    message = make_message(world.a)
    message_services.message_update(actor=world.a.officer, message=message, body=message.body + " One.")
    message_services.message_update(actor=world.a.officer, message=message, body=message.body + " Two.")
    versions = list(message.versions.order_by("version").values_list("version", flat=True))
    assert versions == [1, 2, 3]
