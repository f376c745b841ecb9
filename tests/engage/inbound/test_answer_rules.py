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


def _drain(queue_name: str) -> list[tuple[str, dict]]:
    """The tasks waiting on one queue of the tests' in-memory broker (taken off it): name, kwargs."""
    from engage.celery import app

    taken = []
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue(queue_name)
        try:
            while True:
                message = queue.get(block=False)
                taken.append((message.headers["task"], message.payload[1]))
                message.ack()
        except queue.Empty:
            pass
        finally:
            queue.close()
    return taken


def test_a_held_answer_a_person_sends_is_handed_to_an_urgent_worker_once_committed(
        world, reply, django_capture_on_commit_callbacks, caplog):
    from engage.models import AnswerKind, AnswerStatus, ReplyAnswer

    held = answers.answer_from_template(actor=world.a.liaison, reply=reply, template=thanks_template(world))
    ReplyAnswer.objects.filter(pk=held.pk).update(status=AnswerStatus.HELD, kind=AnswerKind.AUTO, created_by=None)
    _drain("urgent"), _drain("celery")
    with django_capture_on_commit_callbacks() as later:
        answers.answer_release_held(actor=world.a.supervisor, answer=held, send=True)
        assert _drain("urgent") == []  # not before the commit: a worker would not see the row yet
    with caplog.at_level("INFO", logger=answers.__name__):
        for callback in later:
            callback()
    assert _drain("urgent") == [("engage.send_answer", {"answer_id": held.pk})]
    assert _drain("celery") == []
    # The broker took it: nobody is told it was left to the sweeper.
    assert [r.getMessage() for r in caplog.records if r.name == answers.__name__] == []


def test_a_team_has_one_answers_campaign_that_says_what_it_is_for(world, sandbox):
    from campaigns.models import Campaign
    from engage.models import ReplyCampaign

    sandbox.reset()
    channel = sandbox_channel(world, sandbox, "telegram")
    first = answers.answer_free_text(actor=world.a.liaison, reply=telegram_reply(world, channel, message_id=71),
                                     body="The gates open at 2pm.")
    second = answers.answer_free_text(actor=world.a.supervisor, reply=telegram_reply(world, channel, message_id=72),
                                      body="The gates close at 6pm.")
    campaign = Campaign.objects.get(team=world.a.team, name=answers.REPLIES_CAMPAIGN_NAME)
    assert (campaign.name, campaign.created_by_id) == ("Answers to the public", world.a.liaison.pk)
    assert campaign.description == ("Free-text answers to the public's replies. Each is approved like any message "
                                    "and sent by the inbox as a threaded reply; do not schedule them as posts.")
    assert {first.message.campaign_id, second.message.campaign_id} == {campaign.pk}
    assert list(ReplyCampaign.objects.values_list("team_id", "campaign_id")) == [(world.a.team.pk, campaign.pk)]


def test_a_held_answer_is_released_only_through_its_own_reply(world, reply, sandbox):
    """The service acts on the answer of the reply it locked and checked the person against; an
    answer handed in with another reply (another force's held answer) is refused and stays held."""
    from engage.models import AnswerKind, AnswerStatus, ReplyAnswer

    _force, c = make_other_force("C")
    from engage.inbound.ingest import reply_store

    stored = reply_store(team_id=c.team.pk, channel=None, source="web", provider_id="c-1", text="Where is the bus?",
                         author_handle="+447700900123", author_name="Sam")
    theirs_reply = Reply.objects.get(pk=stored.reply_id)
    theirs = ReplyAnswer.objects.create(reply=theirs_reply, kind=AnswerKind.AUTO, body="Thanks", status=AnswerStatus.HELD,
                                        idempotency_key=f"engage-reply-{theirs_reply.pk}-urgent")
    for send in (True, False):
        with pytest.raises(WrongState, match="^This answer is not held.$"):
            answers.answer_release_held(actor=world.a.supervisor, answer=ReplyAnswer(pk=theirs.pk, reply=reply),
                                        send=send)
    assert ReplyAnswer.objects.values_list("status", "created_by_id").get(pk=theirs.pk) == (AnswerStatus.HELD, None)


