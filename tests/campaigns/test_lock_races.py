"""Two races bench/event_day.py found on PostgreSQL, each replayed here in a fixed order: the first
transaction takes its locks and waits; the second starts and blocks on them; then the first commits.

1. **A team's pause pressed while a worker marks a delivery in flight.** The pause sends back to wait
   only claims that have not started their platform call, and PostgreSQL re-checks an UPDATE's
   conditions on a row another transaction changed meanwhile, but only the conditions on the updated
   table itself: a team filter written as a join made Django send ``WHERE id IN (SELECT ... all the
   conditions)``, which is not re-checked, and the pause reset the in-flight row to pending. The call
   went out, its outcome could not be recorded, and the row stayed in "sending".
2. **A channel's health recorded while a message on that channel is scheduled.** Scheduling writes
   its audit row (every audited transaction holds the audit chain's head until it commits) and
   inserts deliveries whose foreign key to the channel PostgreSQL checks at COMMIT with FOR KEY
   SHARE. The health record locked the channel FOR UPDATE, which blocks that, then waited for the
   audit chain's head: a deadlock, and the officer's schedule was rolled back. It now locks FOR NO
   KEY UPDATE, which still serialises two records of one channel.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import close_old_connections, connection, transaction

from campaigns import publishing
from campaigns.models import Delivery, DeliveryStatus
from campaigns.publishing import deliveries_claim_due
from campaigns.publishing.lifecycle import _mark_in_flight
from campaigns.publishing.pause import publishing_pause
from campaigns.services.health import channel_health_record
from platforms.base import HealthResult
from tests.factories import make_approved, make_world

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("an in-memory SQLite database is not shared between threads' connections")
    return make_world()


def first_holds_then_second(first: Callable[[], Any], second: Callable[[], Any]) -> dict[str, Any]:
    """Run ``first`` in a transaction on its own connection and keep it open; start ``second`` on
    another, give it time to block on ``first``'s locks (SQLite: the write lock); then commit
    ``first``. Returns each one's result, or the exception it raised."""
    holding, go, outcome = threading.Event(), threading.Event(), {}

    def run(name: str, fn: Callable[[], Any], hold: bool) -> None:
        close_old_connections()
        try:
            if hold:
                with transaction.atomic():
                    outcome[name] = fn()
                    holding.set()
                    go.wait(30)
            else:
                outcome[name] = fn()
        except Exception as exc:  # noqa: BLE001 - handed to the test's assertion
            outcome[name] = exc
        finally:
            holding.set()
            connection.close()

    threads = [threading.Thread(target=run, args=("first", first, True), daemon=True)]
    threads[0].start()
    assert holding.wait(30)
    threads.append(threading.Thread(target=run, args=("second", second, False), daemon=True))
    threads[1].start()
    time.sleep(0.5)
    go.set()
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive(), "a transaction hung"
    return outcome


def test_a_team_pause_leaves_alone_a_claim_marked_in_flight_while_it_waited(world):
    tw = world.a
    message = make_approved(tw)
    publishing.message_schedule(actor=tw.officer, message=message, scheduled_at=None)
    delivery_id, token, _ = deliveries_claim_due()[0]
    outcome = first_holds_then_second(
        lambda: _mark_in_flight(delivery_id=delivery_id, token=token, approved_hash=message.approved_hash,
                                now=message.updated_at),
        lambda: publishing_pause(actor=tw.supervisor, reason="Crowd trouble", team=tw.team.pk).pk)
    assert outcome["first"] == 1 and isinstance(outcome["second"], int), outcome
    row = Delivery.objects.get(pk=delivery_id)
    assert (row.status, row.claim_token, row.in_flight_since is not None) == (DeliveryStatus.SENDING, token, True)


def test_a_health_record_and_a_schedule_on_the_same_channel_both_commit(world):
    tw = world.a
    message = make_approved(tw, channels=[tw.mastodon])
    outcome = first_holds_then_second(
        lambda: publishing.message_schedule(actor=tw.officer, message=message, scheduled_at=None).pk,
        lambda: channel_health_record(channel_id=tw.mastodon.pk, result=HealthResult("failing", "Timed out")).pk)
    assert outcome == {"first": message.pk, "second": tw.mastodon.pk}
    assert Delivery.objects.filter(message=message).count() == 1
