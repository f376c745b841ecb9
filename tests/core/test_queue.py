"""core.queue: services enqueue tasks by name, after their transaction commits, and a broker
outage never reaches the caller."""

from __future__ import annotations

import pytest
from django.db import transaction

from core import queue

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sent(monkeypatch):
    """What reaches the broker: the name and kwargs of every task apply_async is called for."""
    calls: list[tuple[str, dict, dict]] = []
    task = queue.task_named("campaigns.take_down")
    monkeypatch.setattr(task, "apply_async", lambda **options: calls.append(
        (task.name, options["kwargs"], {k: v for k, v in options.items() if k in ("queue", "countdown")})))
    queue.broker_backoff_reset()
    yield calls
    queue.broker_backoff_reset()


def test_a_task_is_sent_only_once_the_transaction_commits(sent):
    with transaction.atomic():
        queue.enqueue_on_commit("campaigns.take_down", countdown=90, delivery_id=7)
        assert sent == []  # a worker must never start on a row it cannot see yet
    assert sent == [("campaigns.take_down", {"delivery_id": 7}, {"countdown": 90})]


def test_a_rolled_back_transaction_sends_nothing(sent):
    with pytest.raises(RuntimeError), transaction.atomic():
        queue.enqueue_on_commit("campaigns.take_down", delivery_id=7)
        raise RuntimeError("the service failed")
    assert sent == []


def test_an_unknown_task_name_fails_in_the_caller_at_once():
    with transaction.atomic(), pytest.raises(LookupError, match="no Celery task"):
        queue.enqueue_on_commit("campaigns.no_such_task", delivery_id=7)  # not later, in a callback


def test_a_broker_outage_is_logged_not_raised(settings, caplog, monkeypatch):
    task = queue.task_named("campaigns.take_down")

    def refused(**options):
        raise ConnectionError("broker down")

    monkeypatch.setattr(task, "apply_async", refused)
    queue.broker_backoff_reset()
    try:
        assert queue.enqueue("campaigns.take_down", delivery_id=7) is False
        assert queue.enqueue("campaigns.take_down", delivery_id=8) is False  # the breaker is open: no wait
    finally:
        queue.broker_backoff_reset()
    assert sum("broker is unavailable" in r.getMessage() for r in caplog.records) == 1
