"""Races between real threads, each on its own database connection.

PostgreSQL is the production database (row locks with SELECT ... FOR UPDATE, conditional
updates); the embedded SQLite default serialises writers with IMMEDIATE transactions and
a busy timeout. The same races run on both: the result must be one of the serial orders.

Each race is repeated ``ROUNDS`` times on fresh messages, with a barrier so that both
threads enter the service at the same moment.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from accounts.models import AuditEvent, User
from campaigns import publishing
from campaigns.models import Approval, Delivery, DeliveryStatus, Message, MessageStatus
from campaigns.services import messages as message_services
from campaigns.services import workflow
from campaigns.services.content import content_hash
from core.errors import ServiceError, WrongState
from tests.factories import make_approved, make_submitted, make_world

ROUNDS = 20

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tworld(transactional_db):
    """The usual world, committed, so that other connections see it."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("an in-memory SQLite database is not shared between threads' connections")
    if connection.vendor not in ("postgresql", "sqlite"):
        pytest.skip(f"concurrency is only specified for PostgreSQL and SQLite, not {connection.vendor}")
    return make_world()


def _fresh(user: User) -> User:
    """A user instance of this thread's own (permission caches live on the instance)."""
    return User.objects.get(pk=user.pk)


def race(*fns: Callable[[], Any], timeout: float = 60) -> list[Any]:
    """Run each function in its own thread, released together by a barrier.

    Returns, per function, its result or the exception it raised. Each thread closes its
    own database connection when done.
    """
    barrier = threading.Barrier(len(fns))
    results: list[Any] = [None] * len(fns)

    def run(index: int, fn: Callable[[], Any]) -> None:
        try:
            close_old_connections()
            barrier.wait(timeout=timeout)
            results[index] = fn()
        except Exception as exc:  # noqa: BLE001 - handed back to the test to assert on
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn), daemon=True) for i, fn in enumerate(fns)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a racing thread hung (deadlock?)"
    for result in results:
        # Anything but a service's refusal is a failure of the race itself (deadlock, integrity error...).
        if isinstance(result, Exception) and not isinstance(result, ServiceError):
            raise AssertionError(f"unexpected {type(result).__name__}: {result}") from result
    return results


def _approve(user: User, message_id: int) -> Callable[[], Message]:
    def go() -> Message:
        return workflow.message_approve(actor=_fresh(user), message=Message.objects.get(pk=message_id))

    return go


def _audits(message: Message, verb: str) -> int:
    return AuditEvent.objects.filter(target_type="campaigns.message", target_id=str(message.pk), verb=verb).count()


def test_two_supervisors_approving_at_once_make_one_approval(tworld):
    a = tworld.a
    for _ in range(ROUNDS):
        message = make_submitted(a)
        results = race(_approve(a.supervisor, message.pk), _approve(a.supervisor2, message.pk))
        won = [r for r in results if isinstance(r, Message)]
        lost = [r for r in results if isinstance(r, Exception)]
        assert len(won) == 1 and len(lost) == 1, results
        assert isinstance(lost[0], WrongState)
        message.refresh_from_db()
        assert message.status == MessageStatus.APPROVED
        assert message.approved_hash == message.content_hash == content_hash(message)
        assert Approval.objects.filter(message=message).count() == 1
        assert _audits(message, "message.approved") == 1
        assert _audits(message, "message.approval_added") == 0


def test_two_approvals_for_priority_both_count_when_simultaneous(tworld):
    a = tworld.a
    a.team.settings = {"two_approvals_for_priority": True}
    a.team.save(update_fields=["settings"])
    for _ in range(ROUNDS):
        message = make_submitted(a, urgency="priority")
        results = race(_approve(a.supervisor, message.pk), _approve(a.supervisor2, message.pk))
        assert all(isinstance(r, Message) for r in results), results
        assert sorted(r.status for r in results) == [MessageStatus.APPROVED, MessageStatus.IN_REVIEW]
        message.refresh_from_db()
        assert message.status == MessageStatus.APPROVED
        assert message.approved_hash == content_hash(message)
        approvals = Approval.objects.filter(message=message, voided_at__isnull=True)
        assert approvals.count() == 2
        assert set(approvals.values_list("approver_id", flat=True)) == {a.supervisor.pk, a.supervisor2.pk}
        assert _audits(message, "message.approved") == 1
        assert _audits(message, "message.approval_added") == 1


