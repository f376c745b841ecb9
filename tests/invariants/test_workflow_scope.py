"""The workflow acts on exactly one message, with a second person, and says so in the audit trail.

Every step (submit, approve, a second approval, request changes, emergency self-approval, the
emergency review, schedule, withdraw) is taken on one message while other messages stand in
every state around it: in the same team with the very same content (so the same content
hash and version), in the sister team, and in another force. After the step, every one of
those is exactly as it was: status, hashes, approvals, deliveries, comments.

There is no "reject" step on this branch (request changes is the refusal); if one is added,
add it to ``STEPS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from accounts.models import AuditEvent
from campaigns import publishing
from campaigns.models import Approval, ApprovalKind, Delivery, DeliveryStatus, Message, MessageStatus
from campaigns.services import messages as message_services
from campaigns.services import workflow
from campaigns.services.content import content_hash
from core.errors import InvalidInput, NotAllowed, WrongState
from tests.factories import TeamWorld, make_approved, make_message, make_submitted
from tests.invariants.conftest import Forces

pytestmark = pytest.mark.django_db

EMERGENCY_BODY = "Please move away from Station Road now, calmly. If you are in danger call 999."


def state(message: Message) -> tuple[Any, ...]:
    """Everything a workflow step could change about a message."""
    m = Message.objects.get(pk=message.pk)
    approvals = tuple(Approval.objects.filter(message=m).order_by("pk").values_list(
        "pk", "approver_id", "kind", "content_hash", "version", "voided_at"))
    deliveries = tuple(Delivery.objects.filter(message=m).order_by("pk").values_list(
        "pk", "status", "claim_token", "due_at", "last_error"))
    return (m.status, m.version, m.content_hash, m.approved_hash, m.approved_version, m.approved_by_id,
            m.emergency_self_approved, m.emergency_reviewed_by_id, m.pause_override_by_id, m.withdrawn_at,
            m.scheduled_at, approvals, deliveries, m.comments.count())


def two_approvals_for_priority(tw: TeamWorld) -> None:
    tw.team.settings = {**(tw.team.settings or {}), "two_approvals_for_priority": True}
    tw.team.save(update_fields=["settings"])


def bystanders(forces: Forces) -> list[Message]:
    """Messages in every state the steps act on, in each team of both forces. Team A's have the
    same content as the messages the steps act on: the same hash, the same version."""
    made = []
    for tw in forces.teams:
        two_approvals_for_priority(tw)
        made.append(make_message(tw))  # a draft
        made.append(make_submitted(tw))  # in review
        half = make_submitted(tw, urgency="priority")
        made.append(workflow.message_approve(actor=tw.supervisor, message=half))  # in review, one approval
        made.append(publishing.message_schedule(actor=tw.officer, message=make_approved(tw),
                                                scheduled_at=None))  # scheduled, deliveries pending
        emergency = make_submitted(tw, author=tw.supervisor, urgency="emergency", body=EMERGENCY_BODY)
        made.append(workflow.message_approve(actor=tw.supervisor, message=emergency))  # self-approved, unreviewed
    assert {m.status for m in made} == {MessageStatus.DRAFT, MessageStatus.IN_REVIEW, MessageStatus.SCHEDULED}
    return made


@dataclass(frozen=True)
class Step:
    prepare: Callable[[TeamWorld], Message]
    act: Callable[[TeamWorld, Message], Message]
    expect: str  # the acted-on message's status afterwards


def _half_approved(tw: TeamWorld) -> Message:
    two_approvals_for_priority(tw)
    return workflow.message_approve(actor=tw.supervisor, message=make_submitted(tw, urgency="priority"))


def _self_approved(tw: TeamWorld) -> Message:
    message = make_submitted(tw, author=tw.supervisor, urgency="emergency", body=EMERGENCY_BODY)
    return workflow.message_approve(actor=tw.supervisor, message=message)


STEPS = {
    "submit": Step(prepare=make_message,
                   act=lambda tw, m: workflow.message_submit(actor=tw.officer, message=m),
                   expect=MessageStatus.IN_REVIEW),
    "approve": Step(prepare=make_submitted,
                    act=lambda tw, m: workflow.message_approve(actor=tw.supervisor, message=m),
                    expect=MessageStatus.APPROVED),
    "second approval": Step(prepare=_half_approved,
                            act=lambda tw, m: workflow.message_approve(actor=tw.supervisor2, message=m),
                            expect=MessageStatus.APPROVED),
    "request changes": Step(prepare=make_submitted,
                            act=lambda tw, m: workflow.message_request_changes(
                                actor=tw.supervisor, message=m, comment="Softer tone, please."),
                            expect=MessageStatus.CHANGES_REQUESTED),
    "emergency self-approval": Step(
        prepare=lambda tw: make_submitted(tw, author=tw.supervisor, urgency="emergency", body=EMERGENCY_BODY),
        act=lambda tw, m: workflow.message_approve(actor=tw.supervisor, message=m),
        expect=MessageStatus.SCHEDULED),
    "emergency review": Step(prepare=_self_approved,
                             act=lambda tw, m: workflow.message_emergency_review(
                                 actor=tw.supervisor2, message=m, comment="Right call."),
                             expect=MessageStatus.SCHEDULED),
    "schedule": Step(prepare=make_approved,
                     act=lambda tw, m: publishing.message_schedule(actor=tw.officer, message=m, scheduled_at=None),
                     expect=MessageStatus.SCHEDULED),
    "withdraw": Step(prepare=lambda tw: publishing.message_schedule(actor=tw.officer, message=make_approved(tw),
                                                                    scheduled_at=None),
                     act=lambda tw, m: publishing.message_withdraw(actor=tw.supervisor, message=m,
                                                                   reason="Event cancelled"),
                     expect=MessageStatus.WITHDRAWN),
}


@pytest.mark.parametrize("name", list(STEPS))
def test_each_step_changes_exactly_the_message_it_names(forces, name):
    step = STEPS[name]
    others = bystanders(forces)
    target = step.prepare(forces.a)
    before = {m.pk: state(m) for m in others}
    target_before = state(target)
    result = step.act(forces.a, target)
    assert result.pk == target.pk
    assert Message.objects.get(pk=target.pk).status == step.expect
    assert state(target) != target_before
    after = {m.pk: state(m) for m in others}
    changed = sorted(pk for pk in before if before[pk] != after[pk])
    assert changed == [], f"{name} of message {target.pk} also changed messages {changed}"


def test_request_changes_leaves_other_reviews_and_their_approvals_untouched(forces):
    """The named survivor: request changes widened to every message in review."""
    a, b, c = forces.teams
    for tw in (a, b, c):
        two_approvals_for_priority(tw)
    target = workflow.message_approve(actor=a.supervisor, message=make_submitted(a, urgency="priority"))
    same_team = workflow.message_approve(actor=a.supervisor, message=make_submitted(a, urgency="priority"))
    sister = workflow.message_approve(actor=b.supervisor, message=make_submitted(b, urgency="priority"))
    other_force = workflow.message_approve(actor=c.supervisor, message=make_submitted(c, urgency="priority"))
    others = [same_team, sister, other_force]
    live_before = {m.pk: list(Approval.objects.filter(message=m, voided_at__isnull=True).values_list("pk", flat=True))
                   for m in others}
    workflow.message_request_changes(actor=a.supervisor2, message=target, comment="Add the road names.")
    assert Message.objects.get(pk=target.pk).status == MessageStatus.CHANGES_REQUESTED
    for m in others:
        m.refresh_from_db()
        assert m.status == MessageStatus.IN_REVIEW
        assert list(Approval.objects.filter(message=m, voided_at__isnull=True).values_list("pk", flat=True)) \
            == live_before[m.pk] != []
        assert m.comments.count() == 0
        # And the second supervisor of each can still complete its approval.
        tw = {same_team.pk: a, sister.pk: b, other_force.pk: c}[m.pk]
        assert workflow.message_approve(actor=tw.supervisor2, message=m).status == MessageStatus.APPROVED


@pytest.mark.parametrize("comment", ["", "   ", "\n\t", "<b></b>", "<p> </p>"])
def test_request_changes_needs_a_comment_with_words_in_it(world, comment):
    message = make_submitted(world.a)
    before = state(message)
    with pytest.raises(InvalidInput):
        workflow.message_request_changes(actor=world.a.supervisor, message=message, comment=comment)
    assert state(message) == before
    assert not AuditEvent.objects.filter(target_id=str(message.pk), verb="message.changes_requested").exists()


@pytest.mark.parametrize("comment", [{}, {"comment": ""}, {"comment": "  "}, {"comment": "<i></i>"}])
def test_request_changes_without_a_comment_is_400_over_http(world, api, comment):
    message = make_submitted(world.a)
    response = api(world.a.supervisor).post(f"/api/v1/messages/{message.pk}/request-changes/", comment,
                                            format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"]
    message.refresh_from_db()
    assert message.status == MessageStatus.IN_REVIEW


# --- what an approval records -----------------------------------------------------------------

def audits(message: Message, verb: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(target_type="campaigns.message", target_id=str(message.pk), verb=verb))


def test_a_standard_approval_records_its_kind_approver_hash_and_audit(world):
    a = world.a
    message = make_submitted(a)
    approved = workflow.message_approve(actor=a.supervisor, message=message)
    approval = Approval.objects.get(message=message)
    assert (approval.kind, approval.approver_id, approval.content_hash, approval.version, approval.voided_at) == (
        ApprovalKind.STANDARD, a.supervisor.pk, content_hash(approved), approved.version, None)
    assert approved.approved_by_id == a.supervisor.pk
    assert approved.approved_hash == approved.content_hash == content_hash(approved)
    assert approved.approved_version == approved.version
    assert approved.emergency_self_approved is False
    [event] = audits(message, "message.approved")
    assert event.actor_id == a.supervisor.pk
    assert event.summary["kind"] == ApprovalKind.STANDARD
    assert event.summary["content_hash"] == approved.approved_hash
    assert audits(message, "message.approval_added") == []
    [submitted] = audits(message, "message.submitted")
    assert submitted.actor_id == a.officer.pk


def test_a_second_approval_is_recorded_as_second_and_audited_by_its_own_actor(world):
    a = world.a
    two_approvals_for_priority(a)
    message = make_submitted(a, urgency="priority")
    first = workflow.message_approve(actor=a.supervisor, message=message)
    assert first.status == MessageStatus.IN_REVIEW and not first.approved_hash and first.approved_by_id is None
    [added] = audits(message, "message.approval_added")
    assert added.actor_id == a.supervisor.pk and audits(message, "message.approved") == []
    second = workflow.message_approve(actor=a.supervisor2, message=message)
    assert second.status == MessageStatus.APPROVED and second.approved_by_id == a.supervisor2.pk
    kinds = dict(Approval.objects.filter(message=message).values_list("approver_id", "kind"))
    assert kinds == {a.supervisor.pk: ApprovalKind.STANDARD, a.supervisor2.pk: ApprovalKind.SECOND}
    [approved] = audits(message, "message.approved")
    assert approved.actor_id == a.supervisor2.pk
    assert (approved.summary["approvals"], approved.summary["required"]) == (2, 2)


def test_an_emergency_self_approval_is_recorded_as_such_and_goes_out_alone(world):
    a = world.a
    two_approvals_for_priority(a)  # does not apply to emergencies: one supervisor, flagged for review
    message = make_submitted(a, author=a.supervisor, urgency="emergency", body=EMERGENCY_BODY)
    approved = workflow.message_approve(actor=a.supervisor, message=message)
    assert approved.status == MessageStatus.SCHEDULED
    assert approved.emergency_self_approved is True and approved.approved_by_id == a.supervisor.pk
    [approval] = Approval.objects.filter(message=message)
    assert (approval.kind, approval.approver_id) == (ApprovalKind.EMERGENCY_SELF, a.supervisor.pk)
    [event] = audits(message, "message.approved")
    assert event.actor_id == a.supervisor.pk and event.summary["kind"] == ApprovalKind.EMERGENCY_SELF
    assert event.summary["required"] == 1
    # A routine or priority message of one's own is never self-approved.
    for urgency in ("routine", "priority"):
        own = make_submitted(a, author=a.supervisor, urgency=urgency)
        with pytest.raises(NotAllowed):
            workflow.message_approve(actor=a.supervisor, message=own)
        assert Message.objects.get(pk=own.pk).status == MessageStatus.IN_REVIEW
    # Another supervisor's approval of someone else's emergency is a standard one, never flagged.
    other = workflow.message_approve(actor=a.supervisor2, message=make_submitted(a, urgency="emergency",
                                                                                 body=EMERGENCY_BODY))
    assert other.emergency_self_approved is False
    assert Approval.objects.get(message=other).kind == ApprovalKind.STANDARD


def test_the_emergency_review_records_what_went_out_by_whom(world):
    a = world.a
    message = make_submitted(a, author=a.supervisor, urgency="emergency", body=EMERGENCY_BODY)
    message = workflow.message_approve(actor=a.supervisor, message=message)
    went_out = message.approved_hash
    # Something written behind the services' back since: the review is of what went out.
    Message.objects.filter(pk=message.pk).update(content_hash="f" * 64)
    reviewed = workflow.message_emergency_review(actor=a.supervisor2, message=message, comment="Right call.")
    assert reviewed.emergency_reviewed_by_id == a.supervisor2.pk and reviewed.emergency_reviewed_at is not None
    review = Approval.objects.get(message=message, kind=ApprovalKind.EMERGENCY_REVIEW)
    assert (review.approver_id, review.content_hash, review.version) == (a.supervisor2.pk, went_out,
                                                                         message.version)
    [event] = audits(message, "message.emergency_reviewed")
    assert event.actor_id == a.supervisor2.pk
    with pytest.raises(WrongState):
        workflow.message_emergency_review(actor=a.supervisor2, message=message)


def test_the_emergency_review_needs_a_second_supervisor(world):
    a = world.a
    message = workflow.message_approve(actor=a.supervisor, message=make_submitted(
        a, author=a.supervisor, urgency="emergency", body=EMERGENCY_BODY))
    for who in (a.supervisor, a.officer, a.liaison, a.admin):
        with pytest.raises((NotAllowed, WrongState)):
            workflow.message_emergency_review(actor=who, message=message)
    assert Message.objects.get(pk=message.pk).emergency_reviewed_by_id is None
    assert not Approval.objects.filter(message=message, kind=ApprovalKind.EMERGENCY_REVIEW).exists()


# --- which approvals count --------------------------------------------------------------------

def _priority_in_review(tw: TeamWorld) -> Message:
    two_approvals_for_priority(tw)
    return make_submitted(tw, urgency="priority")


def test_a_voided_approval_of_the_very_same_content_never_counts(world):
    a = world.a
    message = _priority_in_review(a)
    Approval.objects.create(message=message, approver=a.supervisor, kind=ApprovalKind.STANDARD,
                            content_hash=message.content_hash, version=message.version,
                            voided_at=message.created_at, void_reason="Voided")
    after = workflow.message_approve(actor=a.supervisor2, message=message)
    assert after.status == MessageStatus.IN_REVIEW, "a voided approval was counted as the first of two"
    assert Approval.objects.get(message=message, approver=a.supervisor2).kind == ApprovalKind.STANDARD
    # The voided approver may approve again; that one counts.
    assert workflow.message_approve(actor=a.supervisor, message=after).status == MessageStatus.APPROVED


def test_an_approval_of_an_older_version_never_counts_even_with_the_same_content(world):
    a = world.a
    two_approvals_for_priority(a)
    message = make_message(a, urgency="priority")
    original = message.body
    message = message_services.message_update(actor=a.officer, message=message, body=original + " Thank you.")
    message = message_services.message_update(actor=a.officer, message=message, body=original)
    assert message.version == 3
    message = workflow.message_submit(actor=a.officer, message=message)
    # A live approval left over from version 1, whose content was the same as now:
    Approval.objects.create(message=message, approver=a.supervisor, kind=ApprovalKind.STANDARD,
                            content_hash=message.content_hash, version=1)
    after = workflow.message_approve(actor=a.supervisor2, message=message)
    assert after.status == MessageStatus.IN_REVIEW, "an approval of version 1 was counted for version 3"


def test_an_approval_of_other_content_never_counts(world):
    a = world.a
    message = _priority_in_review(a)
    Approval.objects.create(message=message, approver=a.supervisor, kind=ApprovalKind.STANDARD,
                            content_hash="0" * 64, version=message.version)
    after = workflow.message_approve(actor=a.supervisor2, message=message)
    assert after.status == MessageStatus.IN_REVIEW, "an approval of another hash was counted"


def test_approvals_of_other_messages_with_the_same_content_never_count(world):
    """Two messages with identical content have the same hash and version; each needs its own."""
    a = world.a
    two_approvals_for_priority(a)
    first = make_submitted(a, urgency="priority")
    second = make_submitted(a, urgency="priority")
    assert first.content_hash == second.content_hash and first.version == second.version
    workflow.message_approve(actor=a.supervisor, message=first)
    # The same supervisor's approval of the twin is not "already approved", and counts once, for it.
    after = workflow.message_approve(actor=a.supervisor, message=second)
    assert after.status == MessageStatus.IN_REVIEW
    assert Approval.objects.get(message=second).kind == ApprovalKind.STANDARD
    assert workflow.message_approve(actor=a.supervisor2, message=second).status == MessageStatus.APPROVED
    assert Message.objects.get(pk=first.pk).status == MessageStatus.IN_REVIEW


def test_approval_refuses_a_hash_the_reviewer_did_not_see_and_content_changed_behind_its_back(world):
    a = world.a
    message = make_submitted(a)
    with pytest.raises(WrongState):
        workflow.message_approve(actor=a.supervisor, message=message, expected_hash="0" * 64)
    Message.objects.filter(pk=message.pk).update(body="Something nobody submitted")
    with pytest.raises(WrongState):
        workflow.message_approve(actor=a.supervisor, message=message)
    assert not Approval.objects.filter(message=message).exists()
    assert Message.objects.get(pk=message.pk).status == MessageStatus.IN_REVIEW


def test_withdraw_stops_only_this_messages_pending_deliveries(forces):
    a, b, c = forces.teams
    scheduled = [publishing.message_schedule(actor=tw.officer, message=make_approved(tw), scheduled_at=None)
                 for tw in (a, a, b, c)]
    target, *others = scheduled
    publishing.message_withdraw(actor=a.supervisor, message=target, reason="Cancelled")
    assert set(Delivery.objects.filter(message=target).values_list("status", flat=True)) == {DeliveryStatus.WITHDRAWN}
    for m in others:
        assert set(Delivery.objects.filter(message=m).values_list("status", flat=True)) == {DeliveryStatus.PENDING}
        assert Message.objects.get(pk=m.pk).status == MessageStatus.SCHEDULED
