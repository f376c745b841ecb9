"""Invariant 2 under faults: real Celery worker processes, a private Redis broker, the local
platform sandbox counting what it receives, and the test database shared with the workers.

Each test counts the posts the sandbox received. Nothing is ever posted twice: a delivery ends
posted exactly once, or unconfirmed (flagged for a person) — never duplicated. Answers to citizens
leave through the same engine, and the same faults are run against them (the ``test_answer_*`` and
``test_answers_*`` tests).
"""

from __future__ import annotations

import shutil
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from campaigns import publishing
from campaigns.models import Delivery, DeliveryStatus, MessageStatus
from campaigns.publishing import deliveries_reap_stale
from campaigns.services import workflow
from campaigns.services.channels import channel_create
from engage.inbound import answer_sending
from engage.models import AnswerStatus, Reply, ReplyAnswer
from platforms.sandbox import Sandbox
from tests.engage.inbound.test_answers import replied_to
from tests.engage.inbound_helpers import CHAT_ID
from tests.factories import make_message
from tests.publishing_harness import PrivateRedis, Worker, sender_app, tick, wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server for a private broker"),
]


@pytest.fixture
def broker():
    redis = PrivateRedis()
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def sandbox():
    box = Sandbox.start()
    yield box
    box.stop()


@pytest.fixture
def workers(broker):
    started: list[Worker] = []

    def start(name: str = "w1", **kwargs) -> Worker:
        worker = Worker(broker.url, name=name, **kwargs).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def sandbox_channel(world, sandbox, kind: str, **extra):
    config, secrets = sandbox.config_for(kind)
    return channel_create(actor=world.a.admin, team=world.a.team, kind=kind, name=f"{kind} sandbox",
                          config={**config, **secrets, "read_timeout": 1.0, **extra})


def approved_and_scheduled(world, channels, n: int = 1, body: str = "Roads near the stadium are busy."):
    messages = []
    for i in range(n):
        message = make_message(world.a, body=f"{body} Please allow extra time. Update {i}. #DerbyDay",
                               channels=channels)
        workflow.message_submit(actor=world.a.officer, message=message)
        workflow.message_approve(actor=world.a.supervisor, message=message)
        messages.append(publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None))
    return messages


def statuses() -> dict[str, int]:
    out: dict[str, int] = {}
    for status in Delivery.objects.values_list("status", flat=True):
        out[status] = out.get(status, 0) + 1
    return out


def all_in(*wanted: str):
    return lambda: Delivery.objects.exclude(status__in=wanted).count() == 0


def racing(step, *, until, threads: int = 2, timeout: float = 60) -> None:
    """Run ``step`` over and over in ``threads`` threads at once (two ticks, two sweepers) until ``until()``."""
    stop = threading.Event()

    def loop():
        try:
            while not stop.is_set():
                step()
                time.sleep(0.02)
        finally:
            connection.close()

    running = [threading.Thread(target=loop) for _ in range(threads)]
    for thread in running:
        thread.start()
    try:
        wait_for(until, timeout=timeout)
    finally:
        stop.set()
        for thread in running:
            thread.join()


def test_two_workers_and_two_ticks_racing_post_each_delivery_once(world, sandbox, broker, workers):
    mastodon = sandbox_channel(world, sandbox, "mastodon")
    telegram = sandbox_channel(world, sandbox, "telegram")
    approved_and_scheduled(world, [mastodon, telegram], n=10)
    workers("w1")
    workers("w2")
    app = sender_app(broker.url)
    racing(lambda: tick(app), until=all_in(DeliveryStatus.SENT))
    assert len(sandbox.posts("mastodon")) == 10
    assert len(sandbox.posts("telegram")) == 10
    keys = [p.idempotency_key for p in sandbox.posts("mastodon")]
    assert len(set(keys)) == 10
    texts = [p.fields.get("text") for p in sandbox.posts("telegram")]
    assert len(set(texts)) == 10
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.postgres
def test_a_connection_the_database_dropped_between_tasks_costs_no_delivery(world, sandbox, broker, workers):
    """The worker keeps its connection between tasks and skips the health check right after a task.
    If PostgreSQL drops the connection in between (a restart, a failover, an administrator), the
    next delivery reconnects and goes out at once, not after the reaper's five minutes."""
    if connection.vendor != "postgresql":
        pytest.skip("terminating another session's connection is a PostgreSQL feature")
    telegram = sandbox_channel(world, sandbox, "telegram")
    approved_and_scheduled(world, [telegram])
    worker = workers("w1")
    app = sender_app(broker.url)
    wait_for(all_in(DeliveryStatus.SENT), tick_with=app, timeout=30)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        assert cursor.fetchall(), "the worker held no connection to drop"
    approved_and_scheduled(world, [telegram], body="Gates open at 13:00.")
    assert tick(app) == 1
    wait_for(all_in(DeliveryStatus.SENT), timeout=20)
    assert len(sandbox.posts("telegram")) == 2
    assert worker.saw("reconnecting once")


