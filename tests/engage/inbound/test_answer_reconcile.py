"""Answers to citizens get the send engine's reconciliation: an unconfirmed answer on a partner
webhook that offers the status look-up is asked about (real HTTP to the sandbox's partner) and sent,
sent again through the ordinary send path (pause and approval re-checked), or left for a person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from campaigns import publishing
from campaigns.publishing import outbound
from engage.inbound import answer_sending, answers
from engage.inbound.answer_reconcile import answers_reconcile
from engage.inbound.ingest import reply_store
from engage.inbound.processing import reply_process
from engage.inbound.sweeper import replies_sweep
from engage.models import AnswerStatus, Reply, ReplyAnswer, ReplyStatus
from tests.engage.inbound.test_answers import sandbox_channel, telegram_reply, thanks_template

pytestmark = pytest.mark.django_db

LATER = timedelta(minutes=10)


@pytest.fixture(autouse=True)
def _reset(sandbox, monkeypatch):
    sandbox.reset()
    monkeypatch.setattr(outbound, "RETRY_BASE_SECONDS", 0)  # an answer sent again is due at once


def queued(world, channel, n: int) -> ReplyAnswer:
    """A template answer to a partner's citizen message, pending."""
    stored = reply_store(team_id=world.a.team.pk, channel=channel, source="webhook", provider_id=f"partner-msg-{n}",
                         text="When does the road reopen?", author_handle="", author_name="",
                         received_at=timezone.now() - timedelta(minutes=3))
    reply_process(reply_id=stored.reply_id)
    reply = Reply.objects.get(pk=stored.reply_id)
    return answers.answer_from_template(actor=world.a.liaison, reply=reply, template=thanks_template(world))


def stuck_in_flight(answer: ReplyAnswer, channel) -> None:
    """The worker died after marking it in flight, before its request left; the reaper makes it
    unconfirmed. The partner never received it."""
    old = timezone.now() - LATER
    ReplyAnswer.objects.filter(pk=answer.pk).update(status=AnswerStatus.SENDING, claimed_at=old, attempts=1,
                                                    claim_token="a" * 32, in_flight_since=old, channel=channel)
    assert answer_sending.answers_reap_stuck() == 1


def received(sandbox, key: str) -> int:
    return sum(1 for r in sandbox.requests("webhook")
               if r.op == "delivery" and r.headers.get("idempotency-key") == key and r.outcome != "failed")


def lookups(sandbox) -> list:
    return [r for r in sandbox.requests("webhook") if r.op == "status_lookup"]


def looked_up(answer) -> list[dict]:
    return [e.summary for e in AuditEvent.objects.filter(verb="reply.answer_looked_up",
                                                         target_id=str(answer.reply_id)).order_by("id")]


def row(pk: int) -> tuple:
    a = ReplyAnswer.objects.get(pk=pk)
    return (a.status, a.attempts, a.external_id, a.sent_at, a.last_error, a.lookup_asks, a.lookup_token,
            a.lookup_next_at, a.lookup_answer, a.idempotency_key)


def test_a_found_answer_is_sent_and_its_reply_answered_the_one_beside_it_untouched(world, sandbox):
    asked = sandbox_channel(world, sandbox, "webhook", name="asked", status_lookup=True)
    plain = sandbox_channel(world, sandbox, "webhook", name="plain")
    one, other = queued(world, asked, 1), queued(world, plain, 2)
    sandbox.set_behaviour("webhook", drop=2)
    assert answer_sending.answer_send(answer_id=one.pk) == "unconfirmed"
    assert answer_sending.answer_send(answer_id=other.pk) == "unconfirmed"
    before = row(other.pk)
    assert answers_reconcile() == {}  # not before the grace period: the partner may still be at it
    assert answers_reconcile(now=timezone.now() + LATER) == {"sent": 1}
    one.refresh_from_db()
    post = next(p for p in sandbox.posts("webhook") if p.headers["idempotency-key"] == one.idempotency_key)
    assert one.status == AnswerStatus.SENT and one.external_id == post.id and one.lookup_token == ""
    reply = Reply.objects.get(pk=one.reply_id)
    assert reply.status == ReplyStatus.ANSWERED and reply.first_response_at == one.sent_at
    assert row(other.pk) == before
    [summary] = looked_up(one)
    assert summary == {"answer": one.pk, "channel": "webhook", "platform_answer": "found",
                       "detail": one.lookup_answer, "http_status": 200, "external_id": post.id, "decision": "sent",
                       "status": "sent", "ask": 1}
    assert received(sandbox, one.idempotency_key) == 1
    assert answers_reconcile(now=timezone.now() + 2 * LATER) == {}
    assert answer_sending.answer_send(answer_id=one.pk) == "not-sent"


