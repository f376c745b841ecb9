"""The workflow's refusals and records, exactly: what a person is told, and what is written.

Each refusal of submit, approve, request changes and the emergency review is a 4xx the API
passes on word for word (code, message and the fields it points at), so these state them, and
that nothing changed. The records of the steps that succeed (the audit summaries, the comment of
a request for changes, the submission time) are stated here too.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from campaigns.models import Approval, Comment, Message, MessageStatus
from campaigns.services import messages as message_services
from campaigns.services import workflow
from campaigns.services.coverage import coverage_gaps
from campaigns.services.segments import segment_create
from core.errors import InvalidInput, NotAllowed, NotFound, ServiceError, WrongState
from tests.factories import make_message, make_submitted

pytestmark = pytest.mark.django_db

EMERGENCY_BODY = "Please move away from Station Road now, calmly. If you are in danger call 999."


def _refused(kind: type[ServiceError], call, *args, **kwargs) -> ServiceError:
    with pytest.raises(kind) as refused:
        call(*args, **kwargs)
    return refused.value


def _status(message: Message) -> str:
    return Message.objects.get(pk=message.pk).status


# --- submit ------------------------------------------------------------------------------------

def test_submit_refusals_say_why_and_change_nothing(world):
    a = world.a
    message = make_message(a)
    error = _refused(NotAllowed, workflow.message_submit, actor=a.liaison, message=message)
    assert error.message == "You cannot submit messages of this team."
    error = _refused(NotFound, workflow.message_submit, actor=world.b.officer, message=message)
    assert error.message == "No such message."
    assert _status(message) == MessageStatus.DRAFT
    workflow.message_submit(actor=a.officer, message=message)
    error = _refused(WrongState, workflow.message_submit, actor=a.officer, message=message)
    assert error.message == "Only a draft can be submitted; this message is in review."
    bare = make_message(a, channels=[])
    error = _refused(InvalidInput, workflow.message_submit, actor=a.officer, message=bare)
    assert (error.message, error.code, error.fields) == (
        "Choose at least one channel before submitting.", "no_channels",
        {"channels": ["Choose at least one channel."]})
    assert _status(bare) == MessageStatus.DRAFT


def test_submit_records_who_submitted_what_and_when(world):
    a = world.a
    message = make_message(a)
    before = timezone.now()
    submitted = workflow.message_submit(actor=a.officer, message=message)
    assert submitted.status == MessageStatus.IN_REVIEW and submitted.submitted_at >= before
    event = AuditEvent.objects.get(verb="message.submitted", target_id=str(message.pk))
    assert event.actor == a.officer
    assert event.summary == {"version": submitted.version, "content_hash": submitted.content_hash}


def test_a_liaison_officer_submits_the_inbox_answer_they_wrote_and_only_as_one(world):
    """A liaison officer cannot draft, but the inbox lets one submit the free-text answer they wrote
    (``inbox_answer``): that submission goes to review, in their name; the same message submitted
    as an ordinary one is refused to them."""
    a = world.a
    answer = make_message(a, author=a.liaison, inbox_answer=True)
    error = _refused(NotAllowed, workflow.message_submit, actor=a.liaison, message=answer)
    assert error.message == "You cannot submit messages of this team."
    assert _status(answer) == MessageStatus.DRAFT
    submitted = workflow.message_submit(actor=a.liaison, message=answer, inbox_answer=True)
    assert submitted.status == MessageStatus.IN_REVIEW
    event = AuditEvent.objects.get(verb="message.submitted", target_id=str(answer.pk))
    assert event.actor == a.liaison


def test_a_message_sent_back_for_changes_can_be_submitted_again(world):
    a = world.a
    message = make_submitted(a)
    workflow.message_request_changes(actor=a.supervisor, message=message, comment="Add the train times.")
    assert _status(message) == MessageStatus.CHANGES_REQUESTED
    assert workflow.message_submit(actor=a.officer, message=message).status == MessageStatus.IN_REVIEW


def test_an_unedited_machine_translation_is_refused_by_name(world):
    a = world.a
    message = make_message(a, channels=[a.public])
    french = message_services.variant_add(actor=a.officer, message=message, language="fr",
                                          body="Les routes sont chargées. #DerbyDay", machine_suggested=True)
    error = _refused(InvalidInput, workflow.message_submit, actor=a.officer, message=message)
    assert error.code == "machine_translation_unedited" and error.fields == {"variants": [french.pk]}
    assert error.message == ("A machine-suggested translation must be checked and edited by a person before "
                             "submission: fr.")
    assert _status(message) == MessageStatus.DRAFT


def test_coverage_gaps_block_submission_only_when_the_team_says_so(world):
    a = world.a
    encampment = segment_create(actor=a.officer, team=a.team, name="Encampment residents",
                                languages=["ar"], channels=["sms"], needs=[])
    body = "Roads are busy near Riverside. Please take care and allow extra time. #DerbyDay"
    warned = make_message(a, channels=[a.sms], segments=[encampment], body=body)
    assert coverage_gaps(warned)
    assert workflow.message_submit(actor=a.officer, message=warned).status == MessageStatus.IN_REVIEW
    a.team.settings = {"coverage_as_error": True}
    a.team.save(update_fields=["settings"])
    blocked = make_message(a, channels=[a.sms], segments=[encampment], body=body)
    gaps = coverage_gaps(blocked)
    error = _refused(InvalidInput, workflow.message_submit, actor=a.officer, message=blocked)
    assert error.code == "coverage_gaps"
    assert error.message == "Every targeted audience must be covered first: " + gaps[0].message
    assert error.fields == {"coverage": [g.as_dict() for g in gaps]}
    covered = make_message(a, channels=[a.sms], body=body)  # no audience targeted: nothing to cover
    assert workflow.message_submit(actor=a.officer, message=covered).status == MessageStatus.IN_REVIEW


def test_checker_errors_are_listed_with_where_they_are(world):
    a = world.a
    message = make_message(a, body="Please take care. " * 60, channels=[a.mastodon])
    errors = [f for f in workflow.submission_findings(message) if f.severity == "error"]
    assert errors
    error = _refused(InvalidInput, workflow.message_submit, actor=a.officer, message=message)
    assert error.code == "checker_errors"
    assert error.message == ("Fix the checker's errors before submitting: "
                             + "; ".join(f.message for f in errors[:3]))
    assert error.fields == {"checks": [{"code": f.code, "message": f.message, "span": f.span,
                                        "variant": getattr(f, "variant", None)} for f in errors]}
    assert _status(message) == MessageStatus.DRAFT


# --- approve -----------------------------------------------------------------------------------

def test_approve_refusals_say_why_and_change_nothing(world):
    a = world.a
    own = make_submitted(a, author=a.supervisor)
    error = _refused(NotAllowed, workflow.message_approve, actor=a.supervisor, message=own)
    assert (error.code, error.message) == (
        "own_message", "You wrote this message, or part of it, so another supervisor must approve it.")
    message = make_submitted(a)
    for actor in (a.liaison, a.admin):  # (its author, the officer, is told "own_message")
        error = _refused(NotAllowed, workflow.message_approve, actor=actor, message=message)
        assert (error.code, error.message) == ("forbidden", "Only a supervisor of this team can approve messages.")
    draft = make_message(a)
    error = _refused(WrongState, workflow.message_approve, actor=a.supervisor, message=draft)
    assert error.message == "Only a message in review can be approved; this one is draft."
    for blank in ("", "  "):
        error = _refused(InvalidInput, workflow.message_approve, actor=a.supervisor, message=message,
                         expected_hash=blank)
        assert (error.code, error.fields) == ("content_hash_required", {"content_hash": ["This field is required."]})
        assert error.message == "Give the content_hash of the version you reviewed; it is shown with the message."
    error = _refused(WrongState, workflow.message_approve, actor=a.supervisor, message=message,
                     expected_hash="0" * 64)
    assert (error.code, error.message) == ("content_changed",
                                           "The message changed since you opened it. Review the current version.")
    assert _status(message) == MessageStatus.IN_REVIEW and not Approval.objects.filter(message=message).exists()
    assert not AuditEvent.objects.filter(verb__startswith="message.approv").exists()


def test_an_approval_the_database_refuses_as_a_duplicate_says_why_and_changes_nothing(world):
    """The ``approval_once`` constraint (message, approver, version, kind) counts a voided approval
    too: a person whose approval of this very version was voided (without an edit, which would have
    raised the version) is refused by the database, not by the check of live approvals. The refusal
    still says why, with the same code, and leaves no approval and no audit row."""
    from campaigns.models import ApprovalKind

    a = world.a
    message = make_submitted(a)
    Approval.objects.create(message=message, approver=a.supervisor, kind=ApprovalKind.STANDARD,
                            content_hash=message.content_hash, version=message.version,
                            voided_at=timezone.now(), void_reason="Voided")
    error = _refused(WrongState, workflow.message_approve, actor=a.supervisor, message=message,
                     expected_hash=message.content_hash)
    assert (error.code, error.message) == ("already_approved", "You have already approved this version.")
    assert _status(message) == MessageStatus.IN_REVIEW
    assert Approval.objects.filter(message=message, voided_at__isnull=True).count() == 0
    assert not AuditEvent.objects.filter(verb__startswith="message.approv").exists()


def test_the_hash_the_reviewer_saw_is_compared_without_surrounding_spaces(world):
    message = make_submitted(world.a)
    assert message.approved_at is None
    before = timezone.now()
    approved = workflow.message_approve(actor=world.a.supervisor, message=message,
                                        expected_hash=f"  {message.content_hash}\n")
    assert approved.status == MessageStatus.APPROVED
    # ... and the approval records when it was given, and by whom.
    assert before <= approved.approved_at <= timezone.now() and approved.approved_by == world.a.supervisor


def test_a_first_of_two_approvals_is_audited_as_added_and_the_second_as_approved(world):
    a = world.a
    a.team.settings = {"two_approvals_for_priority": True}
    a.team.save(update_fields=["settings"])
    message = make_submitted(a, urgency="priority")
    assert workflow.approvals_required(message) == 2
    workflow.message_approve(actor=a.supervisor, message=message)
    error = _refused(WrongState, workflow.message_approve, actor=a.supervisor, message=message)
    assert (error.code, error.message) == ("already_approved", "You have already approved this version.")
    workflow.message_approve(actor=a.supervisor2, message=message)
    events = AuditEvent.objects.filter(target_id=str(message.pk), verb__startswith="message.approv").order_by("pk")
    assert [(e.verb, e.actor, e.summary) for e in events] == [
        ("message.approval_added", a.supervisor, {"version": message.version, "content_hash": message.content_hash,
                                                 "kind": "standard", "approvals": 1, "required": 2}),
        ("message.approved", a.supervisor2, {"version": message.version, "content_hash": message.content_hash,
                                            "kind": "second", "approvals": 2, "required": 2}),
    ]


def test_two_approvals_are_only_for_priority_messages_of_teams_that_ask(world):
    a = world.a
    assert workflow.approvals_required(make_message(a, urgency="priority")) == 1
    a.team.settings = {"two_approvals_for_priority": True}
    a.team.save(update_fields=["settings"])
    assert workflow.approvals_required(make_message(a, urgency="priority")) == 2
    assert workflow.approvals_required(make_message(a, urgency="routine")) == 1
    assert workflow.approvals_required(make_message(a, urgency="emergency", body=EMERGENCY_BODY)) == 1


# --- request changes ---------------------------------------------------------------------------

def test_request_changes_refusals_and_the_comment_it_leaves(world):
    a = world.a
    message = make_submitted(a)
    for actor in (a.officer, a.liaison):
        error = _refused(NotAllowed, workflow.message_request_changes, actor=actor, message=message, comment="No")
        assert error.message == "Only a supervisor of this team who is not the author can request changes."
    for blank in (" ", None):  # None: a JSON null, which the API passes on as it is
        error = _refused(InvalidInput, workflow.message_request_changes, actor=a.supervisor, message=message,
                         comment=blank)
        assert (error.message, error.fields) == ("Say what needs to change.",
                                                 {"comment": ["This field may not be blank."]})
    back = workflow.message_request_changes(actor=a.supervisor, message=message, comment="Add the train times.")
    assert back.status == MessageStatus.CHANGES_REQUESTED
    comment = Comment.objects.get(message=message)
    assert (comment.author, comment.body, comment.kind) == (a.supervisor, "Add the train times.", "changes_requested")
    error = _refused(WrongState, workflow.message_request_changes, actor=a.supervisor, message=message,
                     comment="Again")
    assert error.message == "Changes can only be requested on a message in review."


# --- the emergency review ----------------------------------------------------------------------

def test_the_emergency_review_refusals_and_its_records(world):
    a = world.a
    routine = make_submitted(a)
    routine = workflow.message_approve(actor=a.supervisor, message=routine)
    error = _refused(WrongState, workflow.message_emergency_review, actor=a.supervisor2, message=routine)
    assert error.message == "This message was not self-approved; there is nothing to review."
    message = make_submitted(a, author=a.supervisor, urgency="emergency", body=EMERGENCY_BODY)
    message = workflow.message_approve(actor=a.supervisor, message=message)
    for actor in (a.supervisor, a.officer, a.admin):
        error = _refused(NotAllowed, workflow.message_emergency_review, actor=actor, message=message)
        assert error.message == "A second supervisor, not the author, must review an emergency self-approval."
    long_comment = "Right call. " * 60
    workflow.message_emergency_review(actor=a.supervisor2, message=message, comment=long_comment)
    event = AuditEvent.objects.get(verb="message.emergency_reviewed")
    assert event.actor == a.supervisor2 and event.summary == {"comment": long_comment[:500]}
    assert Comment.objects.get(message=message).author == a.supervisor2
    error = _refused(WrongState, workflow.message_emergency_review, actor=a.supervisor2, message=message)
    assert error.message == "This emergency message has already been reviewed."


@pytest.mark.parametrize("said", [{}, {"comment": "  "}], ids=["no comment", "blank comment"])
def test_an_emergency_review_without_words_leaves_no_comment(world, said):
    a = world.a
    message = make_submitted(a, author=a.supervisor, urgency="emergency", body=EMERGENCY_BODY)
    message = workflow.message_approve(actor=a.supervisor, message=message)
    reviewed = workflow.message_emergency_review(actor=a.supervisor2, message=message, **said)
    assert reviewed.emergency_reviewed_by == a.supervisor2 and reviewed.emergency_reviewed_at is not None
    assert not Comment.objects.filter(message=message).exists()
    assert AuditEvent.objects.get(verb="message.emergency_reviewed").summary == {"comment": said.get("comment", "")}


# --- scheduling times --------------------------------------------------------------------------

def test_a_schedule_time_in_the_past_or_none_means_now():
    before = timezone.now()
    for value in (None, before - timedelta(minutes=5), before):
        parsed = workflow.parse_schedule_time(value)
        assert before <= parsed <= timezone.now()
    later = before + timedelta(hours=2)
    assert workflow.parse_schedule_time(later) == later
