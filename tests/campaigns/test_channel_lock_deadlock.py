"""A channel's health being recorded while a message on that channel is scheduled (found by
bench/event_day.py: the check that runs when a channel is saved, and every 30 minutes, met a burst).

Scheduling writes its audit row first (every audited transaction holds the audit chain's head row
until it commits) and inserts deliveries whose foreign key to the channel PostgreSQL checks at
COMMIT, with FOR KEY SHARE on the channel row. Recording the health locked the channel row FOR
UPDATE, which blocks FOR KEY SHARE, and then waited for the audit chain's head: a deadlock, and
PostgreSQL rolled one of the two back (the officer's schedule, a 500). The channel is now locked
FOR NO KEY UPDATE, which still serialises two health records of one channel but lets other rows
refer to it.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import close_old_connections, connection, transaction

from campaigns import publishing
from campaigns.models import Delivery
from campaigns.services.health import channel_health_record
from platforms.base import HealthResult
from tests.factories import make_approved, make_world

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("an in-memory SQLite database is not shared between threads' connections")
    return make_world()


def test_a_health_record_and_a_schedule_on_the_same_channel_both_commit(world):
    tw = world.a
    message = make_approved(tw, channels=[tw.mastodon])
    scheduled, go, outcome = threading.Event(), threading.Event(), {}

    def officer() -> None:
        close_old_connections()
        try:
            with transaction.atomic():  # audited (the chain's head is held) and not yet committed
                publishing.message_schedule(actor=tw.officer, message=message, scheduled_at=None)
                scheduled.set()
                go.wait(30)
            outcome["scheduled"] = True
        except Exception as exc:  # noqa: BLE001 - handed to the assertion below
            outcome["scheduled"] = exc
        finally:
            scheduled.set()
            connection.close()

    def health_check() -> None:
        close_old_connections()
        try:
            channel_health_record(channel_id=tw.mastodon.pk, result=HealthResult("failing", "Timed out"))
            outcome["recorded"] = True
        except Exception as exc:  # noqa: BLE001 - handed to the assertion below
            outcome["recorded"] = exc
        finally:
            connection.close()

    scheduling = threading.Thread(target=officer, daemon=True)
    scheduling.start()
    assert scheduled.wait(30)
    checking = threading.Thread(target=health_check, daemon=True)
    checking.start()
    time.sleep(0.5)  # the health record holds the channel and waits for the audit chain
    go.set()
    scheduling.join(30)
    checking.join(30)
    assert outcome == {"scheduled": True, "recorded": True}
    assert Delivery.objects.filter(message=message).count() == 1