def test_the_sweeper_sends_an_absent_answer_again_once(world, sandbox):
    asked = sandbox_channel(world, sandbox, "webhook", name="asked", status_lookup=True)
    answer = queued(world, asked, 1)
    stuck_in_flight(answer, asked)
    assert replies_sweep(older_than_seconds=0)["looked_up"] == 1
    answer.refresh_from_db()
    assert answer.status == AnswerStatus.PENDING and received(sandbox, answer.idempotency_key) == 0
    [summary] = looked_up(answer)
    assert (summary["platform_answer"], summary["http_status"], summary["decision"]) == ("absent", 404, "send again")
    replies_sweep(older_than_seconds=0)
    answer.refresh_from_db()
    assert answer.status == AnswerStatus.SENT and answer.attempts == 2
    assert received(sandbox, answer.idempotency_key) == 1
    replies_sweep(older_than_seconds=0)
    assert received(sandbox, answer.idempotency_key) == 1 and len(lookups(sandbox)) == 1


def test_an_answer_the_partner_cannot_tell_about_waits_for_a_person(world, sandbox):
    asked = sandbox_channel(world, sandbox, "webhook", name="asked", status_lookup=True)
    answer = queued(world, asked, 1)
    stuck_in_flight(answer, asked)
    sandbox.set_behaviour("webhook", fail=10, applies_to="all")
    now = timezone.now()
    assert answers_reconcile(now=now) == {"unconfirmed": 1}
    assert answers_reconcile(now=now + timedelta(seconds=30)) == {}  # asked again only after a backoff
    answer.refresh_from_db()
    assert answer.status == AnswerStatus.UNCONFIRMED and "500" in answer.lookup_answer
    assert [s["decision"] for s in looked_up(answer)] == ["left for a person"]
    resolved = answers.answer_resolve_unconfirmed(actor=world.a.liaison, answer=answer, sent=True)
    assert resolved.status == AnswerStatus.SENT
    assert answers_reconcile(now=now + LATER) == {} and len(lookups(sandbox)) == 1


def test_a_paused_forces_absent_answer_is_not_sent_while_paused(world, sandbox):
    asked = sandbox_channel(world, sandbox, "webhook", name="asked", status_lookup=True)
    answer = queued(world, asked, 1)
    stuck_in_flight(answer, asked)
    publishing.publishing_pause(actor=world.a.supervisor, reason="Critical incident", team=world.a.team.pk)
    assert answers_reconcile() == {"pending": 1}
    assert answer_sending.answer_send(answer_id=answer.pk) == "paused"
    assert received(sandbox, answer.idempotency_key) == 0


def test_an_absent_answer_whose_words_are_no_longer_approved_is_not_sent(world, sandbox):
    asked = sandbox_channel(world, sandbox, "webhook", name="asked", status_lookup=True)
    answer = queued(world, asked, 1)
    stuck_in_flight(answer, asked)
    ReplyAnswer.objects.filter(pk=answer.pk).update(body="Words nobody approved.")
    assert answers_reconcile() == {"pending": 1}
    assert answer_sending.answer_send(answer_id=answer.pk) == "not-sent"
    answer.refresh_from_db()
    assert answer.status == AnswerStatus.FAILED and received(sandbox, answer.idempotency_key) == 0