def test_worker_killed_before_the_platform_call_posts_once_after_recovery(world, sandbox, broker, workers):
    telegram = sandbox_channel(world, sandbox, "telegram")
    approved_and_scheduled(world, [telegram])
    doomed = workers("doomed", extra_env={"ENGAGE_FAILPOINTS": "before_send=sleep:60"})
    app = sender_app(broker.url)
    assert tick(app) == 1
    wait_for(lambda: doomed.saw("campaigns.deliver"), timeout=40)
    doomed.kill()
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SENDING and delivery.in_flight_since is None
    assert sandbox.posts("telegram") == []
    # Five minutes later the reaper gives the stale claim back; the next tick sends it.
    assert deliveries_reap_stale(now=timezone.now() + timedelta(minutes=6))["released"] == 1
    workers("rescuer")
    wait_for(all_in(DeliveryStatus.SENT), tick_with=app, timeout=60)
    assert len(sandbox.posts("telegram")) == 1


def test_worker_killed_after_the_platform_call_is_unconfirmed_never_resent(world, sandbox, broker, workers):
    telegram = sandbox_channel(world, sandbox, "telegram")
    message = approved_and_scheduled(world, [telegram])[0]
    doomed = workers("doomed", extra_env={"ENGAGE_FAILPOINTS": "after_send=sleep:60"})
    app = sender_app(broker.url)
    tick(app)
    wait_for(lambda: len(sandbox.posts("telegram")) == 1, timeout=40)
    doomed.kill()
    assert Delivery.objects.get().in_flight_since is not None
    result = deliveries_reap_stale(now=timezone.now() + timedelta(minutes=10))
    assert result["unconfirmed"] == 1
    workers("after")
    for _ in range(10):
        tick(app)
        time.sleep(0.1)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.UNCONFIRMED
    assert "check before reposting" in delivery.last_error
    assert len(sandbox.posts("telegram")) == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED  # nothing confirmed: a person must look


def test_worker_killed_after_the_call_on_an_idempotent_platform_is_retried_safely(world, sandbox, broker, workers):
    mastodon = sandbox_channel(world, sandbox, "mastodon")
    approved_and_scheduled(world, [mastodon])
    doomed = workers("doomed", extra_env={"ENGAGE_FAILPOINTS": "after_send=sleep:60"})
    app = sender_app(broker.url)
    tick(app)
    wait_for(lambda: len(sandbox.posts("mastodon")) == 1, timeout=40)
    doomed.kill()
    assert deliveries_reap_stale(now=timezone.now() + timedelta(minutes=10))["retried"] == 1
    workers("after")
    wait_for(all_in(DeliveryStatus.SENT), tick_with=app, timeout=60)
    assert len(sandbox.posts("mastodon")) == 1  # Mastodon deduplicated on our Idempotency-Key
    assert Delivery.objects.get().attempts == 2


def test_platform_500s_then_recovers(world, sandbox, broker, workers):
    telegram = sandbox_channel(world, sandbox, "telegram")
    sandbox.set_behaviour("telegram", fail=2)
    approved_and_scheduled(world, [telegram])
    workers()
    wait_for(all_in(DeliveryStatus.SENT), tick_with=sender_app(broker.url), timeout=60)
    delivery = Delivery.objects.get()
    assert delivery.attempts == 3
    assert [a.http_status for a in delivery.attempt_log.order_by("id")] == [500, 500, 200] or \
        [a.outcome for a in delivery.attempt_log.order_by("id")] == ["transient", "transient", "sent"]
    assert len(sandbox.posts("telegram")) == 1


