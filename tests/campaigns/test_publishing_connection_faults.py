"""The database and the cache drop every connection in the middle of a burst (issue 21, section 2).

Real Celery workers, a private Redis (broker and cache), the platform sandbox counting what it
receives per idempotency key, answers to citizens on a slow Telegram beside the burst, and a web
thread in this process taking signed partner replies meanwhile. PostgreSQL terminates every
connection of the test database but the test's own, twice; Redis kills every client, then restarts
empty. Each test ends with every delivery and answer sent (a lost connection alone leaves nothing
unconfirmed), none posted twice, every reply acknowledged with a 2xx in the database, and the same
worker process still sending afterwards.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest
import redis
from django.db import connection, connections
from django.test import Client

from campaigns.models import Delivery, DeliveryStatus
from campaigns.publishing import deliveries_reap_stale
from engage.inbound.answer_sending import answers_reap_stuck
from engage.inbound.processing import replies_unprocessed
from engage.models import AnswerStatus, Reply, ReplyAnswer
from tests.campaigns import test_publishing_faults as faults
from tests.campaigns.test_publishing_faults import (
    all_in,
    answers_in,
    approved_and_scheduled,
    queued_answers,
    sandbox_channel,
    send_answers,
)
from tests.engage.inbound.test_answers import replied_to
from tests.engage.inbound_helpers import celery_broker, partner_channel, partner_item, post_partner
from tests.publishing_harness import sender_app, tick, wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

BURST = 24
ANSWERS = 6

broker, sandbox, workers = faults.broker, faults.sandbox, faults.workers  # the fault tests' fixtures


@pytest.fixture(autouse=True)
def _postgres_and_redis(settings):
    import shutil

    if connection.vendor != "postgresql":
        pytest.skip("terminating every connection of the database is a PostgreSQL feature")
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server for a private broker")
    settings.ENGAGE_STALE_CLAIM_SECONDS = 8  # a claim whose task message was lost: back to pending soon


class WebThread:
    """A web process's requests, from a thread of this process (so on its own database connection,
    which the faults cut): signed partner replies, one after another, each answer kept."""

    def __init__(self, channel) -> None:
        self.channel, self.answers = channel, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        client = Client(raise_request_exception=False)
        try:
            for i in range(10**6):
                if self._stop.is_set():
                    return
                item_id = f"fault-{i}"
                body = json.dumps(partner_item(item_id=item_id, text=f"Is the road open yet? {i}")).encode()
                self.answers.append((item_id, post_partner(client, self.channel, body).status_code))
                time.sleep(0.02)
        finally:
            connections.close_all()

    def __enter__(self) -> WebThread:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def acknowledged(self) -> set[str]:
        return {item_id for item_id, status in self.answers if 200 <= status < 300}


def sent_count() -> int:
    return Delivery.objects.filter(status=DeliveryStatus.SENT).count()


def settle(app, *, timeout: float = 40) -> int:
    """What the beat does until every delivery is settled: tick, and reap stale claims. Returns how
    many claims the reaper gave back (their task messages were lost)."""
    released = 0

    def done() -> bool:
        nonlocal released
        released += deliveries_reap_stale()["released"]
        answers_reap_stuck()  # and the sweeper's part: answers' stale claims back to pending, then sent
        try:
            send_answers(app)
        except Exception:  # noqa: BLE001, S110 - the broker is still coming back: the next round sends them
            pass
        settled = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.UNCONFIRMED)
        return all_in(*settled)() and answers_in(*settled)()

    try:
        wait_for(done, tick_with=app, timeout=timeout, interval=0.2)
    except AssertionError:
        raise AssertionError(f"not settled: {Counter(Delivery.objects.values_list('status', flat=True))}, "
                             f"answers {Counter(ReplyAnswer.objects.values_list('status', flat=True))}") from None
    return released


def check_the_end(world, sandbox, channel, worker, pid: int, web: WebThread, app) -> None:
    settle(app)
    assert dict(Counter(Delivery.objects.values_list("status", flat=True))) == {DeliveryStatus.SENT: BURST}
    # None posted twice: every request the partner received, counted per idempotency key.
    keys = Counter(r.fields.get("id") for r in sandbox.requests("webhook") if r.op == "delivery")
    assert len(keys) == BURST and set(keys.values()) == {1}, keys.most_common(3)
    assert len(sandbox.posts("webhook")) == BURST
    assert set(ReplyAnswer.objects.values_list("status", flat=True)) == {AnswerStatus.SENT}
    assert sorted(replied_to(p) for p in sandbox.posts("telegram")) == list(range(700, 700 + ANSWERS))  # each once
    acknowledged = web.acknowledged()
    assert acknowledged, "the web thread had no reply acknowledged"
    stored = set(Reply.objects.filter(provider_id__in=acknowledged).values_list("provider_id", flat=True))
    assert acknowledged == stored, sorted(acknowledged - stored)  # no acknowledged reply lost
    # The same worker process, never restarted, sends the next message.
    assert worker.proc.poll() is None and worker.proc.pid == pid
    approved_and_scheduled(world, [channel], body="The road is open again.")
    wait_for(all_in(DeliveryStatus.SENT), tick_with=app, timeout=20)
    assert len(sandbox.posts("webhook")) == BURST + 1


def a_burst(world, sandbox, workers, broker, **worker_env):
    """BURST messages to a slow partner, and ANSWERS answers to citizens on a slow Telegram."""
    channel = sandbox_channel(world, sandbox, "webhook", read_timeout=5.0)
    sandbox.set_behaviour("webhook", delay=0.3)  # a slow partner: the burst is on the wire when the fault comes
    approved_and_scheduled(world, [channel], n=BURST)
    queued_answers(world, sandbox, sandbox_channel(world, sandbox, "telegram", read_timeout=5.0), n=ANSWERS)
    sandbox.set_behaviour("telegram", delay=0.3)
    worker = workers("w1", pool="prefork", concurrency=3, extra_env=worker_env)
    return channel, worker, worker.proc.pid, sender_app(broker.url)


def test_every_database_connection_cut_twice_in_a_burst_loses_nothing(world, sandbox, broker, workers):
    channel, worker, pid, app = a_burst(world, sandbox, workers, broker)
    inbound = partner_channel(world.a)
    with WebThread(inbound) as web:
        assert tick(app) == BURST and send_answers(app) == ANSWERS
        for share in (4, 2):  # a quarter sent, then half
            wait_for(lambda share=share: sent_count() >= BURST // share, timeout=30, interval=0.05)
            with connection.cursor() as cursor:  # every connection of the test database but this one
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()")
                assert len(cursor.fetchall()) >= 2, "no worker or web connection to cut"
        settle(app)
    check_the_end(world, sandbox, channel, worker, pid, web, app)


def test_redis_clients_killed_then_redis_restarting_empty_in_a_burst_loses_nothing(world, sandbox, broker, workers,
                                                                                  settings):
    cache = f"redis://127.0.0.1:{broker.port}/1"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": cache}}
    channel, worker, pid, app = a_burst(world, sandbox, workers, broker, CACHE_URL=cache)
    inbound = partner_channel(world.a)
    with celery_broker(broker.url), WebThread(inbound) as web:  # the web process enqueues on this Redis too
        assert tick(app) == BURST and send_answers(app) == ANSWERS
        wait_for(lambda: sent_count() >= BURST // 4, timeout=30, interval=0.05)
        killed = redis.Redis(port=broker.port).execute_command("CLIENT", "KILL", "TYPE", "normal")
        assert killed >= 2, "no worker or web client to kill"
        wait_for(lambda: sent_count() >= BURST // 2, timeout=30, interval=0.05)
        broker.stop()  # queued task messages, the cache's entries: all gone
        # A reply while Redis is down: stored and acknowledged; its task, not enqueued, only logged.
        body = json.dumps(partner_item(item_id="while-redis-is-down", text="Is the bridge shut?")).encode()
        assert post_partner(Client(), inbound, body).status_code == 200
        broker.start()
        assert settle(app) > 0  # claimed rows whose task messages were lost: back to pending, then sent
    check_the_end(world, sandbox, channel, worker, pid, web, app)
    outage = Reply.objects.get(provider_id="while-redis-is-down")
    # Its processing was never enqueued: the sweeper finds it in the database.
    assert outage.pk in replies_unprocessed(older_than_seconds=-1, limit=100_000)
