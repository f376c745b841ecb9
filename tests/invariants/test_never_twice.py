"""Never twice: each conditional update of the delivery life cycle touches exactly its own row.

Every filter in the life cycle (the claim, the in-flight marker, ``_finish``, the unclaim, the
reaper, retry, reconciling an unconfirmed delivery) is tested with a second row beside the
one acted on, in the state that a widened filter would wrongly catch: another delivery of the
same claim batch (they share one token), a sent row with an old claim, another unconfirmed or
failed row. That row must stay exactly as it was, and nothing is posted twice.

The claim's ``skip_locked`` is tested on PostgreSQL with a second claimer holding row locks.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import AuditEvent
from campaigns import publishing
from campaigns.models import Delivery, DeliveryAttempt, DeliveryStatus, Message, MessageStatus
from campaigns.publishing import (
    STALE_CLAIM,
    deliveries_claim_due,
    deliveries_reap_stale,
    delivery_begin,
    delivery_finish,
    delivery_resolve_unconfirmed,
    delivery_retry,
    delivery_unclaim,
)
from tests.factories import TeamWorld, make_approved, make_world

pytestmark = pytest.mark.django_db


def scheduled(tw: TeamWorld, channels=None) -> Message:
    message = make_approved(tw, channels=channels or [tw.public, tw.mastodon])
    return publishing.message_schedule(actor=tw.officer, message=message, scheduled_at=None)


def row(pk: int) -> tuple:
    d = Delivery.objects.get(pk=pk)
    return (d.status, d.claim_token, d.claimed_at, d.in_flight_since, d.attempts, d.external_id, d.last_error,
            d.next_attempt_at, d.due_at, DeliveryAttempt.objects.filter(delivery=d).count())


def claim_batch() -> tuple[str, list[int]]:
    claimed = deliveries_claim_due()
    tokens = {t for _, t, _ in claimed}
    assert len(tokens) == 1, "one claim, one token"
    return tokens.pop(), [d for d, _, _ in claimed]


def settle(delivery_id: int, token: str, outcome: str, **kwargs) -> None:
    permit = delivery_begin(delivery_id=delivery_id, token=token)
    assert permit is not None
    assert delivery_finish(permit=permit, token=token, outcome=outcome, **kwargs) == 1


# --- one claim batch, one token ---------------------------------------------------------------

@pytest.mark.parametrize("outcome", ["sent", "transient", "unconfirmed", "failed"])
def test_one_deliverys_outcome_is_written_on_that_delivery_only(world, outcome):
    """The batch's deliveries share one claim token: ``_finish`` must also match the row's id."""
    first_message, second_message = scheduled(world.a), scheduled(world.b)
    token, ids = claim_batch()
    assert len(ids) == 4 and {d.message_id for d in Delivery.objects.filter(pk__in=ids)} == {
        first_message.pk, second_message.pk}
    permits = {d: delivery_begin(delivery_id=d, token=token) for d in ids}
    assert all(permits.values())
    one, *others = ids
    before = {d: row(d) for d in others}
    assert delivery_finish(permit=permits[one], token=token, outcome=outcome, external_id="ext-1",
                           error="boom") == 1
    assert {d: row(d) for d in others} == before, f"a {outcome} outcome was written onto the batch's other rows"
    assert all(r[0] == DeliveryStatus.SENDING and r[3] is not None for r in before.values())
    # And each of the others still finishes, once, with its own outcome.
    for d in others:
        assert delivery_finish(permit=permits[d], token=token, outcome="sent", external_id=f"ext-{d}") == 1
        assert Delivery.objects.get(pk=d).external_id == f"ext-{d}"
        # A sent outcome given no error records none, on the row, its attempt or its audit.
        assert (Delivery.objects.get(pk=d).last_error, DeliveryAttempt.objects.get(delivery_id=d).error) == ("", "")
        assert AuditEvent.objects.get(verb="delivery.sent", target_id=str(d)).summary == {
            "channel": Delivery.objects.get(pk=d).channel.kind, "http_status": None, "error": "",
            "external_id": f"ext-{d}"}
    assert Delivery.objects.get(pk=one).external_id == ("ext-1" if outcome in ("sent", "unconfirmed") else "")
    assert DeliveryAttempt.objects.filter(delivery_id__in=ids).count() == 4


def test_a_claim_moves_only_its_own_messages_to_publishing(world):
    """The claim marks the messages of the rows it claimed as publishing, and no other: a message
    scheduled for later, in the same team or another, stays scheduled with its rows waiting."""
    due = scheduled(world.a)
    later_here = publishing.message_schedule(actor=world.a.officer, message=make_approved(world.a),
                                             scheduled_at=timezone.now() + timedelta(hours=2))
    later_there = publishing.message_schedule(actor=world.b.officer, message=make_approved(world.b),
                                              scheduled_at=timezone.now() + timedelta(hours=2))
    waiting = {d.pk: row(d.pk) for d in Delivery.objects.exclude(message=due)}
    _, ids = claim_batch()
    assert {Delivery.objects.get(pk=d).message_id for d in ids} == {due.pk}
    assert Message.objects.get(pk=due.pk).status == MessageStatus.PUBLISHING
    assert {m.pk: m.status for m in Message.objects.filter(pk__in=[later_here.pk, later_there.pk])} == {
        later_here.pk: MessageStatus.SCHEDULED, later_there.pk: MessageStatus.SCHEDULED}
    assert {pk: row(pk) for pk in waiting} == waiting


def test_marking_one_delivery_in_flight_leaves_the_rest_of_the_batch_claimed(world):
    scheduled(world.a)
    token, (one, other) = claim_batch()
    before = row(other)
    assert delivery_begin(delivery_id=one, token=token) is not None
    assert Delivery.objects.get(pk=one).in_flight_since is not None
    assert row(other) == before
    # A second begin of the same row, with the same token, is refused: it is in flight already.
    assert delivery_begin(delivery_id=one, token=token) is None


def test_unclaiming_one_delivery_leaves_the_rest_of_the_batch_claimed(world):
    scheduled(world.a)
    token, (one, other) = claim_batch()
    before = row(other)
    assert delivery_unclaim(delivery_id=one, token=token) is True
    released = Delivery.objects.get(pk=one)
    # Released means unclaimed: no token a late task of the old claim could still match, no claim time.
    assert (released.status, released.claim_token, released.claimed_at) == (DeliveryStatus.PENDING, "", None)
    assert row(other) == before
    # The old claim's task finds nothing to send.
    assert delivery_begin(delivery_id=one, token=token) is None


def test_a_finish_with_another_claims_token_writes_nothing(world):
    scheduled(world.a)
    token, (one, _) = claim_batch()
    permit = delivery_begin(delivery_id=one, token=token)
    before = row(one)
    assert delivery_finish(permit=permit, token="another-claim", outcome="sent") == 0
    assert row(one) == before


# --- the reaper -------------------------------------------------------------------------------

def test_the_reaper_releases_a_stale_claim_and_never_a_sent_row_with_an_old_claim(world, settings):
    now = timezone.now()
    old = now - STALE_CLAIM - timedelta(minutes=1)
    # Sent, failed, unconfirmed, skipped and withdrawn rows, all with an old claim time.
    done = scheduled(world.a, channels=[world.a.public, world.a.mastodon, world.a.sms])
    token, ids = claim_batch()
    outcomes = dict(zip(ids, ["sent", "failed", "unconfirmed"], strict=True))
    for d, outcome in outcomes.items():
        settle(d, token, outcome, external_id=f"ext-{d}")
    skipped = scheduled(world.b)
    Delivery.objects.filter(message=skipped).update(status=DeliveryStatus.SKIPPED)
    Delivery.objects.update(claimed_at=old)
    finished = {d.pk: row(d.pk) for d in Delivery.objects.all()}
    # Beside them: a stuck claim (the worker died before starting), and a fresh claim.
    stuck_message = scheduled(world.b)
    stuck_token, stuck_ids = claim_batch()
    Delivery.objects.filter(pk__in=stuck_ids).update(claimed_at=old)
    fresh_message = scheduled(world.a, channels=[world.a.public])
    _, [fresh] = claim_batch()
    fresh_before = row(fresh)

    # A row claimed long ago but in flight now (it waited in the queue): its worker is mid-call.
    waited = scheduled(world.b, channels=[world.b.public])
    waited_token, [waiting] = claim_batch()
    assert delivery_begin(delivery_id=waiting, token=waited_token) is not None
    Delivery.objects.filter(pk=waiting).update(claimed_at=old)
    waiting_before = row(waiting)

    result = deliveries_reap_stale(now=timezone.now())

    assert row(waiting) == waiting_before, "the reaper released a row whose platform call is under way"
    assert Message.objects.get(pk=waited.pk).status == MessageStatus.PUBLISHING
    assert result["released"] == len(stuck_ids) == 2
    assert {row(d)[:2] for d in stuck_ids} == {(DeliveryStatus.PENDING, "")}
    assert row(fresh) == fresh_before
    assert {pk: row(pk) for pk in finished} == finished, "the reaper put a finished row back in the queue"
    # Only the released rows go out again; the sent row is never posted a second time.
    token, again = claim_batch()
    assert sorted(again) == sorted(stuck_ids)
    assert Message.objects.get(pk=done.pk).status == MessageStatus.PARTIALLY_PUBLISHED
    assert stuck_message.pk != fresh_message.pk


def test_the_reaper_settles_a_stale_in_flight_row_and_only_that_one(world, settings):
    now = timezone.now()
    scheduled(world.a, channels=[world.a.mastodon, world.a.sms])
    token, (stale, live) = claim_batch()
    for d in (stale, live):
        assert delivery_begin(delivery_id=d, token=token) is not None
    limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    Delivery.objects.filter(pk=stale).update(in_flight_since=now - limit - timedelta(minutes=1))
    live_before = row(live)
    result = deliveries_reap_stale(now=timezone.now())
    assert result["unconfirmed"] + result["retried"] == 1
    assert Delivery.objects.get(pk=stale).status in (DeliveryStatus.UNCONFIRMED, DeliveryStatus.PENDING)
    assert row(live) == live_before


def test_the_reaper_counts_every_row_it_settles(world, settings):
    """Four rows stuck in flight: two on platforms that deduplicate on our key (public, Mastodon) go
    back to pending under the same key, two SMS (which do not) become unconfirmed; the report counts
    each of them, so that the log and the alert say how many posts a person must check."""
    scheduled(world.a, channels=[world.a.public, world.a.mastodon, world.a.sms])
    scheduled(world.b, channels=[world.b.sms])
    token, ids = claim_batch()
    for d in ids:
        assert delivery_begin(delivery_id=d, token=token) is not None
    limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    Delivery.objects.update(in_flight_since=timezone.now() - limit - timedelta(minutes=1))
    result = deliveries_reap_stale(now=timezone.now())
    assert (result["unconfirmed"], result["retried"], result["released"]) == (2, 2, 0)
    status = {(d.channel.kind, d.message.team_id): d.status for d in Delivery.objects.select_related("channel", "message")}
    assert status == {("public", world.a.team.pk): DeliveryStatus.PENDING,
                      ("mastodon", world.a.team.pk): DeliveryStatus.PENDING,
                      ("sms", world.a.team.pk): DeliveryStatus.UNCONFIRMED,
                      ("sms", world.b.team.pk): DeliveryStatus.UNCONFIRMED}


# --- a person's decisions ---------------------------------------------------------------------

def _two_with(world, outcome: str) -> tuple[int, int]:
    """Two deliveries in ``outcome``: of one message of team A and of one of team B."""
    scheduled(world.a, channels=[world.a.mastodon])
    scheduled(world.b, channels=[world.b.mastodon])
    token, ids = claim_batch()
    for d in ids:
        settle(d, token, outcome, error="no answer")
    first, second = sorted(ids, key=lambda d: Delivery.objects.get(pk=d).message.team_id != world.a.team.pk)
    assert Delivery.objects.get(pk=first).message.team_id == world.a.team.pk
    return first, second


@pytest.mark.parametrize("posted", [True, False])
def test_reconciling_one_unconfirmed_delivery_leaves_the_others_unconfirmed(world, posted):
    one, other = _two_with(world, "unconfirmed")
    other_message = Delivery.objects.get(pk=other).message
    before, message_before = row(other), other_message.status
    delivery_resolve_unconfirmed(actor=world.a.officer, delivery=Delivery.objects.get(pk=one), posted=posted,
                                 external_url="https://social.example/1")
    assert Delivery.objects.get(pk=one).status == (DeliveryStatus.SENT if posted else DeliveryStatus.PENDING)
    assert row(other) == before
    assert Message.objects.get(pk=other_message.pk).status == message_before
    # A second unconfirmed row of the same team, too:
    assert Delivery.objects.get(pk=other).status == DeliveryStatus.UNCONFIRMED


def test_retrying_one_failed_delivery_leaves_the_others_failed(world):
    one, other = _two_with(world, "failed")
    other_message = Delivery.objects.get(pk=other).message
    before, message_before = row(other), Message.objects.get(pk=other_message.pk).status
    assert message_before == MessageStatus.FAILED
    delivery_retry(actor=world.a.officer, delivery=Delivery.objects.get(pk=one))
    assert Delivery.objects.get(pk=one).status == DeliveryStatus.PENDING
    assert row(other) == before
    assert Message.objects.get(pk=other_message.pk).status == message_before


def test_reconciling_or_retrying_never_touches_other_messages(world):
    """The message's status follows its own deliveries only: bystanders in every state stay put."""
    one, _ = _two_with(world, "unconfirmed")
    bystanders = [scheduled(world.a, channels=[world.a.public]), make_approved(world.b)]
    statuses = {m.pk: Message.objects.get(pk=m.pk).status for m in bystanders}
    delivery_resolve_unconfirmed(actor=world.a.officer, delivery=Delivery.objects.get(pk=one), posted=False)
    assert {m.pk: Message.objects.get(pk=m.pk).status for m in bystanders} == statuses


