"""Scheduling's own rules (campaigns/publishing/schedule.py) that the invariants leave open.

- Each refusal says, word for word, what the API passes on (code, message, fields).
- Scheduling for now, retrying and releasing ask for an early tick, on the right task and queue:
  an emergency's on the urgent queue, a routine one's on the ticks queue; the broker is told not
  to retry (a tick lost is covered by the beat). The "a tick is queued" flag expires by itself.
- A person saying "not posted" puts the delivery back to go now, with no back-off left on it, and the
  audit row names the delivery and what the person said.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from campaigns.models import Delivery, DeliveryStatus
from campaigns.publishing import schedule, tasks
from campaigns.publishing.schedule import (
    delivery_resolve_unconfirmed,
    delivery_retry,
    enqueue_tick,
    message_schedule,
)
from core.errors import InvalidInput, NotAllowed, NotFound, WrongState
from tests.factories import make_approved, make_delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker(monkeypatch):
    """What reaches the broker: (task name, queue, retry) of each early tick."""
    sent: list[tuple[str, str, object]] = []
    for task in (tasks.tick, tasks.tick_urgent):
        monkeypatch.setattr(task, "apply_async",
                            lambda _name=task.name, **kw: sent.append((_name, kw["queue"], kw.get("retry"))))
    return sent


def _refusal(excinfo):
    error = excinfo.value
    return type(error), error.code, error.message, error.fields


# --- refusals, word for word ------------------------------------------------------------------

def test_scheduling_refusals_say_why(world):
    message = make_approved(world.a)
    with pytest.raises(NotFound) as excinfo:
        message_schedule(actor=world.b.supervisor, message=message, scheduled_at=None)
    assert _refusal(excinfo) == (NotFound, "not_found", "No such message.", {})
    with pytest.raises(NotAllowed) as excinfo:
        message_schedule(actor=world.a.liaison, message=message, scheduled_at=None)
    assert _refusal(excinfo) == (NotAllowed, "forbidden", "You cannot schedule messages of this team.", {})
    assert not message.deliveries.exists()


def test_retry_and_resolve_refusals_say_why(world):
    failed = make_delivery(world.a, DeliveryStatus.FAILED)
    unconfirmed = make_delivery(world.a, DeliveryStatus.UNCONFIRMED)
    with pytest.raises(NotAllowed) as excinfo:
        delivery_retry(actor=world.a.liaison, delivery=failed)
    assert _refusal(excinfo) == (NotAllowed, "forbidden", "You cannot retry deliveries of this team.", {})
    with pytest.raises(NotAllowed) as excinfo:
        delivery_resolve_unconfirmed(actor=world.a.liaison, delivery=unconfirmed, posted=True)
    assert _refusal(excinfo) == (NotAllowed, "forbidden", "You cannot resolve deliveries of this team.", {})
    with pytest.raises(InvalidInput) as excinfo:
        delivery_resolve_unconfirmed(actor=world.a.officer, delivery=unconfirmed, posted=True,
                                     external_url="javascript:alert(1)")
    assert _refusal(excinfo) == (InvalidInput, "invalid", "The post's address must be an http(s) URL.",
                                 {"external_url": ["Not an http(s) URL."]})
    with pytest.raises(WrongState) as excinfo:
        delivery_resolve_unconfirmed(actor=world.a.officer, delivery=failed, posted=False)
    assert _refusal(excinfo) == (WrongState, "wrong_state", "This delivery is not unconfirmed.", {})
    assert Delivery.objects.get(pk=unconfirmed.pk).status == DeliveryStatus.UNCONFIRMED
    assert Delivery.objects.get(pk=failed.pk).status == DeliveryStatus.FAILED


# --- "not posted": send again now ---------------------------------------------------------------

def test_not_posted_goes_again_now_with_no_back_off_and_the_audit_names_themake_delivery(world):
    later = timezone.now() + timedelta(hours=2)
    delivery = make_delivery(world.a, DeliveryStatus.UNCONFIRMED, next_attempt_at=later)
    before = timezone.now()
    delivery_resolve_unconfirmed(actor=world.a.officer, delivery=delivery, posted=False)
    row = Delivery.objects.get(pk=delivery.pk)
    assert row.status == DeliveryStatus.PENDING
    assert row.next_attempt_at is None
    assert before <= row.due_at <= timezone.now()
    audit = AuditEvent.objects.get(verb="delivery.reconciled")
    assert (audit.target_type, audit.target_id) == ("campaigns.delivery", str(delivery.pk))
    assert audit.summary == {"posted": False}
    assert audit.actor_id == world.a.officer.pk


# --- early ticks -------------------------------------------------------------------------------

def test_scheduling_for_now_asks_for_a_tick_and_for_later_does_not(world, broker, django_capture_on_commit_callbacks):
    later = make_approved(world.a)
    with django_capture_on_commit_callbacks(execute=True):
        message_schedule(actor=world.a.officer, message=later, scheduled_at=timezone.now() + timedelta(hours=1))
    assert broker == []
    now = make_approved(world.a)
    with django_capture_on_commit_callbacks(execute=True):
        message_schedule(actor=world.a.officer, message=now, scheduled_at=None)
    assert broker == [("campaigns.tick", "ticks", False)]


def test_an_emergency_goes_to_the_urgent_tick_and_a_routine_one_to_the_ticks_queue(
        world, broker, django_capture_on_commit_callbacks):
    enqueue_tick(urgent=False)
    enqueue_tick(urgent=True)
    assert broker == [("campaigns.tick", "ticks", False), ("campaigns.tick_urgent", "urgent", False)]
    tasks.tick()
    tasks.tick_urgent()
    broker.clear()
    urgent = make_delivery(world.a, DeliveryStatus.FAILED, urgent=True)
    with django_capture_on_commit_callbacks(execute=True):
        delivery_retry(actor=world.a.officer, delivery=urgent)
    assert broker == [("campaigns.tick_urgent", "urgent", False)]


def test_the_queued_tick_flag_expires_by_itself(world, broker, monkeypatch):
    """A tick message lost after the flag was set holds later ticks back only until the flag expires."""
    monkeypatch.setattr(schedule, "TICK_PENDING_SECONDS", 1)
    enqueue_tick(urgent=False)
    enqueue_tick(urgent=False)  # covered by the queued one
    assert len(broker) == 1
    time.sleep(2.1)
    enqueue_tick(urgent=False)
    assert len(broker) == 2
