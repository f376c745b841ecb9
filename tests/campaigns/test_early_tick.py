"""Scheduling asks for an early tick; one queued tick that has not started covers every schedule
before it, so a burst of schedules queues one tick, and a tick that started lets the next one through."""

from __future__ import annotations

import pytest

from campaigns.publishing import tasks
from campaigns.publishing.schedule import enqueue_tick

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """What reaches the broker: Celery's apply_async for the two tick tasks, recorded."""
    sent: list[str] = []
    monkeypatch.setattr(tasks.tick, "apply_async", lambda **kw: sent.append(kw["queue"]))
    monkeypatch.setattr(tasks.tick_urgent, "apply_async", lambda **kw: sent.append(kw["queue"]))
    return sent


def test_a_burst_of_schedules_queues_one_tick_until_it_starts(queued):
    for _ in range(50):
        enqueue_tick(urgent=False)
    assert queued == ["ticks"]
    enqueue_tick(urgent=True)  # emergencies have their own flag and queue
    assert queued == ["ticks", "urgent"]
    assert tasks.tick() == 0  # the tick starts (nothing is due): a later schedule needs a new one
    enqueue_tick(urgent=False)
    enqueue_tick(urgent=True)
    assert queued == ["ticks", "urgent", "ticks"]
    assert tasks.tick_urgent() == 0
    enqueue_tick(urgent=True)
    assert queued == ["ticks", "urgent", "ticks", "urgent"]


def test_a_tick_the_broker_refused_does_not_block_the_next(monkeypatch):
    attempts: list[str] = []

    def broker_down(**kw):
        attempts.append(kw["queue"])
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.tick, "apply_async", broker_down)
    enqueue_tick(urgent=False)
    enqueue_tick(urgent=False)
    assert attempts == ["ticks", "ticks"]
