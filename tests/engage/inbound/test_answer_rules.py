"""Answers' own rules (engage/inbound/answers.py) that the invariants leave open.

- Each refusal says, word for word, what the API passes on.
- A template's answer is in the template's language; a free-text answer is on the record as written
  by the person who wrote it.
- Drafting an answer moves a new reply on, and leaves a reply already triaged, assigned or escalated
  where it was (an escalation is never undone by an answer).
"""

from __future__ import annotations

import pytest

from core.errors import InvalidInput, NotFound, WrongState
from engage.inbound import answers
from engage.models import AnswerTemplate, Reply, ReplyStatus
from tests.engage.inbound.test_answers import sandbox_channel, telegram_reply, thanks_template
from tests.factories import make_other_force

pytestmark = pytest.mark.django_db


@pytest.fixture
def reply(world, sandbox):
    sandbox.reset()
    return telegram_reply(world, sandbox_channel(world, sandbox, "telegram"))


def _refusal(excinfo):
    error = excinfo.value
    return type(error), error.code, error.message, error.fields


def test_a_template_answer_is_in_the_templates_language(world, reply):
    arabic = thanks_template(world, "ar")
    answer = answers.answer_from_template(actor=world.a.liaison, reply=reply, template=arabic)
    assert (answer.language, answer.body, answer.created_by_id) == ("ar", arabic.body, world.a.liaison.pk)


def test_template_refusals_say_why(world, reply):
    template = thanks_template(world)
    answers.answer_from_template(actor=world.a.liaison, reply=reply, template=template)
    with pytest.raises(WrongState) as excinfo:
        answers.answer_from_template(actor=world.a.liaison, reply=reply, template=template)
    assert _refusal(excinfo) == (WrongState, "already_answered",
                                 "This template has already been used to answer this reply.", {})
    theirs = AnswerTemplate.objects.create(team=world.b.team, title="Theirs", body="Their words", language="en")
    with pytest.raises(NotFound) as excinfo:
        answers.answer_from_template(actor=world.a.liaison, reply=reply, template=theirs)
    assert _refusal(excinfo) == (NotFound, "not_found", "No such answer template.", {})
    _force, c = make_other_force("C")
    with pytest.raises(NotFound) as excinfo:
        answers.answer_from_template(actor=c.liaison, reply=reply, template=template)
    assert _refusal(excinfo) == (NotFound, "not_found", "No such reply.", {})


def test_free_text_refusals_say_why_and_change_nothing(world, reply):
    with pytest.raises(InvalidInput) as excinfo:
        answers.answer_free_text(actor=world.a.liaison, reply=reply, body="  \n ")
    assert _refusal(excinfo) == (InvalidInput, "invalid", "Write the answer.",
                                 {"body": ["This field may not be blank."]})
    with pytest.raises(InvalidInput) as excinfo:
        answers.answer_free_text(actor=world.a.liaison, reply=reply, body="x" * (answers.MAX_ANSWER_CHARS + 1))
    assert _refusal(excinfo) == (InvalidInput, "invalid",
                                 f"The answer is longer than {answers.MAX_ANSWER_CHARS} characters.",
                                 {"body": ["Too long."]})
    assert not reply.answers.exists()
    assert Reply.objects.get(pk=reply.pk).status == ReplyStatus.NEW


def test_a_free_text_answer_is_on_the_record_as_its_writers(world, reply):
    answer = answers.answer_free_text(actor=world.a.liaison, reply=reply, body="The gates open at 2pm.")
    assert answer.created_by_id == world.a.liaison.pk
    assert answer.message.versions.get().created_by_id == world.a.liaison.pk


@pytest.mark.parametrize(("before", "assignee", "after"), [
    (ReplyStatus.NEW, False, ReplyStatus.TRIAGED),
    (ReplyStatus.NEW, True, ReplyStatus.ASSIGNED),
    (ReplyStatus.TRIAGED, True, ReplyStatus.TRIAGED),
    (ReplyStatus.ESCALATED, False, ReplyStatus.ESCALATED),
    (ReplyStatus.ESCALATED, True, ReplyStatus.ESCALATED),
])
def test_drafting_an_answer_moves_only_a_new_reply_on(world, reply, before, assignee, after):
    Reply.objects.filter(pk=reply.pk).update(status=before, assignee=world.a.liaison if assignee else None)
    reply.refresh_from_db()
    answers.answer_free_text(actor=world.a.liaison, reply=reply, body="The gates open at 2pm.")
    assert Reply.objects.get(pk=reply.pk).status == after