def test_an_approval_racing_an_edit_never_approves_other_content(tworld):
    a = tworld.a
    orders = set()
    for n in range(ROUNDS):
        message = make_submitted(a)
        old_hash = message.content_hash

        def edit(message_id: int = message.pk, n: int = n) -> Message:
            current = Message.objects.get(pk=message_id)
            return message_services.message_update(actor=_fresh(a.officer), message=current,
                                                   body=f"{current.body} Updated {n}.")

        approved, edited = race(_approve(a.supervisor, message.pk), edit)
        assert isinstance(edited, Message), edited  # an edit of a message in review is always allowed
        message.refresh_from_db()
        assert message.status == MessageStatus.DRAFT  # the edit always lands last or first: draft either way
        assert message.content_hash == content_hash(message) != old_hash
        assert message.approved_hash == ""
        assert not Approval.objects.filter(message=message, voided_at__isnull=True).exists()
        if isinstance(approved, Message):
            # Approved first, of the old content; the edit then voided it.
            orders.add("approve-then-edit")
            approval = Approval.objects.get(message=message)
            assert approval.content_hash == old_hash and approval.voided_at is not None
            assert AuditEvent.objects.filter(target_id=str(message.pk), verb="message.edited",
                                             summary__approval_voided=True).exists()
        else:
            # Edited first: the message went back to draft and the approval was refused.
            orders.add("edit-then-approve")
            assert isinstance(approved, WrongState), approved
            assert not Approval.objects.filter(message=message).exists()
        # Never: approved, with a hash other than what is there.
        assert not (message.status in (MessageStatus.APPROVED, MessageStatus.SCHEDULED)
                    and message.approved_hash != message.content_hash)
    assert orders  # at least one order was seen; which ones depends on the scheduler


def test_two_ticks_claim_each_due_delivery_exactly_once(tworld):
    a = tworld.a
    for _ in range(ROUNDS):
        due_ids = set()
        for _ in range(3):
            message = make_approved(a, channels=[a.public, a.mastodon, a.sms])
            publishing.message_schedule(actor=a.officer, message=message,
                                        scheduled_at=timezone.now() - timedelta(minutes=1))
            due_ids |= set(Delivery.objects.filter(message=message).values_list("id", flat=True))
        assert len(due_ids) == 9
        first, second = race(publishing.deliveries_claim_due, publishing.deliveries_claim_due)
        ids_first = {d for d, _, _ in first}
        ids_second = {d for d, _, _ in second}
        assert not ids_first & ids_second, "a delivery was claimed twice"
        assert ids_first | ids_second == due_ids, "a due delivery was not claimed"
        tokens = {d: t for d, t, _ in [*first, *second]}
        rows = Delivery.objects.filter(pk__in=due_ids)
        assert all(r.status == DeliveryStatus.SENDING and r.claim_token == tokens[r.pk] for r in rows)
        # Leave nothing due for the next round.
        Delivery.objects.filter(pk__in=due_ids).update(status=DeliveryStatus.SENT, claim_token="")


def test_a_messages_last_deliveries_finishing_at_once_publish_it(tworld):
    """Each finish counts the message's other deliveries after committing its own outcome; counted
    inside its transaction, each would see the other still sending and neither would settle it."""
    a = tworld.a
    for _ in range(ROUNDS):
        message = make_approved(a, channels=[a.public, a.mastodon])
        publishing.message_schedule(actor=a.officer, message=message,
                                    scheduled_at=timezone.now() - timedelta(minutes=1))
        claimed = publishing.deliveries_claim_due()
        permits = [publishing.delivery_begin(delivery_id=d, token=t) for d, t, _ in claimed]
        assert len(permits) == 2 and all(permits)
        race(*[lambda p=permit, t=token: publishing.delivery_finish(permit=p, token=t, outcome="sent")
               for permit, (_, token, _) in zip(permits, claimed, strict=True)])
        message.refresh_from_db()
        assert Delivery.objects.filter(message=message, status=DeliveryStatus.SENT).count() == 2
        assert message.status == MessageStatus.PUBLISHED, "both finished, the message still says publishing"


def test_the_race_helper_reports_real_errors():
    """A crash in a racing thread is not mistaken for a refusal (so the tests above can fail)."""
    with pytest.raises(AssertionError, match="ZeroDivisionError"):
        race(lambda: 1 / 0, lambda: None)
