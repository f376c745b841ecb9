"""A team's pause pressed while a worker marks a delivery in flight (found by bench/event_day.py).

The pause sends back to wait only claims that have not started their platform call; a worker marks
its claim in flight with one conditional UPDATE. When the two meet on the same row, PostgreSQL makes
the pause's UPDATE wait for the worker's, then re-checks its conditions on the row as the worker left
it: the row is in flight now, so the pause leaves it alone. That re-check covers only conditions on
the updated table itself: a team filter written as a join made Django send ``WHERE id IN (SELECT ...
all the conditions)``, whose subquery is not re-checked, and the pause reset the in-flight row to
pending. The worker's call went out, its outcome could not be recorded (the claim was gone) and the
row stayed in "sending", posted but not recorded as sent.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import close_old_connections, connection, transaction

from campaigns import publishing
from campaigns.models import Delivery, DeliveryStatus
from campaigns.publishing import deliveries_claim_due
from campaigns.publishing.lifecycle import _mark_in_flight
from campaigns.publishing.pause import publishing_pause
from tests.factories import make_approved, make_world

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("an in-memory SQLite database is not shared between threads' connections")
    return make_world()


def test_a_team_pause_leaves_alone_a_claim_marked_in_flight_while_it_waited(world):
    tw = world.a
    message = make_approved(tw)
    publishing.message_schedule(actor=tw.officer, message=message, scheduled_at=None)
    claimed = deliveries_claim_due()
    assert claimed
    delivery_id, token, _ = claimed[0]
    marked, go, outcome = threading.Event(), threading.Event(), {}

    def worker() -> None:
        close_old_connections()
        try:
            with transaction.atomic():  # the mark holds the row until this commits
                outcome["marked"] = _mark_in_flight(delivery_id=delivery_id, token=token,
                                                    approved_hash=message.approved_hash, now=message.updated_at)
                marked.set()
                go.wait(30)
        finally:
            marked.set()
            connection.close()

    def supervisor() -> None:
        close_old_connections()
        try:
            publishing_pause(actor=tw.supervisor, reason="Crowd trouble", team=tw.team.pk)
        except Exception as exc:  # noqa: BLE001 - handed to the assertion below
            outcome["pause"] = exc
        finally:
            connection.close()

    marking = threading.Thread(target=worker, daemon=True)
    marking.start()
    assert marked.wait(30)
    pausing = threading.Thread(target=supervisor, daemon=True)
    pausing.start()
    time.sleep(0.5)  # the pause reaches the row and waits for the worker's lock (SQLite: the write lock)
    go.set()
    marking.join(30)
    pausing.join(30)
    assert not marking.is_alive() and not pausing.is_alive()
    assert outcome == {"marked": 1}
    row = Delivery.objects.get(pk=delivery_id)
    assert (row.status, row.claim_token, row.in_flight_since is not None) == (DeliveryStatus.SENDING, token, True)