# --- the claim's row locks (PostgreSQL) -------------------------------------------------------

@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_claimer_skips_rows_another_claimer_holds_and_does_not_wait(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises writers instead")
    world = make_world()
    scheduled(world.a, channels=[world.a.public, world.a.mastodon, world.a.sms])
    ids = sorted(Delivery.objects.values_list("pk", flat=True))
    held = ids[0]
    locked, release, done = threading.Event(), threading.Event(), threading.Event()
    result: dict[str, object] = {}

    def other_claimer() -> None:
        try:
            with transaction.atomic():
                # What a claimer's statement takes: the delivery row only (not its message).
                list(Delivery.objects.filter(pk=held).select_for_update(of=("self",)).order_by())
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    def claimer() -> None:
        try:
            result["claimed"] = deliveries_claim_due()
        except Exception as exc:  # noqa: BLE001 - handed to the test
            result["error"] = exc
        finally:
            done.set()
            connection.close()

    holder = threading.Thread(target=other_claimer, daemon=True)
    holder.start()
    assert locked.wait(10)
    worker = threading.Thread(target=claimer, daemon=True)
    worker.start()
    finished_in_time = done.wait(10)
    release.set()
    holder.join(30)
    worker.join(30)
    assert finished_in_time, "the claim waited for another claimer's row lock instead of skipping it"
    assert "error" not in result, result
    claimed = {d for d, _, _ in result["claimed"]}
    assert claimed == set(ids) - {held}
    assert Delivery.objects.get(pk=held).status == DeliveryStatus.PENDING
    # The held row is claimed by the next tick, once, and nothing twice.
    again = {d for d, _, _ in deliveries_claim_due()}
    assert again == {held}


# --- answers to citizens: the same engine, the same conditional updates ---------------------------

def _queued_answers(world, sandbox, n: int) -> list:
    from engage.inbound import answers
    from tests.engage.inbound.test_answers import sandbox_channel, telegram_reply, thanks_template

    channel = sandbox_channel(world, sandbox, "telegram")
    return [answers.answer_from_template(actor=world.a.liaison, reply=telegram_reply(world, channel, message_id=90 + i),
                                         template=thanks_template(world)) for i in range(n)]


def _answer_row(pk: int) -> tuple:
    from engage.models import ReplyAnswer

    a = ReplyAnswer.objects.get(pk=pk)
    return (a.status, a.claim_token, a.claimed_at, a.in_flight_since, a.attempts, a.external_id, a.last_error,
            a.next_attempt_at)


def test_a_stale_answer_task_whose_claim_was_reaped_and_retaken_sends_nothing(world, sandbox):
    """Worker A claims an answer and stalls before the call; the reaper gives the claim back; worker B
    claims it again under a new token. A's in-flight mark and its outcome then find nothing: B's send
    is the only one, and the answer beside them is untouched."""
    from campaigns.publishing import outbound
    from engage.inbound.answer_sending import answer_send, answers_reap_stuck
    from engage.models import AnswerStatus, ReplyAnswer

    sandbox.reset()
    one, other = _queued_answers(world, sandbox, 2)
    rows = ReplyAnswer.objects.filter(pk=one.pk)
    old = timezone.now() - STALE_CLAIM - timedelta(minutes=1)
    token_a, claimed = outbound.claim(rows, now=old)
    assert claimed == 1
    before = _answer_row(other.pk)
    assert answers_reap_stuck() == 0 and _answer_row(one.pk)[:3] == (AnswerStatus.PENDING, "", None)
    assert answer_send(answer_id=one.pk) == "sent"  # worker B: a new claim, a new token
    assert outbound.mark_in_flight(rows, token=token_a, now=timezone.now()) == 0
    assert outbound.finished_guard(rows, token=token_a).update(status=AnswerStatus.FAILED) == 0
    assert outbound.release_claim(rows, token=token_a) == 0
    assert ReplyAnswer.objects.get(pk=one.pk).status == AnswerStatus.SENT
    assert _answer_row(other.pk) == before
    assert len(sandbox.posts("telegram")) == 1


def test_an_answer_claimed_by_one_worker_is_not_sent_by_another(world, sandbox):
    """Two workers racing for one answer: the second finds it claimed (and, once the first marked it in
    flight, in flight) and sends nothing; the first sends it once."""
    from campaigns.publishing import outbound
    from engage.inbound.answer_sending import answer_send
    from engage.models import ReplyAnswer

    sandbox.reset()
    [one] = _queued_answers(world, sandbox, 1)
    rows = ReplyAnswer.objects.filter(pk=one.pk)
    token, claimed = outbound.claim(rows, now=timezone.now())
    assert claimed == 1
    assert answer_send(answer_id=one.pk) == "not-sent"  # the second worker: claimed already
    assert outbound.mark_in_flight(rows, token=token, now=timezone.now()) == 1
    assert outbound.mark_in_flight(rows, token=token, now=timezone.now()) == 0  # in flight already
    assert answer_send(answer_id=one.pk) == "not-sent"
    assert sandbox.posts("telegram") == []