def test_platform_429_is_retried_after_the_time_it_asks(world, sandbox, broker, workers):
    telegram = sandbox_channel(world, sandbox, "telegram")
    sandbox.set_behaviour("telegram", rate_limit=1, retry_after=2)
    approved_and_scheduled(world, [telegram])
    workers()
    app = sender_app(broker.url)
    tick(app)
    wait_for(lambda: Delivery.objects.filter(status=DeliveryStatus.PENDING, attempts=1).exists(), timeout=40)
    delivery = Delivery.objects.get()
    assert delivery.next_attempt_at >= delivery.updated_at + timedelta(seconds=1.5)
    wait_for(all_in(DeliveryStatus.SENT), tick_with=app, timeout=60)
    assert len(sandbox.posts("telegram")) == 1


def test_timeout_after_sending_is_unconfirmed_on_telegram(world, sandbox, broker, workers):
    telegram = sandbox_channel(world, sandbox, "telegram")
    sandbox.set_behaviour("telegram", hang=1, hang_seconds=5)
    approved_and_scheduled(world, [telegram])
    workers()
    app = sender_app(broker.url)
    wait_for(all_in(DeliveryStatus.UNCONFIRMED), tick_with=app, timeout=60)
    for _ in range(5):
        tick(app)
    assert len(sandbox.posts("telegram")) == 1


def test_timeout_after_sending_is_retried_with_the_same_key_on_mastodon(world, sandbox, broker, workers):
    mastodon = sandbox_channel(world, sandbox, "mastodon")
    sandbox.set_behaviour("mastodon", hang=1, hang_seconds=5)
    approved_and_scheduled(world, [mastodon])
    workers()
    wait_for(all_in(DeliveryStatus.SENT), tick_with=sender_app(broker.url), timeout=40)
    assert len(sandbox.posts("mastodon")) == 1


def test_broker_down_when_scheduled_loses_nothing(world, sandbox, broker, workers):
    telegram = sandbox_channel(world, sandbox, "telegram")
    broker.stop()
    approved_and_scheduled(world, [telegram], n=3)
    app = sender_app(broker.url)
    assert tick(app) == 0  # nothing could be enqueued ...
    assert statuses() == {DeliveryStatus.PENDING: 3}  # ... and nothing is stuck as "sending"
    broker.start()
    workers()
    wait_for(all_in(DeliveryStatus.SENT), tick_with=sender_app(broker.url), timeout=60)
    assert len(sandbox.posts("telegram")) == 3


def test_pause_while_deliveries_are_in_flight(world, sandbox, broker, workers):
    telegram = sandbox_channel(world, sandbox, "telegram", read_timeout=10.0)
    sandbox.set_behaviour("telegram", delay=2.0)
    approved_and_scheduled(world, [telegram], n=4)
    workers()
    app = sender_app(broker.url)
    assert tick(app) == 4
    wait_for(lambda: Delivery.objects.filter(in_flight_since__isnull=False).count() == 1, timeout=40)
    publishing.publishing_pause(actor=world.a.supervisor, reason="Incident: hold everything", team=world.a.team.pk)
    # The one already on the wire completes; the three claimed but not started go back to wait.
    wait_for(lambda: Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 1, timeout=40)
    for _ in range(20):
        tick(app)
        time.sleep(0.2)
    assert statuses() == {DeliveryStatus.SENT: 1, DeliveryStatus.PENDING: 3}
    assert len(sandbox.posts("telegram")) == 1
    publishing.publishing_resume(actor=world.a.supervisor, reason="Clear", team=world.a.team.pk)
    sandbox.set_behaviour("telegram")
    wait_for(all_in(DeliveryStatus.SENT), tick_with=app, timeout=60)
    assert len(sandbox.posts("telegram")) == 4



# --- the same faults for answers to citizens: they leave through the same engine ----------------------

