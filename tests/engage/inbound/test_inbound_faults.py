"""Invariant 3 under faults: a reply acknowledged with a 2xx is in the database and is processed,
even when the broker is unreachable or Redis stops in the middle of ingestion."""

from __future__ import annotations

import logging
import shutil
import time

import pytest
from django.test import Client

from engage.models import Reply
from tests.engage.inbound_helpers import (
    celery_broker,
    post_telegram,
    process_all,
    telegram_channel,
    telegram_update,
)
from tests.publishing_harness import PrivateRedis, Worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_an_unreachable_broker_still_gets_a_2xx_and_the_sweeper_processes_it(world, caplog):
    channel = telegram_channel(world.a)
    client = Client()
    caplog.set_level(logging.INFO, logger="engage")
    with celery_broker("redis://127.0.0.1:1/0"):
        started = time.monotonic()
        responses = [post_telegram(client, channel, telegram_update(update_id=i, message_id=i,
                                                                   text=f"Where is gate {i}?")) for i in range(3)]
        elapsed = time.monotonic() - started
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert elapsed < 5, elapsed  # a dead broker does not slow every request down
    assert any("broker is unavailable" in r.getMessage() for r in caplog.records)  # the enqueue really failed
    assert Reply.objects.filter(processed_at__isnull=True).count() == 3  # committed, waiting
    assert process_all()["processed"] == 3
    assert not Reply.objects.filter(processed_at__isnull=True).exists()
    assert set(Reply.objects.values_list("category", flat=True)) == {"question"}


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server for a private broker")
def test_redis_stopped_during_ingestion_loses_nothing(world):
    channel = telegram_channel(world.a)
    client = Client()
    redis = PrivateRedis()
    redis.start()
    worker = Worker(redis.url, name="inbound").start()
    try:
        with celery_broker(redis.url):
            first = [post_telegram(client, channel, telegram_update(update_id=i, message_id=i, text=f"Question {i}?"))
                     for i in range(5)]
            assert [r.status_code for r in first] == [200] * 5
            # The worker processes what reached the broker.
            wait_for(lambda: Reply.objects.filter(processed_at__isnull=False).count() == 5, timeout=60)
            redis.stop()
            second = [post_telegram(client, channel, telegram_update(update_id=i, message_id=i, text=f"Question {i}?"))
                      for i in range(5, 10)]
            assert [r.status_code for r in second] == [200] * 5
            assert Reply.objects.count() == 10
            assert Reply.objects.filter(processed_at__isnull=True).count() == 5
            # Redis comes back; the periodic sweeper finds the five that never reached it.
            redis.start()
            assert process_all()["processed"] == 5
    finally:
        worker.stop()
        redis.stop()
    assert Reply.objects.count() == 10
    assert not Reply.objects.filter(processed_at__isnull=True).exists()
    assert worker.saw("engage.process_reply")
