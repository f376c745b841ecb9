"""Each of a person's decisions on a delivery, and each step of the tick, acts only on a row in the
state it is meant for, and leaves every other row as it was.

* Retrying acts on a failed delivery only, and reconciling on an unconfirmed one only: a sent post
  retried, or reconciled as "not posted", would go out a second time.
* Releasing or skipping a held delivery acts only on one still waiting: one withdrawn meanwhile
  stays withdrawn.
* A withdrawal stops what has not started, never a delivery whose platform call is under way (its
  outcome must still be recorded), and keeps its reason and figures on the audit trail.
* The tick claims urgent deliveries before older routine ones; a skipped delivery's attempt keeps
  the reason; a resume is audited on the team it lifted.

(docs/testing.md lists the mutations of ``campaigns/publishing/`` (was ``campaigns/services/publishing.py``) these are there to catch.)
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from campaigns import publishing
from campaigns.models import Delivery, DeliveryAttempt, DeliveryStatus, Message, MessageStatus
from campaigns.publishing import deliveries_claim_due, delivery_begin, delivery_finish
from core.errors import InvalidInput, NotAllowed, WrongState
from tests.factories import TeamWorld, make_approved

pytestmark = pytest.mark.django_db

EMERGENCY = "Please move away from Station Road now, calmly. If you are in danger call 999."


def scheduled(tw: TeamWorld, channels=None, **kwargs) -> Message:
    message = make_approved(tw, channels=channels or [tw.public], **kwargs)
    return publishing.message_schedule(actor=tw.officer, message=message, scheduled_at=None)


def row(pk: int) -> tuple:
    d = Delivery.objects.get(pk=pk)
    return (d.status, d.claim_token, d.claimed_at, d.in_flight_since, d.attempts, d.external_id, d.external_url,
            d.last_error, d.next_attempt_at, d.due_at, d.sent_at, d.needs_review,
            DeliveryAttempt.objects.filter(delivery=d).count())


def in_state(tw: TeamWorld, status: str) -> Delivery:
    """A delivery of a scheduled message of ``tw``, put in ``status`` as the life cycle leaves it."""
    message = scheduled(tw)
    [(delivery_id, token, _)] = deliveries_claim_due()
    if status in (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.UNCONFIRMED):
        permit = delivery_begin(delivery_id=delivery_id, token=token)
        outcome = {DeliveryStatus.SENT: "sent", DeliveryStatus.FAILED: "failed"}.get(status, "unconfirmed")
        assert delivery_finish(permit=permit, token=token, outcome=outcome, external_id="post-1") == 1
    elif status == DeliveryStatus.PENDING:
        assert publishing.delivery_unclaim(delivery_id=delivery_id, token=token)
    elif status != DeliveryStatus.SENDING:
        Delivery.objects.filter(pk=delivery_id).update(status=status, claim_token="")
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.status == status and delivery.message_id == message.pk
    return delivery


# --- retry and reconcile: only the state they are for ---------------------------------------------------

OTHER_STATES = [DeliveryStatus.SENT, DeliveryStatus.UNCONFIRMED, DeliveryStatus.FAILED, DeliveryStatus.SENDING,
                DeliveryStatus.SKIPPED, DeliveryStatus.WITHDRAWN, DeliveryStatus.PENDING]  # pending last: unclaimed


def one_in_each_state(tw: TeamWorld) -> dict[str, Delivery]:
    return {status: in_state(tw, status) for status in OTHER_STATES}


def test_only_a_failed_delivery_can_be_retried(world):
    rows = one_in_each_state(world.a)
    for status, delivery in rows.items():
        if status == DeliveryStatus.FAILED:
            continue
        before, message_before = row(delivery.pk), Message.objects.get(pk=delivery.message_id).status
        with pytest.raises(WrongState, match="Only a failed delivery can be retried."):
            publishing.delivery_retry(actor=world.a.officer, delivery=delivery)
        assert row(delivery.pk) == before, status
        assert Message.objects.get(pk=delivery.message_id).status == message_before, status
    # Nothing but the row that was already waiting is queued: a sent post never goes out again.
    assert [d for d, _, _ in deliveries_claim_due()] == [rows[DeliveryStatus.PENDING].pk]


def test_only_an_unconfirmed_delivery_can_be_reconciled(world):
    rows = one_in_each_state(world.a)
    for status, delivery in rows.items():
        if status == DeliveryStatus.UNCONFIRMED:
            continue
        for posted in (True, False):
            before, message_before = row(delivery.pk), Message.objects.get(pk=delivery.message_id).status
            with pytest.raises(WrongState, match="This delivery is not unconfirmed."):
                publishing.delivery_resolve_unconfirmed(actor=world.a.officer, delivery=delivery, posted=posted,
                                                        external_url="https://social.example/1")
            assert row(delivery.pk) == before, (status, posted)
            assert Message.objects.get(pk=delivery.message_id).status == message_before, (status, posted)
    assert [d for d, _, _ in deliveries_claim_due()] == [rows[DeliveryStatus.PENDING].pk]
    assert not AuditEvent.objects.filter(verb="delivery.reconciled").exists()


# --- held for review: only while it still waits -----------------------------------------------------------

@pytest.mark.parametrize("send", [True, False])
def test_a_held_delivery_withdrawn_meanwhile_is_neither_released_nor_skipped(world, send):
    held, other = scheduled(world.a), scheduled(world.a)
    Delivery.objects.update(needs_review=True, due_at=timezone.now() - timedelta(hours=3))
    publishing.message_withdraw(actor=world.a.supervisor, message=held, reason="Out of date")
    delivery = Delivery.objects.get(message=held)
    assert (delivery.status, delivery.needs_review) == (DeliveryStatus.WITHDRAWN, True)
    before, other_before = row(delivery.pk), row(Delivery.objects.get(message=other).pk)
    with pytest.raises(WrongState, match="This delivery is not waiting for review."):
        publishing.delivery_release(actor=world.a.supervisor, delivery=delivery, send=send)
    assert row(delivery.pk) == before
    assert row(Delivery.objects.get(message=other).pk) == other_before


def test_only_a_supervisor_releases_a_held_delivery_and_is_told_so(world):
    scheduled(world.a)
    Delivery.objects.update(needs_review=True)
    delivery = Delivery.objects.get()
    before = row(delivery.pk)
    for who in (world.a.officer, world.b.supervisor):
        with pytest.raises(NotAllowed) as refused:
            publishing.delivery_release(actor=who, delivery=delivery, send=True)
        assert str(refused.value) == "Only a supervisor can release held deliveries."
    assert row(delivery.pk) == before


# --- withdrawal ---------------------------------------------------------------------------------------------

def test_a_withdrawal_never_stops_a_delivery_whose_platform_call_is_under_way(world):
    """A withdrawal stops waiting and claimed rows; a row in flight keeps its claim, so that its
    worker still records what the platform did (a post that went out is then taken down: below)."""
    message = scheduled(world.a, channels=[world.a.public, world.a.mastodon, world.a.sms])
    token, (flying, claimed, waiting) = _claim_three()
    assert delivery_begin(delivery_id=flying, token=token) is not None
    assert publishing.delivery_unclaim(delivery_id=waiting, token=token)
    flying_before = row(flying)
    publishing.message_withdraw(actor=world.a.supervisor, message=message, reason="Out of date")
    assert row(flying) == flying_before
    for stopped in (claimed, waiting):
        assert (Delivery.objects.get(pk=stopped).status, Delivery.objects.get(pk=stopped).claim_token) == (
            DeliveryStatus.WITHDRAWN, "")
    # The worker mid-call still records its outcome, once.
    permit = publishing.SendPermit(delivery=Delivery.objects.select_related("message", "channel").get(pk=flying))
    assert delivery_finish(permit=permit, token=token, outcome="sent", external_id="post-9") == 1
    assert Delivery.objects.get(pk=flying).status == DeliveryStatus.SENT
    assert Message.objects.get(pk=message.pk).status == MessageStatus.WITHDRAWN
    assert AuditEvent.objects.get(verb="message.withdrawn").summary["stopped"] == 2


def test_a_post_that_went_out_after_the_withdrawal_is_taken_down_too(world, sandbox,
                                                                    django_capture_on_commit_callbacks):
    """The withdrawal leaves a call in flight alone; if the platform took the post, it comes down
    like the posts sent before the withdrawal, and the message stays withdrawn."""
    from campaigns.publishing.send import adapter_for, build_payload
    from engage.celery import app
    from tests.campaigns.test_publishing import channel

    sandbox.reset()
    telegram = channel(world, sandbox, "telegram")
    message = scheduled(world.a, channels=[telegram])
    [(delivery_id, token, _)] = deliveries_claim_due()
    permit = delivery_begin(delivery_id=delivery_id, token=token)
    # The worker is mid-call when a supervisor withdraws the message; the take-down it schedules
    # runs once the call has surely ended (its countdown), after the worker recorded the post.
    with django_capture_on_commit_callbacks() as later:
        publishing.message_withdraw(actor=world.a.supervisor, message=message, reason="Out of date")
    result = adapter_for(permit.delivery.channel).publish(build_payload(permit.delivery, permit.snapshot),
                                                          idempotency_key=permit.delivery.idempotency_key)
    assert len(sandbox.posts("telegram")) == 1
    assert delivery_finish(permit=permit, token=token, outcome="sent", external_id=result.external_id) == 1
    app.conf.task_always_eager = True
    try:
        for callback in later:
            callback()
    finally:
        app.conf.task_always_eager = False
    assert sandbox.posts("telegram") == []
    assert Delivery.objects.get(pk=delivery_id).status == DeliveryStatus.WITHDRAWN
    assert Message.objects.get(pk=message.pk).status == MessageStatus.WITHDRAWN


def _claim_three() -> tuple[str, list[int]]:
    claimed = deliveries_claim_due()
    [token] = {t for _, t, _ in claimed}
    return token, [d for d, _, _ in claimed]


def test_a_withdrawal_is_recorded_with_its_reason_time_and_figures(world, django_capture_on_commit_callbacks):
    message = scheduled(world.a, channels=[world.a.public, world.a.mastodon, world.a.sms])
    token, (sent, _, _) = _claim_three()
    permit = delivery_begin(delivery_id=sent, token=token)
    assert delivery_finish(permit=permit, token=token, outcome="sent", external_id="post-1") == 1
    started = timezone.now()
    confirmation = "I understand that the post is taken down. " * 10
    with django_capture_on_commit_callbacks() as later:
        publishing.message_withdraw(actor=world.a.supervisor, message=message, reason="  Out of \n date ",
                                    confirmation=confirmation)
    message.refresh_from_db()
    assert message.status == MessageStatus.WITHDRAWN
    assert message.withdrawn_at is not None and started <= message.withdrawn_at <= timezone.now()
    event = AuditEvent.objects.get(verb="message.withdrawn")
    assert (event.actor_id, event.team_id) == (world.a.supervisor.pk, world.a.team.pk)
    assert event.summary == {"reason": "Out of date", "confirmation": confirmation[:300], "stopped": 2,
                             "to_take_down": 1}
    # The post that went out is taken down, or listed for a person where the platform cannot.
    from engage.celery import app

    app.conf.task_always_eager = True
    try:
        for callback in later:
            callback()
    finally:
        app.conf.task_always_eager = False
    taken = Delivery.objects.get(pk=sent)
    assert taken.status == DeliveryStatus.WITHDRAWN or taken.manual_takedown, taken.status


def test_a_withdrawal_refuses_with_the_reason_and_changes_nothing(world):
    message = scheduled(world.a)
    before = row(Delivery.objects.get().pk)
    with pytest.raises(NotAllowed) as refused:
        publishing.message_withdraw(actor=world.a.officer, message=message, reason="Out of date")
    assert str(refused.value) == "Only a supervisor of this team can withdraw messages."
    with pytest.raises(InvalidInput) as blank:
        publishing.message_withdraw(actor=world.a.supervisor, message=message, reason=" \n ")
    assert blank.value.code == "reason_required"
    assert str(blank.value) == "Say why the message is withdrawn: the reason is kept in its history."
    assert blank.value.fields == {"reason": ["This field may not be blank."]}
    assert row(Delivery.objects.get().pk) == before
    assert Message.objects.get(pk=message.pk).status == MessageStatus.SCHEDULED


# --- the tick, the skip, the resume, scheduling -------------------------------------------------------------

def test_the_tick_claims_an_urgent_delivery_before_older_routine_ones(world):
    routine = scheduled(world.a)
    emergency = scheduled(world.a, author=world.a.supervisor, urgency="emergency", body=EMERGENCY)
    now = timezone.now()
    Delivery.objects.filter(message=routine).update(due_at=now - timedelta(hours=1))
    Delivery.objects.filter(message=emergency).update(due_at=now - timedelta(seconds=5))
    [(first, _, urgent)] = deliveries_claim_due(limit=1)
    assert Delivery.objects.get(pk=first).message_id == emergency.pk and urgent is True
    [(second, _, urgent)] = deliveries_claim_due(limit=1)
    assert Delivery.objects.get(pk=second).message_id == routine.pk and urgent is False


def test_a_skipped_delivery_keeps_the_reason_on_its_attempt(world):
    message = scheduled(world.a)
    Message.objects.filter(pk=message.pk).update(body="Changed behind the services' back. #DerbyDay")
    [(delivery_id, token, _)] = deliveries_claim_due()
    assert delivery_begin(delivery_id=delivery_id, token=token) is None
    attempt = DeliveryAttempt.objects.get(delivery_id=delivery_id)
    assert (attempt.outcome, attempt.error) == ("skipped", "Content differs from what was approved")
    assert attempt.finished_at is not None


def test_a_resume_is_audited_on_the_team_it_lifted(forces):
    publishing.publishing_pause(actor=forces.a.supervisor, reason="Incident", team=forces.a.team.pk)
    publishing.publishing_pause(actor=forces.other.supervisor, reason="Other", team=forces.other.team.pk)
    started = timezone.now()
    publishing.publishing_resume(actor=forces.a.supervisor, reason="Clear", team=forces.a.team.pk)
    from campaigns.models import PublishingPause

    lifted = PublishingPause.objects.get(team_id=forces.a.team.pk)
    assert lifted.resumed_by_id == forces.a.supervisor.pk and lifted.resumed_at >= started
    assert PublishingPause.objects.get(team_id=forces.other.team.pk).resumed_at is None
    event = AuditEvent.objects.get(verb="publishing.resumed")
    assert (event.actor_id, event.team_id) == (forces.a.supervisor.pk, forces.a.team.pk)
    assert event.summary["scope"] == "team"
    assert publishing.paused_team_ids() == (False, {forces.other.team.pk})


def test_scheduling_content_changed_after_approval_is_refused_in_words(world):
    approved = make_approved(world.a)
    Message.objects.filter(pk=approved.pk).update(body="Changed behind the services' back. #DerbyDay")
    with pytest.raises(WrongState) as refused:
        publishing.message_schedule(actor=world.a.officer, message=approved, scheduled_at=None)
    assert (refused.value.code, str(refused.value)) == (
        "not_approved", "The approved content differs from the current content.")
    assert not Delivery.objects.exists()


def test_the_claim_checks_each_messages_content_once_ahead_of_its_workers(world):
    """The tick recomputes each claimed message's hash once, so that its workers do not each read
    the whole message again: a worker then loads the row, reads the approved version and marks
    it in flight, and reads none of the content's own tables."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns.models import MediaAsset, Segment, Variant
    from campaigns.services import messages as message_services
    from tests.factories import make_message
    from tests.invariants.test_publishing_decisions import make_approved_from

    message = make_message(world.a, channels=[world.a.public, world.a.mastodon])
    message_services.variant_add(actor=world.a.officer, message=message, language="fr",
                                 body="Les routes seront chargées samedi. #DerbyDay", channels=[world.a.mastodon])
    publishing.message_schedule(actor=world.a.officer, message=make_approved_from(world.a, message),
                                scheduled_at=None)
    claimed = deliveries_claim_due()
    assert len(claimed) == 3
    content_tables = {model._meta.db_table for model in (MediaAsset, Variant, Segment)}
    for delivery_id, token, _ in claimed:
        with CaptureQueriesContext(connection) as queries:
            assert delivery_begin(delivery_id=delivery_id, token=token) is not None
        read = [q["sql"] for q in queries.captured_queries
                if any(q["sql"].startswith(f'SELECT "{table}".') for table in content_tables)]
        assert read == [], "a worker recomputed the content hash that the claim had checked"
        assert len(queries.captured_queries) <= 3
