"""Answers: templates go out once as threaded replies; free text goes through approval first."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Membership, Notification
from campaigns import publishing
from campaigns.models import Message, MessageStatus
from campaigns.publishing import deliveries_claim_due
from campaigns.services import workflow
from campaigns.services.channels import channel_create
from core.errors import NotAllowed, WrongState
from engage.inbound import answer_sending, answers
from engage.inbound.ingest import reply_store
from engage.inbound.processing import reply_process
from engage.models import AnswerStatus, AnswerTemplate, Reply, ReplyAnswer, ReplyCampaign, ReplyStatus
from tests.engage.inbound_helpers import CHAT_ID, TG_SECRET, process_all

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reset(sandbox):
    sandbox.reset()


def sandbox_channel(world, sandbox, kind: str, name: str | None = None, **extra):
    config, secrets = sandbox.config_for(kind)
    inbound = {"secret_token": TG_SECRET} if kind == "telegram" else {}  # only Telegram's schema has it
    return channel_create(actor=world.a.admin, team=world.a.team, kind=kind, name=name or f"{kind} sandbox",
                          config={**config, **secrets, "read_timeout": 1.0, **inbound, **extra})


def telegram_reply(world, channel, *, message_id: int = 55, text: str = "What time do the gates open?") -> Reply:
    stored = reply_store(team_id=world.a.team.pk, channel=channel, source="telegram",
                         provider_id=f"{CHAT_ID}:{message_id}", text=text, author_handle="@jane",
                         author_name="Jane", received_at=timezone.now() - timedelta(minutes=3))
    reply_process(reply_id=stored.reply_id)
    return Reply.objects.get(pk=stored.reply_id)


def replied_to(post) -> int:
    """The message id a Telegram post replies to (JSON bodies keep it as an object, forms as text)."""
    parameters = post.fields["reply_parameters"]
    return (json.loads(parameters) if isinstance(parameters, str) else parameters)["message_id"]


def thanks_template(world, language: str = "en") -> AnswerTemplate:
    return AnswerTemplate.objects.get(team=None, title="Thank you, we have read it", language=language)


def test_a_template_answer_goes_out_once_as_a_threaded_reply(world, sandbox):
    channel = sandbox_channel(world, sandbox, "telegram")
    reply = telegram_reply(world, channel)
    answer = answers.reply_respond(actor=world.a.liaison, reply=reply, template=thanks_template(world))
    assert answer.status == AnswerStatus.SENT
    posts = sandbox.posts("telegram")
    assert len(posts) == 1
    assert posts[0].fields["text"] == thanks_template(world).body
    assert replied_to(posts[0]) == 55
    assert str(posts[0].fields["chat_id"]) == str(CHAT_ID)  # in the chat the person wrote in
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.ANSWERED
    assert reply.first_response_at == answer.sent_at
    assert answer.idempotency_key == f"engage-reply-{reply.pk}-template-{thanks_template(world).pk}"
    # Not twice: the same template again is refused, and a stray second send does nothing.
    with pytest.raises(WrongState):
        answers.reply_respond(actor=world.a.liaison, reply=reply, template=thanks_template(world))
    assert answer_sending.answer_send(answer_id=answer.pk) == "not-sent"
    assert process_all()["sent"] == 0
    assert len(sandbox.posts("telegram")) == 1
    assert AuditEvent.objects.filter(verb="reply.answer_sent", target_id=str(reply.pk)).count() == 1


def mastodon_citizen_reply(world, sandbox):
    """A citizen's mention posted on the Mastodon sandbox, stored and processed as a reply of team A:
    (the citizen's post, the reply)."""
    from platforms import get_adapter
    from platforms.base import Payload

    channel = sandbox_channel(world, sandbox, "mastodon")
    config, secrets = sandbox.config_for("mastodon")
    citizen = get_adapter("mastodon", config=config, secrets=secrets).publish(
        Payload(text="@police when does the march start?"), idempotency_key="citizen-1")
    stored = reply_store(team_id=world.a.team.pk, channel=channel, source="mastodon", provider_id=citizen.external_id,
                         text="@police when does the march start?", author_handle="@sam@example.social")
    reply_process(reply_id=stored.reply_id)
    return citizen, Reply.objects.get(pk=stored.reply_id)


def test_a_mastodon_answer_threads_mentions_and_carries_the_idempotency_key(world, sandbox):
    citizen, reply = mastodon_citizen_reply(world, sandbox)
    answer = answers.reply_respond(actor=world.a.liaison, reply=reply, template=thanks_template(world))
    assert answer.status == AnswerStatus.SENT
    post = sandbox.posts("mastodon")[-1]
    assert post.fields["in_reply_to_id"] == citizen.external_id
    assert post.fields["status"].startswith("@sam@example.social ")
    assert post.idempotency_key == answer.idempotency_key


def test_free_text_becomes_a_message_in_review_and_is_sent_once_approved(world, sandbox):
    channel = sandbox_channel(world, sandbox, "telegram")
    reply = telegram_reply(world, channel, message_id=60)
    answer = answers.reply_respond(actor=world.a.supervisor, reply=reply,
                                   body="The gates open at 6pm. Please bring your ticket. #DerbyDay")
    assert answer.status == AnswerStatus.AWAITING_APPROVAL
    message = Message.objects.get(pk=answer.message_id)
    assert message.status == MessageStatus.IN_REVIEW
    assert list(message.channels.all()) == [channel]
    assert ReplyCampaign.objects.get(team=world.a.team).campaign_id == message.campaign_id
    # Nothing leaves before approval.
    assert process_all()["sent"] == 0 and sandbox.posts("telegram") == []
    reply.refresh_from_db()
    assert reply.first_response_at is None
    workflow.message_approve(actor=world.a.supervisor2, message=message)
    result = process_all()
    assert result["released"] == 1 and result["sent"] == 1
    posts = sandbox.posts("telegram")
    assert len(posts) == 1 and posts[0].fields["text"] == message.body
    assert replied_to(posts[0]) == 60
    answer.refresh_from_db()
    reply.refresh_from_db()
    assert answer.status == AnswerStatus.SENT and reply.first_response_at == answer.sent_at
    # The approved message is not also posted as a new post by the publishing tick.
    assert deliveries_claim_due() == []
    assert process_all()["sent"] == 0 and len(sandbox.posts("telegram")) == 1


def test_an_edit_after_approval_is_not_sent(world, sandbox):
    from campaigns.services.messages import message_update

    channel = sandbox_channel(world, sandbox, "telegram")
    reply = telegram_reply(world, channel, message_id=61)
    answer = answers.reply_respond(actor=world.a.supervisor, reply=reply, body="Gates open at 6pm. #DerbyDay")
    message = Message.objects.get(pk=answer.message_id)
    message_update(actor=world.a.supervisor, message=message, body="Gates open at 5pm. #DerbyDay")
    assert process_all()["sent"] == 0 and sandbox.posts("telegram") == []


def test_a_liaison_drafts_free_text_and_a_supervisor_who_did_not_write_it_approves_it(world, sandbox):
    channel = sandbox_channel(world, sandbox, "telegram")
    reply = telegram_reply(world, channel, message_id=62)
    assert reply.status == ReplyStatus.NEW
    answer = answers.reply_respond(actor=world.a.liaison, reply=reply, body="Yes, step-free access is at gate C.")
    assert answer.status == AnswerStatus.AWAITING_APPROVAL
    message = Message.objects.get(pk=answer.message_id)
    assert message.status == MessageStatus.IN_REVIEW and message.author == world.a.liaison
    assert Reply.objects.get(pk=reply.pk).status == ReplyStatus.TRIAGED  # moved on from "New"
    with pytest.raises(NotAllowed):  # a liaison officer approves nothing, their own words least of all
        workflow.message_approve(actor=world.a.liaison, message=message)
    assert process_all()["sent"] == 0 and sandbox.posts("telegram") == []
    workflow.message_approve(actor=world.a.supervisor, message=message)
    assert process_all()["sent"] == 1
    assert sandbox.posts("telegram")[0].fields["text"] == "Yes, step-free access is at gate C."


def test_a_liaison_may_not_draft_ordinary_messages(world):
    from campaigns.services.messages import message_create

    with pytest.raises(NotAllowed):
        message_create(actor=world.a.liaison, campaign=world.a.campaign, body="Gates open at 6pm.")


def test_a_drafted_answer_moves_an_assigned_new_reply_to_assigned(world, sandbox):
    channel = sandbox_channel(world, sandbox, "telegram")
    reply = telegram_reply(world, channel, message_id=63)
    Reply.objects.filter(pk=reply.pk).update(assignee=world.a.liaison)
    answers.reply_respond(actor=world.a.supervisor, reply=reply, body="Gates open at 6pm.")
    assert Reply.objects.get(pk=reply.pk).status == ReplyStatus.ASSIGNED


def test_an_urgent_reply_alerts_the_on_duty_liaison_and_gets_the_urgent_answer_once(world, sandbox):
    channel = sandbox_channel(world, sandbox, "telegram")
    Membership.objects.filter(user=world.a.liaison, team=world.a.team).update(on_duty=True)
    other_liaison = world.b.liaison
    stored = reply_store(team_id=world.a.team.pk, channel=channel, source="telegram", provider_id=f"{CHAT_ID}:70",
                         text="هناك شخص مصاب وينزف عند البوابة", author_handle="@omar")
    assert reply_process(reply_id=stored.reply_id) is True
    reply = Reply.objects.get(pk=stored.reply_id)
    assert reply.urgent and reply.category == "emergency" and reply.language == "ar"
    assert reply.sla_due_at == reply.received_at + timedelta(minutes=5)
    assert Notification.objects.filter(user=world.a.liaison, kind="urgent_reply").count() == 1
    assert not Notification.objects.filter(user=other_liaison).exists()
    answer = ReplyAnswer.objects.get(reply=reply)
    assert answer.kind == "auto" and answer.language == "ar" and "999" in answer.body
    assert answer.idempotency_key == f"engage-reply-{reply.pk}-urgent"
    assert answer_sending.answer_send(answer_id=answer.pk) == "sent"
    assert process_all()["sent"] == 0
    assert reply_process(reply_id=reply.pk) is False
    posts = sandbox.posts("telegram")
    assert len(posts) == 1 and replied_to(posts[0]) == 70
    assert ReplyAnswer.objects.filter(reply=reply).count() == 1


def test_the_publishing_pause_holds_answers(world, sandbox):
    channel = sandbox_channel(world, sandbox, "telegram")
    reply = telegram_reply(world, channel, message_id=63)
    publishing.publishing_pause(actor=world.a.supervisor, reason="Incident", team=world.a.team.pk)
    answer = answers.reply_respond(actor=world.a.liaison, reply=reply, template=thanks_template(world))
    assert answer.status == AnswerStatus.PENDING and "paused" in answer.last_error
    assert sandbox.posts("telegram") == []
    publishing.publishing_resume(actor=world.a.supervisor, reason="Clear", team=world.a.team.pk)
    ReplyAnswer.objects.filter(pk=answer.pk).update(next_attempt_at=None)
    assert process_all()["sent"] == 1
    assert len(sandbox.posts("telegram")) == 1


def test_a_platform_error_is_retried_later_and_sent_once(world, sandbox):
    channel = sandbox_channel(world, sandbox, "telegram")
    reply = telegram_reply(world, channel, message_id=64)
    sandbox.set_behaviour("telegram", fail=1)
    answer = answers.reply_respond(actor=world.a.liaison, reply=reply, template=thanks_template(world))
    assert answer.status == AnswerStatus.PENDING and answer.next_attempt_at > timezone.now()
    assert process_all()["sent"] == 0  # not yet due
    ReplyAnswer.objects.filter(pk=answer.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert process_all()["sent"] == 1
    assert len(sandbox.posts("telegram")) == 1


def test_a_timeout_after_sending_is_unconfirmed_and_never_resent_blindly(world, sandbox):
    channel = sandbox_channel(world, sandbox, "telegram")
    reply = telegram_reply(world, channel, message_id=65)
    sandbox.set_behaviour("telegram", hang=1, hang_seconds=3)
    answer = answers.reply_respond(actor=world.a.liaison, reply=reply, template=thanks_template(world))
    assert answer.status == AnswerStatus.UNCONFIRMED
    assert process_all()["sent"] == 0
    assert len(sandbox.posts("telegram")) == 1  # the platform did get it
    resolved = answers.answer_resolve_unconfirmed(actor=world.a.liaison, answer=answer, sent=True)
    assert resolved.status == AnswerStatus.SENT
    reply.refresh_from_db()
    assert reply.first_response_at is not None and len(sandbox.posts("telegram")) == 1


def test_a_web_form_reply_is_answered_by_email_to_the_address_given(world):
    channel_create(actor=world.a.admin, team=world.a.team, kind="email", name="Email answers",
                   config={"from_email": "community@police.example"})
    stored = reply_store(team_id=world.a.team.pk, channel=None, source="web", provider_id="web-abc",
                         text="هل الطريق إلى الملعب مغلق؟", author_handle="layla@example.org")
    reply_process(reply_id=stored.reply_id)
    reply = Reply.objects.get(pk=stored.reply_id)
    answer = answers.reply_respond(actor=world.a.liaison, reply=reply, template=thanks_template(world, "ar"))
    assert answer.status == AnswerStatus.SENT
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["layla@example.org"]
    assert thanks_template(world, "ar").body in mail.outbox[0].body
    reply.refresh_from_db()
    assert reply.first_response_at is not None


def test_a_web_form_reply_without_contact_cannot_be_answered(world):
    stored = reply_store(team_id=world.a.team.pk, channel=None, source="web", provider_id="web-anon",
                         text="Thanks for the help today")
    reply = Reply.objects.get(pk=stored.reply_id)
    with pytest.raises(WrongState) as excinfo:
        answers.reply_respond(actor=world.a.liaison, reply=reply, template=thanks_template(world))
    assert excinfo.value.code == "no_reply_channel"
    assert not ReplyAnswer.objects.exists()


def test_the_respond_api(world, sandbox):
    channel = sandbox_channel(world, sandbox, "telegram")
    reply = telegram_reply(world, channel, message_id=66)
    liaison, supervisor = APIClient(), APIClient()
    liaison.force_authenticate(world.a.liaison)
    supervisor.force_authenticate(world.a.supervisor)
    url = f"/api/v1/replies/{reply.pk}/respond/"
    sent = liaison.post(url, {"template": thanks_template(world).pk}, format="json")
    assert sent.status_code == 201 and sent.json()["status"] == "sent"
    again = liaison.post(url, {"template": thanks_template(world).pk}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_answered"
    drafted = supervisor.post(url, {"body": "We will look into it and reply soon."}, format="json")
    assert drafted.status_code == 202 and drafted.json()["status"] == "awaiting_approval"
    assert Message.objects.get(pk=drafted.json()["message"]).status == MessageStatus.IN_REVIEW
    assert liaison.post(url, {}, format="json").status_code == 400
    assert liaison.post(url, {"template": 999999}, format="json").status_code == 400
    other = APIClient()
    other.force_authenticate(world.b.liaison)
    assert other.post(url, {"template": thanks_template(world).pk}, format="json").status_code == 404
    officer = APIClient()
    officer.force_authenticate(world.a.officer)
    assert officer.post(url, {"body": "hi"}, format="json").status_code == 404
    assert len(sandbox.posts("telegram")) == 1


def test_a_liaison_submits_only_the_answer_they_wrote_themselves(world):
    """The inbox's way in for liaison officers reaches their own answer only: another person's draft
    (an officer's message) is refused to them, and stays a draft."""
    from tests.factories import make_message

    draft = make_message(world.a)  # written by the team's officer
    with pytest.raises(NotAllowed):
        workflow.message_submit(actor=world.a.liaison, message=draft, inbox_answer=True)
    draft.refresh_from_db()
    assert draft.status == MessageStatus.DRAFT