def test_a_proposed_answer_adopted_is_audited_on_its_team_with_who_proposed_it(world, reply):
    from accounts.models import AuditEvent
    from engage.models import AnswerKind, AnswerStatus, ReplyAnswer

    proposed = ReplyAnswer.objects.create(reply=reply, kind=AnswerKind.FREE_TEXT, body="The gates open at 2pm.",
                                          status=AnswerStatus.PROPOSED, created_by=world.a.liaison,
                                          idempotency_key=f"engage-reply-{reply.pk}-text-proposed")
    adopted = answers.answer_adopt(actor=world.a.supervisor, answer=proposed)
    assert adopted.status == AnswerStatus.AWAITING_APPROVAL and adopted.body == "The gates open at 2pm."
    audit = AuditEvent.objects.get(verb="reply.answer_adopted")
    assert (audit.actor_id, audit.team_id) == (world.a.supervisor.pk, world.a.team.pk)
    assert audit.summary == {"answer": proposed.pk, "message": adopted.message_id, "proposed_by": world.a.liaison.pk}


def test_after_a_restore_only_answers_that_may_have_gone_out_are_unconfirmed(world, sandbox):
    from engage.models import AnswerStatus, ReplyAnswer

    sandbox.reset()
    channel = sandbox_channel(world, sandbox, "telegram")
    rows = {}
    for n, status in enumerate([AnswerStatus.PENDING, AnswerStatus.SENDING, AnswerStatus.SENT, AnswerStatus.FAILED,
                                AnswerStatus.AWAITING_APPROVAL]):
        reply = telegram_reply(world, channel, message_id=100 + n)
        answer = answers.answer_from_template(actor=world.a.liaison, reply=reply, template=thanks_template(world))
        ReplyAnswer.objects.filter(pk=answer.pk).update(status=status, last_error="as it was")
        rows[status] = answer.pk
    by_team = answers.answers_unconfirm_after_restore(backup_taken="2026-12-05 01:00 UTC")
    assert {team: sorted(ids) for team, ids in by_team.items()} == {
        world.a.team.pk: sorted([rows[AnswerStatus.PENDING], rows[AnswerStatus.SENDING]])}
    for status, pk in rows.items():
        after = ReplyAnswer.objects.values("status", "last_error").get(pk=pk)
        if status in (AnswerStatus.PENDING, AnswerStatus.SENDING):
            assert after == {"status": AnswerStatus.UNCONFIRMED, "last_error": (
                "Restored from a backup taken 2026-12-05 01:00 UTC: it may have gone out after the backup. "
                "Check the platform before answering again.")}
        else:
            assert after == {"status": status, "last_error": "as it was"}


def test_a_free_text_answer_is_in_the_replys_language_and_audited_on_its_team(world, sandbox):
    from accounts.models import AuditEvent

    sandbox.reset()
    arabic = telegram_reply(world, sandbox_channel(world, sandbox, "telegram"), text="متى تفتح البوابات؟")
    assert arabic.language == "ar"
    answer = answers.answer_free_text(actor=world.a.liaison, reply=arabic, body="تفتح البوابات الساعة الثانية.")
    assert (answer.language, answer.message.language) == ("ar", "ar")
    audit = AuditEvent.objects.get(verb="reply.answer_drafted")
    assert (audit.actor_id, audit.team_id) == (world.a.liaison.pk, world.a.team.pk)
    assert audit.summary == {"answer": answer.pk, "status": answer.status, "message": answer.message_id}


def test_an_adopted_answer_goes_for_approval_in_the_adopters_words(world, reply):
    from engage.models import AnswerKind, AnswerStatus, ReplyAnswer

    proposed = ReplyAnswer.objects.create(reply=reply, kind=AnswerKind.FREE_TEXT, body="Gates at 2.",
                                          status=AnswerStatus.PROPOSED, created_by=world.a.liaison,
                                          idempotency_key=f"engage-reply-{reply.pk}-text-proposed")
    adopted = answers.answer_adopt(actor=world.a.supervisor, answer=proposed, body="The gates open at 2pm.")
    assert adopted.body == adopted.message.body == "The gates open at 2pm."
    with pytest.raises(WrongState) as excinfo:
        answers.answer_adopt(actor=world.a.supervisor, answer=adopted)
    assert _refusal(excinfo) == (WrongState, "wrong_state", "Only a proposed answer can be adopted.", {})


def test_answering_refusals_say_why(world, reply):
    from core.errors import NotAllowed

    with pytest.raises(InvalidInput) as excinfo:
        answers.reply_respond(actor=world.a.liaison, reply=reply)
    assert _refusal(excinfo)[:3] == (InvalidInput, "invalid", "Give either a template or a text.")
    with pytest.raises(NotAllowed) as excinfo:
        answers.answer_free_text(actor=world.a.admin, reply=reply, body="Hello")
    assert _refusal(excinfo) == (NotAllowed, "forbidden",
                                 "Only liaison officers and supervisors of this team answer replies.", {})