def test_a_telegram_answer_is_not_asked(world, sandbox):
    telegram = sandbox_channel(world, sandbox, "telegram")
    answer = answers.answer_from_template(actor=world.a.liaison, reply=telegram_reply(world, telegram),
                                          template=thanks_template(world))
    stuck_in_flight(answer, telegram)
    before = row(answer.pk)
    assert answers_reconcile(now=timezone.now() + LATER) == {}
    assert row(answer.pk) == before


def test_a_person_resolving_meanwhile_wins_and_the_reconciler_does_nothing(world, sandbox):
    from campaigns.publishing.reconcile import lookup_claim
    from engage.inbound.answer_reconcile import _lookup, _record

    asked = sandbox_channel(world, sandbox, "webhook", name="asked", status_lookup=True)
    answer = queued(world, asked, 1)
    stuck_in_flight(answer, asked)
    now = timezone.now()
    answer = ReplyAnswer.objects.select_related("reply__channel", "reply__team", "channel").get(pk=answer.pk)
    token = lookup_claim(ReplyAnswer.objects.filter(pk=answer.pk), asks=0, now=now)
    result = _lookup(answer, now)
    assert result.state == "absent"
    # The person checked the partner's portal and records that it went out, before the answer lands.
    answers.answer_resolve_unconfirmed(actor=world.a.liaison, answer=answer, sent=True)
    before = row(answer.pk)
    assert _record(answer, token, result, now) == ""
    assert row(answer.pk) == before and looked_up(answer) == []
    assert answer_sending.answer_send(answer_id=answer.pk) == "not-sent"
    assert received(sandbox, answer.idempotency_key) == 0


def test_the_inbox_says_who_is_asked_and_keeps_the_persons_buttons(world, sandbox, client):
    from django.urls import reverse

    asked = sandbox_channel(world, sandbox, "webhook", name="asked", status_lookup=True)
    telegram = sandbox_channel(world, sandbox, "telegram")
    by_hook = queued(world, asked, 1)
    by_telegram = answers.answer_from_template(actor=world.a.liaison, reply=telegram_reply(world, telegram),
                                               template=thanks_template(world))
    stuck_in_flight(by_hook, asked)
    stuck_in_flight(by_telegram, telegram)
    sandbox.set_behaviour("webhook", fail=1, applies_to="all")
    assert answers_reconcile() == {"unconfirmed": 1}
    client.force_login(world.a.liaison)
    hook = client.get(reverse("inbox:detail", kwargs={"pk": by_hook.reply_id})).content.decode()
    assert "The platform is asked automatically whether this answer went out" in hook
    assert "The partner answered HTTP 500 to the status look-up." in hook and "It was sent" in hook
    tg = client.get(reverse("inbox:detail", kwargs={"pk": by_telegram.reply_id})).content.decode()
    assert "Telegram cannot be asked whether this answer went out: check the channel" in tg
    assert "It was sent" in tg and "It was not sent: send again" in tg


def test_an_answer_back_after_a_newer_ask_claimed_the_answer_is_not_recorded(world, sandbox):
    """A slow ask overtaken by a newer one (after the backoff) settles nothing: only the ask holding
    the answer's current token writes, for found as for absent."""
    from campaigns.publishing.reconcile import lookup_backoff, lookup_claim
    from engage.inbound.answer_reconcile import _lookup, _record

    asked = sandbox_channel(world, sandbox, "webhook", name="asked", status_lookup=True)
    answer = queued(world, asked, 1)
    stuck_in_flight(answer, asked)
    answer = ReplyAnswer.objects.select_related("reply", "channel").get(pk=answer.pk)
    rows = ReplyAnswer.objects.filter(pk=answer.pk)
    now = timezone.now() + LATER
    slow = lookup_claim(rows, asks=0, now=now)
    slow_answer = _lookup(answer, now)  # the partner answers 404, slowly
    later = now + lookup_backoff(1) + timedelta(seconds=1)
    newer = lookup_claim(rows, asks=1, now=later)
    assert slow and newer and slow != newer
    assert _record(answer, slow, slow_answer, later) == ""
    assert ReplyAnswer.objects.get(pk=answer.pk).status == AnswerStatus.UNCONFIRMED and looked_up(answer) == []
    answer.lookup_asks = 2
    assert _record(answer, newer, _lookup(answer, later), later) == AnswerStatus.PENDING
    assert [e["ask"] for e in looked_up(answer)] == [2]


