"""Answers to the public: sent at most once, only as approved, held by their own force's pause.

Each conditional update of an answer's life (``answer_send``'s claim and its outcome, the reaper
of answers stuck "sending", resolving an unconfirmed answer, releasing or dropping a held one,
the sweeper releasing approved free text) is tested with a second answer beside the one acted on,
in the state a widened filter would wrongly catch; that answer must stay exactly as it was, and
nothing is posted twice. A free-text answer goes out with the words its message was approved
with, never its own row's copy; a pause in one force never holds another force's answers.
(docs/testing.md lists the mutations of ``engage/inbound/answers.py`` these are there to catch.)
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import AuditEvent, Notification
from campaigns import publishing
from campaigns.models import Message, MessageStatus
from campaigns.services import workflow
from core.errors import WrongState
from engage.inbound import answer_sending, answers
from engage.models import AnswerKind, AnswerStatus, Reply, ReplyAnswer, ReplyStatus
from tests.engage.inbound.test_answers import (
    mastodon_citizen_reply,
    sandbox_channel,
    telegram_reply,
    thanks_template,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reset(sandbox):
    sandbox.reset()


def queued(world, channel, n: int) -> ReplyAnswer:
    """A template answer to a new Telegram reply, pending (queued, not sent yet)."""
    reply = telegram_reply(world, channel, message_id=n)
    return answers.answer_from_template(actor=world.a.liaison, reply=reply, template=thanks_template(world))


def row(pk: int) -> tuple:
    a = ReplyAnswer.objects.get(pk=pk)
    r = Reply.objects.get(pk=a.reply_id)
    return (a.status, a.attempts, a.claimed_at, a.next_attempt_at, a.last_error, a.external_id, a.sent_at,
            a.idempotency_key, a.channel_id, a.created_by_id, a.body, r.status, r.first_response_at,
            AuditEvent.objects.filter(target_id=str(r.pk), verb__startswith="reply.answer_").count())


def audits(answer: ReplyAnswer, verb: str) -> list[dict]:
    return [e.summary for e in AuditEvent.objects.filter(verb=verb, target_id=str(answer.reply_id))]


# --- answer_send: one answer's outcome on that answer only --------------------------------------

@pytest.mark.parametrize(("behaviour", "outcome", "status"), [
    ({}, "sent", AnswerStatus.SENT),
    ({"fail": 1}, "pending", AnswerStatus.PENDING),
    ({"drop": 1}, "unconfirmed", AnswerStatus.UNCONFIRMED),
    ({"auth_expired": True}, "failed", AnswerStatus.FAILED),
])
def test_one_answers_outcome_is_written_on_that_answer_only(world, sandbox, behaviour, outcome, status):
    channel = sandbox_channel(world, sandbox, "telegram")
    one, other = queued(world, channel, 1), queued(world, channel, 2)
    # Another worker has the other answer in hand, mid-call: a widened filter would catch it.
    ReplyAnswer.objects.filter(pk=other.pk).update(status=AnswerStatus.SENDING, claimed_at=timezone.now(),
                                                   attempts=1)
    before = row(other.pk)
    sandbox.set_behaviour("telegram", **behaviour)
    assert answer_sending.answer_send(answer_id=one.pk) == outcome
    assert row(other.pk) == before, f"the {outcome} outcome was written onto another answer"
    one.refresh_from_db()
    assert one.status == status and one.attempts == 1 and one.channel_id == channel.pk
    assert len(audits(one, f"reply.answer_{status}")) == 1
    problem = Notification.objects.filter(user=world.a.liaison, kind="answer_failed")
    if outcome != "sent":
        [summary] = audits(one, f"reply.answer_{status}")
        assert summary == {"answer": one.pk, "error": one.last_error[:300], "attempts": 1}
    if outcome == "sent":
        reply = Reply.objects.get(pk=one.reply_id)
        assert reply.status == ReplyStatus.ANSWERED and reply.first_response_at == one.sent_at
        assert one.external_id and one.last_error == "" and not problem.exists()
        assert one.claim_token == "" and one.in_flight_since is None  # sent: no claim left on it
        assert audits(one, "reply.answer_sent")[0]["first_response"] is True
    else:
        assert one.last_error not in ("", "None") and one.sent_at is None
        assert Reply.objects.get(pk=one.reply_id).first_response_at is None
        # A person is told when it did not go out (failed, or may have); a retry tells nobody.
        assert problem.count() == (0 if outcome == "pending" else 1)
    if outcome == "pending":
        # The engine's backoff, from settings: the base wait after a first attempt.
        base = timedelta(seconds=publishing.RETRY_BASE_SECONDS)
        assert timezone.now() + base - timedelta(seconds=5) < one.next_attempt_at <= timezone.now() + base
        assert answer_sending.answer_send(answer_id=one.pk) == "not-sent"  # not due yet: it waits
    assert len(sandbox.posts("telegram")) == (0 if outcome in ("pending", "failed") else 1)


def test_a_second_send_of_an_answer_finds_nothing_to_do(world, sandbox):
    channel = sandbox_channel(world, sandbox, "telegram")
    one, other = queued(world, channel, 1), queued(world, channel, 2)
    before = row(other.pk)
    assert answer_sending.answer_send(answer_id=one.pk) == "sent"
    sent = row(one.pk)
    assert answer_sending.answer_send(answer_id=one.pk) == "not-sent"
    assert row(one.pk) == sent and row(other.pk) == before
    assert len(sandbox.posts("telegram")) == 1


def test_a_retry_waits_longer_each_time_and_never_past_the_last_attempt(world, sandbox):
    channel = sandbox_channel(world, sandbox, "telegram")
    answer = queued(world, channel, 1)
    sandbox.set_behaviour("telegram", fail=100)
    waits = []
    for attempt in range(1, publishing.MAX_ATTEMPTS + 1):
        ReplyAnswer.objects.filter(pk=answer.pk).update(next_attempt_at=None)
        started = timezone.now()
        outcome = answer_sending.answer_send(answer_id=answer.pk)
        answer.refresh_from_db()
        assert answer.attempts == attempt
        if attempt < publishing.MAX_ATTEMPTS:
            assert outcome == "pending" and answer.status == AnswerStatus.PENDING
            waits.append((answer.next_attempt_at - started).total_seconds())
        else:
            assert outcome == "failed" and answer.status == AnswerStatus.FAILED
            # Only the last attempt tells a person: it will not be tried again.
            assert Notification.objects.filter(user=world.a.liaison, kind="answer_failed").count() == 1
        if attempt < publishing.MAX_ATTEMPTS:
            assert not Notification.objects.filter(kind="answer_failed").exists()
    expected = [min(publishing.RETRY_BASE_SECONDS * 2 ** (n - 1), 900) for n in range(1, publishing.MAX_ATTEMPTS)]
    assert [round(w) for w in waits] == expected
    assert sandbox.posts("telegram") == []


# --- the reaper: the engine's, over answers ---------------------------------------------------------

def test_the_answer_reaper_marks_only_answers_stuck_in_flight_and_never_resends(world, sandbox):
    """An answer in flight (the platform call began) for longer than a task may run may have been sent:
    unconfirmed, for a person. One claimed but never in flight (the worker died before the call) goes
    back to pending, its claim voided. Everything else is left exactly as it was."""
    channel = sandbox_channel(world, sandbox, "telegram")
    stuck, fresh, sent_long_ago, pending_long_ago, claimed_long_ago = (queued(world, channel, n) for n in range(1, 6))
    now = timezone.now()
    in_flight_limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    old = now - max(in_flight_limit, publishing.STALE_CLAIM) - timedelta(minutes=1)
    ReplyAnswer.objects.filter(pk=stuck.pk).update(status=AnswerStatus.SENDING, claimed_at=old, attempts=1,
                                                   claim_token="a" * 32, in_flight_since=old, channel=channel)
    ReplyAnswer.objects.filter(pk=fresh.pk).update(status=AnswerStatus.SENDING, attempts=1, claim_token="b" * 32,
                                                   claimed_at=old, in_flight_since=now - in_flight_limit
                                                   + timedelta(minutes=1))
    ReplyAnswer.objects.filter(pk=sent_long_ago.pk).update(status=AnswerStatus.SENT, claimed_at=old, sent_at=old)
    ReplyAnswer.objects.filter(pk=pending_long_ago.pk).update(claimed_at=old)
    ReplyAnswer.objects.filter(pk=claimed_long_ago.pk).update(status=AnswerStatus.SENDING, claimed_at=old,
                                                              claim_token="c" * 32)
    bystanders = [fresh.pk, sent_long_ago.pk, pending_long_ago.pk]
    before = {pk: row(pk) for pk in bystanders}
    assert answer_sending.answers_reap_stuck() == 1
    assert {pk: row(pk) for pk in bystanders} == before
    stuck.refresh_from_db()
    assert stuck.status == AnswerStatus.UNCONFIRMED and "stopped during the platform call" in stuck.last_error
    assert (stuck.claim_token, stuck.in_flight_since) == ("", None)
    assert audits(stuck, "reply.answer_unconfirmed")[0]["attempts"] == 1
    assert Notification.objects.filter(user=world.a.liaison, kind="answer_failed",
                                       text__contains=f"reply {stuck.reply_id} was not sent").count() == 1
    claimed_long_ago.refresh_from_db()
    assert (claimed_long_ago.status, claimed_long_ago.claim_token, claimed_long_ago.claimed_at) == (
        AnswerStatus.PENDING, "", None)
    assert answer_sending.answers_reap_stuck() == 0 and sandbox.posts("telegram") == []
    assert answer_sending.answer_send(answer_id=claimed_long_ago.pk) == "sent"  # it never left: sent once now
    assert len(sandbox.posts("telegram")) == 1


# --- a person's decisions act on the one answer they name ------------------------------------------

def test_resolving_one_unconfirmed_answer_leaves_the_others_unconfirmed(world, sandbox):
    channel = sandbox_channel(world, sandbox, "telegram")
    posted, not_posted, other = (queued(world, channel, n) for n in range(1, 4))
    ReplyAnswer.objects.filter(pk__in=[posted.pk, not_posted.pk, other.pk]).update(
        status=AnswerStatus.UNCONFIRMED, attempts=2, external_id="", last_error="timed out")
    ReplyAnswer.objects.filter(pk=posted.pk).update(external_id="tg-77")
    posted.refresh_from_db()
    not_posted.refresh_from_db()
    before = row(other.pk)
    resolved = answers.answer_resolve_unconfirmed(actor=world.a.liaison, answer=posted, sent=True)
    assert resolved.status == AnswerStatus.SENT and resolved.external_id == "tg-77" and resolved.last_error == ""
    # A person's word: no claim left on it, and no "did this help?" recorded as asked (nothing asked it).
    assert (resolved.claim_token, resolved.feedback_requested) == ("", False)
    assert Reply.objects.get(pk=posted.reply_id).first_response_at == resolved.sent_at
    assert row(other.pk) == before
    old_key = not_posted.idempotency_key
    again = answers.answer_resolve_unconfirmed(actor=world.a.liaison, answer=not_posted, sent=False)
    assert again.status == AnswerStatus.PENDING and again.next_attempt_at is None
    assert again.idempotency_key == f"{old_key}-r2"  # a new send, under a new key
    assert row(other.pk) == before
    assert [s["sent"] for s in audits(posted, "reply.answer_resolved")] == [True]
    assert [s["sent"] for s in audits(not_posted, "reply.answer_resolved")] == [False]
    # Only an unconfirmed answer can be resolved: the sent one cannot be sent "again".
    with pytest.raises(WrongState):
        answers.answer_resolve_unconfirmed(actor=world.a.liaison, answer=resolved, sent=False)
    assert answer_sending.answer_send(answer_id=not_posted.pk) == "sent"
    assert len(sandbox.posts("telegram")) == 1 and row(other.pk) == before


@pytest.mark.parametrize("send", [True, False])
def test_releasing_or_dropping_one_held_answer_leaves_the_others_held(world, sandbox, send):
    channel = sandbox_channel(world, sandbox, "telegram")
    one, other = queued(world, channel, 1), queued(world, channel, 2)
    ReplyAnswer.objects.filter(pk__in=[one.pk, other.pk]).update(
        status=AnswerStatus.HELD, kind=AnswerKind.AUTO, created_by=None, last_error="cap reached",
        next_attempt_at=timezone.now() + timedelta(hours=1))
    before = row(other.pk)
    decided = answers.answer_release_held(actor=world.a.supervisor, answer=one, send=send)
    assert row(other.pk) == before
    if send:
        # The person who released it owns it now: it is no longer automatic, and is due at once.
        assert decided.status == AnswerStatus.PENDING and decided.created_by == world.a.supervisor
        assert decided.next_attempt_at is None and decided.last_error == ""
        assert audits(one, "reply.answer_released") and not audits(one, "reply.answer_dropped")
    else:
        assert decided.status == AnswerStatus.CANCELLED and decided.created_by is None
        assert decided.last_error == "Not sent: a person decided."
        assert audits(one, "reply.answer_dropped") and not audits(one, "reply.answer_released")
    verb = "reply.answer_released" if send else "reply.answer_dropped"
    assert list(AuditEvent.objects.filter(verb=verb).values_list("actor_id", "team_id", "summary")) == [
        (world.a.supervisor.pk, world.a.team.pk, {"answer": one.pk})]
    with pytest.raises(WrongState, match="^This answer is not held.$"):
        answers.answer_release_held(actor=world.a.supervisor, answer=one, send=send)


# --- the pause: one force's pause holds that force's answers only ---------------------------------

def test_a_pause_holds_answers_of_its_own_force_only(forces, sandbox):
    world = forces.world
    channel = sandbox_channel(world, sandbox, "telegram")
    first, second = queued(world, channel, 1), queued(world, channel, 2)
    publishing.publishing_pause(actor=forces.other.supervisor, reason="Incident", team=forces.other.team.pk)
    assert answer_sending.answer_send(answer_id=first.pk) == "sent"
    publishing.publishing_pause(actor=world.a.supervisor, reason="Incident", team=world.a.team.pk)
    started = timezone.now()
    assert answer_sending.answer_send(answer_id=second.pk) == "paused"
    second.refresh_from_db()
    assert second.status == AnswerStatus.PENDING and second.attempts == 0
    assert second.last_error == "Publishing is paused."
    assert started + timedelta(seconds=25) < second.next_attempt_at <= timezone.now() + timedelta(seconds=30)
    assert len(sandbox.posts("telegram")) == 1


# --- only as approved -----------------------------------------------------------------------------

def test_a_free_text_answer_goes_out_with_its_approved_words_never_its_rows_copy(world, sandbox):
    channel = sandbox_channel(world, sandbox, "telegram")
    reply = telegram_reply(world, channel, message_id=60)
    answer = answers.reply_respond(actor=world.a.supervisor, reply=reply, body="The gates open at 6pm.")
    # Forced to pending before approval: it is not sent, and goes back to wait, its attempt not counted.
    other = queued(world, channel, 61)
    ReplyAnswer.objects.filter(pk=other.pk).update(status=AnswerStatus.SENDING, claimed_at=timezone.now())
    before = row(other.pk)
    ReplyAnswer.objects.filter(pk=answer.pk).update(status=AnswerStatus.PENDING)
    assert answer_sending.answer_send(answer_id=answer.pk) == "not-sent"
    answer.refresh_from_db()
    assert answer.status == AnswerStatus.AWAITING_APPROVAL and answer.attempts == 0
    assert row(other.pk) == before  # another worker's answer, mid-call, is not sent back to wait
    workflow.message_approve(actor=world.a.supervisor2, message=Message.objects.get(pk=answer.message_id))
    assert answers.answers_release_approved() == [answer.pk]
    ReplyAnswer.objects.filter(pk=answer.pk).update(body="Tampered: the gates are closed.")
    assert answer_sending.answer_send(answer_id=answer.pk) == "sent"
    assert [p.fields["text"] for p in sandbox.posts("telegram")] == ["The gates open at 6pm."]


def test_the_sweeper_acts_on_each_free_text_answer_by_its_own_messages_state(world, sandbox):
    channel = sandbox_channel(world, sandbox, "telegram")
    made = {}
    for n, name in enumerate(["approved", "in_review", "withdrawn", "published", "published_undated",
                              "edited_after_approval"], start=1):
        reply = telegram_reply(world, channel, message_id=100 + n)
        made[name] = answers.reply_respond(actor=world.a.supervisor, reply=reply, body=f"Answer {name}.")
    message = {name: Message.objects.get(pk=a.message_id) for name, a in made.items()}
    for name in ("approved", "withdrawn", "published", "published_undated", "edited_after_approval"):
        workflow.message_approve(actor=world.a.supervisor2, message=message[name])
    published_at = timezone.now() - timedelta(minutes=7)
    Message.objects.filter(pk=message["withdrawn"].pk).update(status=MessageStatus.WITHDRAWN)
    Message.objects.filter(pk=message["published"].pk).update(status=MessageStatus.PUBLISHED,
                                                                published_at=published_at)
    Message.objects.filter(pk=message["published_undated"].pk).update(status=MessageStatus.PUBLISHED)
    Message.objects.filter(pk=message["edited_after_approval"].pk).update(content_hash="edited")
    untouched = {name: row(made[name].pk) for name in ("in_review", "published_undated", "edited_after_approval")}

    assert answers.answers_release_approved() == [made["approved"].pk]

    assert {name: row(made[name].pk) for name in untouched} == untouched
    approved = ReplyAnswer.objects.get(pk=made["approved"].pk)
    assert approved.status == AnswerStatus.PENDING and approved.body == message["approved"].body
    withdrawn = ReplyAnswer.objects.get(pk=made["withdrawn"].pk)
    assert withdrawn.status == AnswerStatus.CANCELLED and withdrawn.last_error == "The message was withdrawn."
    assert audits(withdrawn, "reply.answer_cancelled") == [{"answer": withdrawn.pk,
                                                            "message": message["withdrawn"].pk}]
    cancelled = AuditEvent.objects.get(verb="reply.answer_cancelled")
    assert (cancelled.target_type, cancelled.team_id) == ("engage.reply", world.a.team.pk)
    # Published through the ordinary pipeline: that was the answer; it is recorded, not sent again.
    published = ReplyAnswer.objects.get(pk=made["published"].pk)
    assert published.status == AnswerStatus.SENT and published.sent_at == published_at
    assert published.external_id == f"message:{message['published'].pk}"
    assert Reply.objects.get(pk=published.reply_id).first_response_at == published_at
    assert answers.answers_release_approved() == []
    assert sandbox.posts("telegram") == []


# --- the hourly cap counts this channel's answers of the last hour ---------------------------------

def test_the_cap_counts_only_this_channels_answers_sent_in_the_last_hour(world, sandbox, settings):
    settings.ENGAGE_ANSWER_HOURLY_CAP = {"": 100, "telegram": 1}
    channel = sandbox_channel(world, sandbox, "telegram")
    now = timezone.now()
    # Answers that must not count: another channel's, one sent over an hour ago, and ones that
    # were never sent (failed, cancelled, held, pending).
    for n, (status, claimed, on) in enumerate([
            (AnswerStatus.SENT, now, world.a.mastodon), (AnswerStatus.SENT, now - timedelta(minutes=61), channel),
            (AnswerStatus.FAILED, now, channel), (AnswerStatus.CANCELLED, now, channel),
            (AnswerStatus.HELD, now, channel), (AnswerStatus.PENDING, now, channel)], start=1):
        filler = queued(world, channel, n)
        ReplyAnswer.objects.filter(pk=filler.pk).update(status=status, claimed_at=claimed, channel=on,
                                                        next_attempt_at=now + timedelta(hours=1))
    in_flight = queued(world, channel, 9)  # another worker's answer, mid-call on another channel
    ReplyAnswer.objects.filter(pk=in_flight.pk).update(status=AnswerStatus.SENDING, channel=world.a.mastodon,
                                                       claimed_at=now - timedelta(minutes=61))
    in_flight_before = row(in_flight.pk)
    automatic = [queued(world, channel, 10 + n) for n in range(2)]
    ReplyAnswer.objects.filter(pk__in=[a.pk for a in automatic]).update(kind=AnswerKind.AUTO, created_by=None)
    assert answer_sending.answer_send(answer_id=automatic[0].pk) == "sent"
    assert answer_sending.answer_send(answer_id=automatic[1].pk) == "held"
    held = ReplyAnswer.objects.get(pk=automatic[1].pk)
    assert held.status == AnswerStatus.HELD and held.attempts == 0 and held.channel_id == channel.pk
    assert held.last_error == "Not sent: telegram sandbox has sent its 1 answers this hour. Send it or drop it."
    assert audits(held, "reply.answer_held") == [{"answer": held.pk, "channel": channel.pk, "cap": 1,
                                                  "sent_last_hour": 1}]
    # The team's supervisors and administrators (not its officers or liaisons) are told, once.
    told = {world.a.supervisor.pk, world.a.supervisor2.pk, world.a.admin.pk}
    assert set(Notification.objects.filter(kind="answer_cap_reached").values_list("user_id", flat=True)) == told
    [alert] = AuditEvent.objects.filter(verb="channel.answer_cap_reached", target_id=str(channel.pk))
    assert alert.summary == {"cap": 1, "reply": held.reply_id, "alerted": 3}
    assert row(in_flight.pk) == in_flight_before  # holding one answer holds that one only
    assert len(sandbox.posts("telegram")) == 1


@pytest.mark.parametrize(("caps", "expected"), [({"": 7}, 7), ({"": 7, "telegram": 3}, 3), ({"sms": 3}, 60)])
def test_the_hourly_cap_is_the_channel_kinds_else_the_default(world, sandbox, settings, caps, expected):
    settings.ENGAGE_ANSWER_HOURLY_CAP = caps
    assert answers.answer_hourly_cap(sandbox_channel(world, sandbox, "telegram")) == expected


# --- where an answer can go, and who is told of a proposal ---------------------------------------

def test_an_answer_that_cannot_go_anywhere_is_refused_with_the_reason(world, sandbox):
    from django.db.models import F

    from engage.inbound.ingest import reply_store

    channel = sandbox_channel(world, sandbox, "telegram")
    redacted = telegram_reply(world, channel, message_id=1)
    Reply.objects.filter(pk=redacted.pk).update(redacted_at=timezone.now())
    anonymous = Reply.objects.get(pk=reply_store(team_id=world.a.team.pk, channel=None, source="web",
                                                 provider_id="web-anon", text="Thanks").reply_id)
    on_facebook = telegram_reply(world, channel, message_id=2)
    facebook = sandbox_channel(world, sandbox, "facebook")
    Reply.objects.filter(pk=on_facebook.pk).update(channel=facebook, source=F("source"))
    expected = {
        redacted.pk: ("redacted", "This reply has been redacted; there is no one to answer."),
        anonymous.pk: ("no_reply_channel", "This person left no email address or phone number (or the team has "
                                           "no email or SMS channel), so there is no way to answer them."),
        on_facebook.pk: ("no_reply_channel", "Answers cannot be sent on this channel."),
    }
    for pk, (code, text) in expected.items():
        with pytest.raises(WrongState) as refused:
            answers.reply_respond(actor=world.a.liaison, reply=Reply.objects.get(pk=pk), template=thanks_template(world))
        assert (refused.value.code, str(refused.value)) == (code, text)
    assert not ReplyAnswer.objects.exists() and sandbox.posts("telegram") == []


def test_a_liaisons_answer_is_told_to_the_teams_active_supervisors_and_nobody_else(world, sandbox):
    from accounts.models import Role
    from tests.factories import make_other_force, member

    channel = sandbox_channel(world, sandbox, "telegram")
    force_supervisor = member(world.force, Role.SUPERVISOR)
    gone = member(world.a.team, Role.SUPERVISOR)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    _, other = make_other_force("C")
    reply = telegram_reply(world, channel, message_id=3)
    answer = answers.reply_respond(actor=world.a.liaison, reply=reply, body="Yes, gate C is step-free.")
    assert answer.status == AnswerStatus.AWAITING_APPROVAL
    told = Notification.objects.filter(kind="message_awaits_review")
    assert set(told.values_list("user_id", flat=True)) == {world.a.supervisor.pk, world.a.supervisor2.pk,
                                                          force_supervisor.pk}
    assert {n.url for n in told} == {f"/desk/messages/{answer.message_id}/"}
    assert not Notification.objects.filter(user__in=[world.b.supervisor, other.supervisor, world.a.liaison]).exists()


def test_an_approval_voided_after_release_stops_the_answer(world, sandbox):
    from campaigns.services.messages import message_update

    channel = sandbox_channel(world, sandbox, "telegram")
    reply = telegram_reply(world, channel, message_id=4)
    answer = answers.reply_respond(actor=world.a.supervisor, reply=reply, body="Gates open at 6pm.")
    message = workflow.message_approve(actor=world.a.supervisor2, message=Message.objects.get(pk=answer.message_id))
    assert answers.answers_release_approved() == [answer.pk]
    message_update(actor=world.a.supervisor, message=message, body="Gates open at 5pm.")
    assert answer_sending.answer_send(answer_id=answer.pk) == "not-sent"
    answer.refresh_from_db()
    assert answer.status == AnswerStatus.AWAITING_APPROVAL and sandbox.posts("telegram") == []


def test_a_template_answer_whose_words_are_no_longer_approved_fails_and_says_so(world, sandbox):
    """A template answer's row copy no longer matches any approved version of its template: it never
    leaves; it fails with the reason and the person who queued it is told. The answer beside it, with
    the approved words, still goes out."""
    channel = sandbox_channel(world, sandbox, "telegram")
    changed, other = queued(world, channel, 1), queued(world, channel, 2)
    ReplyAnswer.objects.filter(pk=changed.pk).update(body=changed.body + " Call 999 now.")
    assert answer_sending.answer_send(answer_id=changed.pk) == "not-sent"
    changed.refresh_from_db()
    reason = "The template's words are no longer the approved ones."
    assert (changed.status, changed.last_error, changed.claim_token) == (AnswerStatus.FAILED, reason, "")
    assert [s["error"] for s in audits(changed, "reply.answer_failed")] == [reason]
    [told] = Notification.objects.filter(user=world.a.liaison, kind="answer_failed")
    assert told.text.endswith(reason)
    assert sandbox.posts("telegram") == []
    assert answer_sending.answer_send(answer_id=other.pk) == "sent"
    assert len(sandbox.posts("telegram")) == 1


def test_an_answer_that_asks_did_this_help_records_that_it_asked(world, sandbox):
    from accounts.services import team_update_settings

    channel = sandbox_channel(world, sandbox, "telegram")
    team_update_settings(team=world.a.team, actor=world.a.admin, changes={"answer_feedback": True})
    asked = answers.reply_respond(actor=world.a.liaison, reply=telegram_reply(world, channel, message_id=5),
                                  template=thanks_template(world))
    assert asked.status == AnswerStatus.SENT and asked.feedback_requested
    team_update_settings(team=world.a.team, actor=world.a.admin, changes={"answer_feedback": False})
    plain = answers.reply_respond(actor=world.a.liaison, reply=telegram_reply(world, channel, message_id=6),
                                  template=thanks_template(world))
    assert plain.status == AnswerStatus.SENT and not plain.feedback_requested


def test_an_answer_whose_channel_closed_after_it_was_queued_fails_and_says_so(world, sandbox):
    from campaigns.models import Channel

    channel = sandbox_channel(world, sandbox, "telegram")
    closed = queued(world, channel, 7)
    Channel.objects.filter(pk=channel.pk).update(is_active=False)
    assert answer_sending.answer_send(answer_id=closed.pk) == "failed"
    closed.refresh_from_db()
    assert (closed.status, closed.last_error) == (AnswerStatus.FAILED, "This reply cannot be answered on its channel.")
    # Audited on its reply, in its team, with the reason; the person who queued it is told why.
    [event] = AuditEvent.objects.filter(verb="reply.answer_failed")
    assert (event.target_type, event.target_id, event.team_id, event.actor_id) == (
        "engage.reply", str(closed.reply_id), world.a.team.pk, None)
    assert event.summary == {"answer": closed.pk, "error": "This reply cannot be answered on its channel.",
                             "attempts": 0}
    [told] = Notification.objects.filter(user=world.a.liaison, kind="answer_failed")
    assert told.text.endswith("was not sent: This reply cannot be answered on its channel.")
    assert sandbox.posts("telegram") == []


def test_a_lost_answer_on_a_platform_that_deduplicates_is_asked_again_later(world, sandbox):
    _citizen, reply = mastodon_citizen_reply(world, sandbox)
    answer = answers.answer_from_template(actor=world.a.liaison, reply=reply, template=thanks_template(world))
    sandbox.set_behaviour("mastodon", drop=1)
    started = timezone.now()
    assert answer_sending.answer_send(answer_id=answer.pk) == "pending"
    answer.refresh_from_db()
    assert answer.status == AnswerStatus.PENDING and answer.last_error
    assert started + timedelta(seconds=publishing.RETRY_BASE_SECONDS - 1) <= answer.next_attempt_at
    assert answer.next_attempt_at <= timezone.now() + timedelta(seconds=publishing.RETRY_BASE_SECONDS)


def test_an_answer_resolved_by_someone_else_meanwhile_is_not_resolved_again(world, sandbox):
    channel = sandbox_channel(world, sandbox, "telegram")
    answer = queued(world, channel, 12)
    ReplyAnswer.objects.filter(pk=answer.pk).update(status=AnswerStatus.UNCONFIRMED, attempts=1)
    stale = ReplyAnswer.objects.get(pk=answer.pk)  # the page both people opened
    answers.answer_resolve_unconfirmed(actor=world.a.supervisor, answer=ReplyAnswer.objects.get(pk=answer.pk),
                                       sent=False)
    before = row(answer.pk)
    with pytest.raises(WrongState, match="Only an unconfirmed answer can be resolved."):
        answers.answer_resolve_unconfirmed(actor=world.a.liaison, answer=stale, sent=False)
    assert row(answer.pk) == before
    assert len(audits(answer, "reply.answer_resolved")) == 1


def test_an_answer_is_a_template_or_a_text_never_both_nor_neither(world, sandbox):
    from core.errors import InvalidInput

    reply = telegram_reply(world, sandbox_channel(world, sandbox, "telegram"), message_id=13)
    for template, body in ((None, ""), (thanks_template(world), "And some words")):
        with pytest.raises(InvalidInput) as refused:
            answers.reply_respond(actor=world.a.liaison, reply=reply, template=template, body=body)
        assert refused.value.fields == {"template": ["Give one of these."], "body": ["Give one of these."]}
    assert not ReplyAnswer.objects.exists()


def test_a_partner_webhooks_answer_names_its_reply_and_answer(world, sandbox):
    """A partner receiving an answer on its webhook is told which of its messages it answers and which
    answer it is (to match it, and to tell a retry under the same key from a new answer)."""
    from engage.inbound.ingest import reply_store
    from engage.inbound.processing import reply_process

    channel = sandbox_channel(world, sandbox, "webhook")
    replies = []
    for n in (1, 2):
        stored = reply_store(team_id=world.a.team.pk, channel=channel, source="webhook", provider_id=f"partner-{n}",
                             text="When does the road reopen?", author_handle=f"partner-user-{n}",
                             author_name="", received_at=timezone.now() - timedelta(minutes=3))
        reply_process(reply_id=stored.reply_id)
        replies.append(Reply.objects.get(pk=stored.reply_id))
    answer = answers.answer_from_template(actor=world.a.liaison, reply=replies[1], template=thanks_template(world))
    assert answer_sending.answer_send(answer_id=answer.pk) == "sent"
    [post] = sandbox.posts("webhook")
    assert post.fields["metadata"] == {"reply_id": str(replies[1].pk), "answer_id": str(answer.pk), "kind": "template"}
    assert post.fields["in_reply_to"] == "partner-2"