def queued_answers(world, sandbox, channel, n: int = 1, *, kind: str = "telegram") -> list[ReplyAnswer]:
    """Template answers to ``n`` new replies on ``channel``, pending (queued, not sent yet)."""
    from engage.inbound import answers
    from engage.inbound.ingest import reply_store
    from engage.inbound.processing import reply_process
    from engage.models import AnswerTemplate
    from tests.factories import ensure_shipped_answers

    ensure_shipped_answers()  # an earlier transactional test's flush may have emptied them
    template = AnswerTemplate.objects.get(team=None, title="Thank you, we have read it", language="en")
    queued = []
    for i in range(n):
        if kind == "mastodon":  # the citizen's status exists on the platform: the answer is in reply to it
            from platforms import get_adapter
            from platforms.base import Payload

            config, secrets = sandbox.config_for("mastodon")
            citizen = get_adapter("mastodon", config=config, secrets=secrets).publish(
                Payload(text=f"@police when does the march start? {i}"), idempotency_key=f"citizen-{i}")
            stored = reply_store(team_id=world.a.team.pk, channel=channel, source="mastodon",
                                 provider_id=citizen.external_id, text="When does the march start?",
                                 author_handle="@sam@example.social")
        else:
            stored = reply_store(team_id=world.a.team.pk, channel=channel, source="telegram",
                                 provider_id=f"{CHAT_ID}:{700 + i}", text="What time do the gates open?",
                                 author_handle=f"@person{i}")
        reply_process(reply_id=stored.reply_id)
        queued.append(answers.answer_from_template(actor=world.a.liaison, reply=Reply.objects.get(pk=stored.reply_id),
                                                   template=template))
    return queued


def send_answers(app) -> int:
    """What the sweeper asks for: one ``engage.send_answer`` task per due answer, on ``app``'s broker."""
    from engage.inbound.answer_sending import answers_due

    due = answers_due(older_than_seconds=-1)
    for answer_id in due:
        app.send_task("engage.send_answer", kwargs={"answer_id": answer_id}, queue="urgent", retry=False)
    return len(due)


def answers_in(*wanted: str):
    return lambda: ReplyAnswer.objects.exclude(status__in=wanted).count() == 0