def test_a_found_answer_back_after_a_newer_ask_claimed_the_answer_is_not_recorded(world, sandbox):
    """The same for "found": a slow ask's answer never marks the answer sent under a newer ask's claim."""
    from campaigns.publishing.reconcile import lookup_backoff, lookup_claim
    from engage.inbound.answer_reconcile import _record
    from platforms.base import LookupResult

    asked = sandbox_channel(world, sandbox, "webhook", name="asked", status_lookup=True)
    answer = queued(world, asked, 1)
    stuck_in_flight(answer, asked)
    answer = ReplyAnswer.objects.select_related("reply", "channel").get(pk=answer.pk)
    rows = ReplyAnswer.objects.filter(pk=answer.pk)
    now = timezone.now() + LATER
    slow = lookup_claim(rows, asks=0, now=now)
    later = now + lookup_backoff(1) + timedelta(seconds=1)
    assert slow and lookup_claim(rows, asks=1, now=later)
    found = LookupResult("found", "The partner has it.", external_id="partner-1", http_status=200)
    assert _record(answer, slow, found, later) == ""
    assert ReplyAnswer.objects.get(pk=answer.pk).status == AnswerStatus.UNCONFIRMED and looked_up(answer) == []


def test_an_absent_answer_with_its_attempts_used_up_fails_and_tells_its_author_why(world, sandbox):
    from accounts.models import Notification

    asked = sandbox_channel(world, sandbox, "webhook", name="asked", status_lookup=True)
    answer = queued(world, asked, 1)
    stuck_in_flight(answer, asked)
    ReplyAnswer.objects.filter(pk=answer.pk).update(attempts=outbound.MAX_ATTEMPTS)
    assert answers_reconcile(now=timezone.now() + LATER) == {"failed": 1}
    answer.refresh_from_db()
    assert answer.status == AnswerStatus.FAILED
    assert answer.last_error == "The platform did not receive it and its attempts are used up."
    # The reaper told them it was unconfirmed; the reconciler now tells them it failed, and why.
    notes = list(Notification.objects.filter(user=world.a.liaison, kind="answer_failed").values_list("text", flat=True))
    assert notes.count(f"The answer to reply {answer.reply_id} was not sent: "
                       "The platform did not receive it and its attempts are used up.") == 1
    assert received(sandbox, answer.idempotency_key) == 0


def test_an_answer_whose_reply_can_no_longer_be_answered_is_left_for_a_person_unasked(world, sandbox):
    asked = sandbox_channel(world, sandbox, "webhook", name="asked", status_lookup=True)
    answer = queued(world, asked, 1)
    stuck_in_flight(answer, asked)
    Reply.objects.filter(pk=answer.reply_id).update(redacted_at=timezone.now())  # erased meanwhile
    assert answers_reconcile(now=timezone.now() + LATER) == {"unconfirmed": 1}
    answer.refresh_from_db()
    assert answer.status == AnswerStatus.UNCONFIRMED
    assert answer.lookup_answer == "This reply can no longer be answered on its channel: nothing to ask."
    assert lookups(sandbox) == []


def test_an_answer_whose_look_up_cannot_be_prepared_is_left_for_a_person(world, sandbox):
    asked = sandbox_channel(world, sandbox, "webhook", name="asked", status_lookup=True)
    answer = queued(world, asked, 1)
    stuck_in_flight(answer, asked)
    asked.config = {"status_lookup": True}  # its address and secret lost: no adapter can be built
    asked.save(update_fields=["config"])
    assert answers_reconcile(now=timezone.now() + LATER) == {"unconfirmed": 1}
    answer.refresh_from_db()
    assert answer.status == AnswerStatus.UNCONFIRMED
    assert answer.lookup_answer.startswith("Could not prepare the look-up: ")
    assert answer.lookup_answer.endswith("Error.") and "NoneType" not in answer.lookup_answer
    assert [s["platform_answer"] for s in looked_up(answer)] == ["unknown"]
    assert lookups(sandbox) == []