def test_an_answers_campaign_tied_to_an_event_gives_its_answers_no_hashtags(world, sandbox):
    """Someone may attach the team's answers campaign to an event: an answer is still sent with the
    words written and approved, not with the event's hashtags added."""
    from campaigns.services.events import campaign_update

    sandbox.reset()
    channel = sandbox_channel(world, sandbox, "telegram")
    first = answers.answer_free_text(actor=world.a.liaison, reply=telegram_reply(world, channel, message_id=81),
                                     body="The gates open at 2pm.")
    assert world.a.event.hashtags == ["DerbyDay"]
    campaign_update(actor=world.a.supervisor, campaign=first.message.campaign, event=world.a.event)
    second = answers.answer_free_text(actor=world.a.liaison, reply=telegram_reply(world, channel, message_id=82),
                                      body="The gates close at 6pm.")
    assert second.message.campaign.event_id == world.a.event.pk
    assert (first.message.hashtags, second.message.hashtags) == ([], [])


def test_an_answer_to_an_edited_telegram_message_threads_under_the_message(world, sandbox):
    """Telegram gives an edit its own id (``chat:message:edit:date``): the answer still goes in that
    chat, as a reply to the message the person wrote and edited."""
    from django.utils import timezone

    from engage.inbound.ingest import reply_store
    from tests.engage.inbound_helpers import CHAT_ID

    sandbox.reset()
    channel = sandbox_channel(world, sandbox, "telegram")
    stored = reply_store(team_id=world.a.team.pk, channel=channel, source="telegram",
                         provider_id=f"{CHAT_ID}:77:edit:1796460000", text="What time do the gates open now?",
                         author_handle="@jane", author_name="Jane", received_at=timezone.now())
    route = answers.answer_route(Reply.objects.get(pk=stored.reply_id))
    assert route is not None
    assert (route.channel, route.config, route.in_reply_to) == (channel, {"chat_id": str(CHAT_ID)}, "77")


def test_a_queued_template_answer_is_audited_as_the_person_who_chose_it(world, reply):
    from accounts.models import AuditEvent

    template = thanks_template(world)
    answer = answers.answer_from_template(actor=world.a.liaison, reply=reply, template=template)
    audit = AuditEvent.objects.get(verb="reply.answer_queued")
    assert (audit.actor_id, audit.team_id, audit.target_id) == (world.a.liaison.pk, world.a.team.pk, str(reply.pk))
    assert audit.summary == {"answer": answer.pk, "kind": "template", "template": template.pk}


def test_adoption_refusals_say_why_and_change_nothing(world, reply):
    from core.errors import NotAllowed
    from engage.models import AnswerKind, AnswerStatus, ReplyAnswer

    proposed = ReplyAnswer.objects.create(reply=reply, kind=AnswerKind.FREE_TEXT, body="", status=AnswerStatus.PROPOSED,
                                          created_by=world.a.liaison,
                                          idempotency_key=f"engage-reply-{reply.pk}-text-proposed")
    with pytest.raises(NotAllowed) as excinfo:
        answers.answer_adopt(actor=world.a.liaison, answer=proposed, body="The gates open at 2pm.")
    assert _refusal(excinfo) == (NotAllowed, "forbidden",
                                 "Only officers and supervisors can send an answer for approval.", {})
    for body in (None, "  \n "):
        with pytest.raises(InvalidInput) as excinfo:
            answers.answer_adopt(actor=world.a.supervisor, answer=proposed, body=body)
        assert _refusal(excinfo) == (InvalidInput, "invalid", "Write the answer.",
                                     {"body": ["This field may not be blank."]})
    assert ReplyAnswer.objects.values_list("status", "message_id", "body").get(pk=proposed.pk) == (
        AnswerStatus.PROPOSED, None, "")