def wait_for_answers(condition, app, *, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        send_answers(app)
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the answers")


def test_answers_two_workers_and_two_senders_racing_post_each_answer_once(world, sandbox, broker, workers):
    telegram = sandbox_channel(world, sandbox, "telegram")
    queued_answers(world, sandbox, telegram, n=8)
    workers("w1")
    workers("w2")
    app = sender_app(broker.url)
    racing(lambda: send_answers(app), until=answers_in(AnswerStatus.SENT))
    assert sorted(replied_to(p) for p in sandbox.posts("telegram")) == list(range(700, 708))  # each once
    assert set(ReplyAnswer.objects.values_list("attempts", flat=True)) == {1}


def test_answer_worker_killed_before_the_platform_call_posts_once_after_recovery(world, sandbox, broker, workers):
    telegram = sandbox_channel(world, sandbox, "telegram")
    [answer] = queued_answers(world, sandbox, telegram)
    doomed = workers("doomed", extra_env={"ENGAGE_FAILPOINTS": "before_send=sleep:60"})
    app = sender_app(broker.url)
    assert send_answers(app) == 1
    wait_for(lambda: ReplyAnswer.objects.filter(status=AnswerStatus.SENDING).exists(), timeout=40)
    doomed.kill()
    answer.refresh_from_db()
    assert answer.status == AnswerStatus.SENDING and answer.claim_token and answer.in_flight_since is None
    assert sandbox.posts("telegram") == []
    # The engine's reaper gives the stale claim back; the next send posts it, once.
    assert answer_sending.answers_reap_stuck(now=timezone.now() + timedelta(minutes=6)) == 0
    assert ReplyAnswer.objects.get(pk=answer.pk).status == AnswerStatus.PENDING
    workers("rescuer")
    wait_for_answers(answers_in(AnswerStatus.SENT), app)
    assert len(sandbox.posts("telegram")) == 1


def test_answer_worker_killed_after_the_platform_call_is_unconfirmed_never_resent(world, sandbox, broker, workers):
    telegram = sandbox_channel(world, sandbox, "telegram")
    [answer] = queued_answers(world, sandbox, telegram)
    doomed = workers("doomed", extra_env={"ENGAGE_FAILPOINTS": "after_send=sleep:60"})
    app = sender_app(broker.url)
    send_answers(app)
    wait_for(lambda: len(sandbox.posts("telegram")) == 1, timeout=40)
    doomed.kill()
    assert ReplyAnswer.objects.get(pk=answer.pk).in_flight_since is not None
    assert answer_sending.answers_reap_stuck(now=timezone.now() + timedelta(minutes=10)) == 1
    workers("after")
    for _ in range(10):
        send_answers(app)
        time.sleep(0.1)
    answer.refresh_from_db()
    assert answer.status == AnswerStatus.UNCONFIRMED and "check before reposting" in answer.last_error
    assert len(sandbox.posts("telegram")) == 1


def test_answer_worker_killed_after_the_call_on_an_idempotent_platform_is_retried_safely(world, sandbox, broker,
                                                                                       workers):
    mastodon = sandbox_channel(world, sandbox, "mastodon")
    [answer] = queued_answers(world, sandbox, mastodon, kind="mastodon")
    citizen_posts = len(sandbox.posts("mastodon"))
    doomed = workers("doomed", extra_env={"ENGAGE_FAILPOINTS": "after_send=sleep:60"})
    app = sender_app(broker.url)
    send_answers(app)
    wait_for(lambda: len(sandbox.posts("mastodon")) == citizen_posts + 1, timeout=40)
    doomed.kill()
    assert answer_sending.answers_reap_stuck(now=timezone.now() + timedelta(minutes=10)) == 0  # retried, not unconfirmed
    workers("after")
    wait_for_answers(answers_in(AnswerStatus.SENT), app)
    assert len(sandbox.posts("mastodon")) == citizen_posts + 1  # Mastodon deduplicated on our Idempotency-Key
    assert ReplyAnswer.objects.get(pk=answer.pk).attempts == 2


def test_answer_platform_500s_then_recovers(world, sandbox, broker, workers):
    telegram = sandbox_channel(world, sandbox, "telegram")
    sandbox.set_behaviour("telegram", fail=2)
    [answer] = queued_answers(world, sandbox, telegram)
    workers()
    wait_for_answers(answers_in(AnswerStatus.SENT), sender_app(broker.url))
    assert ReplyAnswer.objects.get(pk=answer.pk).attempts == 3  # backoff from settings (0.2 s in the workers)
    assert len(sandbox.posts("telegram")) == 1


def test_answer_platform_429_is_retried_after_the_time_it_asks(world, sandbox, broker, workers):
    telegram = sandbox_channel(world, sandbox, "telegram")
    sandbox.set_behaviour("telegram", rate_limit=1, retry_after=2)
    [answer] = queued_answers(world, sandbox, telegram)
    workers()
    app = sender_app(broker.url)
    started = timezone.now()
    send_answers(app)
    wait_for(lambda: ReplyAnswer.objects.filter(status=AnswerStatus.PENDING, attempts=1).exists(), timeout=40)
    assert ReplyAnswer.objects.get(pk=answer.pk).next_attempt_at >= started + timedelta(seconds=1.5)
    wait_for_answers(answers_in(AnswerStatus.SENT), app)
    assert len(sandbox.posts("telegram")) == 1


def test_answer_timeout_after_sending_is_unconfirmed_on_telegram(world, sandbox, broker, workers):
    telegram = sandbox_channel(world, sandbox, "telegram")
    sandbox.set_behaviour("telegram", hang=1, hang_seconds=5)
    queued_answers(world, sandbox, telegram)
    workers()
    app = sender_app(broker.url)
    wait_for_answers(answers_in(AnswerStatus.UNCONFIRMED), app)
    for _ in range(5):
        send_answers(app)
    time.sleep(1)
    assert len(sandbox.posts("telegram")) == 1


def test_answer_timeout_after_sending_is_retried_with_the_same_key_on_mastodon(world, sandbox, broker, workers):
    mastodon = sandbox_channel(world, sandbox, "mastodon")
    [answer] = queued_answers(world, sandbox, mastodon, kind="mastodon")
    citizen_posts = len(sandbox.posts("mastodon"))
    sandbox.set_behaviour("mastodon", hang=1, hang_seconds=5)
    workers()
    wait_for_answers(answers_in(AnswerStatus.SENT), sender_app(broker.url))
    assert len(sandbox.posts("mastodon")) == citizen_posts + 1
    assert ReplyAnswer.objects.get(pk=answer.pk).attempts == 2


def test_answer_broker_down_loses_nothing(world, sandbox, broker, workers):
    telegram = sandbox_channel(world, sandbox, "telegram")
    broker.stop()
    queued_answers(world, sandbox, telegram, n=3)
    app = sender_app(broker.url)
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the client raises: nothing was enqueued
        send_answers(app)
    assert set(ReplyAnswer.objects.values_list("status", flat=True)) == {AnswerStatus.PENDING}  # nothing stuck
    broker.start()
    workers()
    wait_for_answers(answers_in(AnswerStatus.SENT), sender_app(broker.url))
    assert len(sandbox.posts("telegram")) == 3
