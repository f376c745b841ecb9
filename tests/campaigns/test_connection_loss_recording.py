"""A connection lost while recording a platform's answer is reopened and the answer recorded
(issue 21, section 2): the database drops the sender's connection exactly after the platform said
"sent", and the delivery (or the answer to a citizen) is still recorded as sent, not left in
flight for the reaper to make unconfirmed. No worker here: the send runs in the test's own thread,
and a second connection terminates the first at the ``after_send`` failpoint.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import DatabaseError, connection, connections

from campaigns.models import ChannelHealth, Delivery, DeliveryStatus
from campaigns.publishing import deliveries_claim_due
from campaigns.publishing.send import delivery_send
from core.failpoints import failpoint_hook
from engage.inbound.answer_sending import answer_send
from engage.models import AnswerStatus, ReplyStatus
from platforms.sandbox import Sandbox
from tests.campaigns.test_publishing_faults import approved_and_scheduled, queued_answers, sandbox_channel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("terminating another session's connection is a PostgreSQL feature")


@pytest.fixture
def sandbox():
    box = Sandbox.start()
    yield box
    box.stop()


def terminate_this_threads_connection() -> None:
    """From a second connection, terminate the one this thread uses, and wait until it is gone."""
    pid = connection.connection.info.backend_pid
    failures: list[BaseException] = []

    def kill() -> None:
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                assert cursor.fetchone()[0], "no such backend"
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                    if cursor.fetchone()[0] == 0:
                        return
                    time.sleep(0.01)
                raise AssertionError("the backend did not go")
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            failures.append(exc)
        finally:
            connections.close_all()

    killer = threading.Thread(target=kill)
    killer.start()
    killer.join()
    assert not failures, failures


def cut_once():
    cuts: list[int] = []

    def cut() -> None:
        if not cuts:
            cuts.append(connection.connection.info.backend_pid)
            terminate_this_threads_connection()

    return cuts, cut


def test_a_delivery_whose_connection_drops_after_the_platform_said_sent_is_recorded_sent(world, sandbox):
    telegram = sandbox_channel(world, sandbox, "telegram")  # not idempotent: a lost answer would be unconfirmed
    message = approved_and_scheduled(world, [telegram])[0]
    [(delivery_id, token, _)] = deliveries_claim_due()
    cuts, cut = cut_once()
    with failpoint_hook("after_send", cut):
        assert delivery_send(delivery_id=delivery_id, token=token) == "sent"
    assert cuts and connection.connection.info.backend_pid != cuts[0]  # it was cut, and reopened
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.status == DeliveryStatus.SENT and delivery.in_flight_since is None
    assert [a.outcome for a in delivery.attempt_log.all()] == ["sent"]
    [post] = sandbox.posts("telegram")
    assert delivery.external_id and delivery.external_id in str(post.id)
    message.refresh_from_db()
    assert message.status == "published"


def test_a_connection_dropped_while_the_payload_is_built_is_reopened_not_a_failure(world, sandbox):
    """In flight, before the call: the approved image is read from the database. A connection lost
    there costs nothing: reopened, the payload built, the post sent (it used to be "failed")."""
    from campaigns.publishing import message_schedule
    from campaigns.services import messages as message_services
    from campaigns.services import workflow
    from tests.campaigns.test_approved_snapshot import png
    from tests.factories import make_message

    telegram = sandbox_channel(world, sandbox, "telegram")
    message = make_message(world.a, channels=[telegram])
    message_services.media_add(actor=world.a.officer, message=message, data=png(),
                               alt_text="Map of the roads closed near the stadium")
    message = workflow.message_submit(actor=world.a.officer, message=message)
    message = workflow.message_approve(actor=world.a.supervisor, message=message, expected_hash=message.content_hash)
    message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    [(delivery_id, token, _)] = deliveries_claim_due()
    cuts, cut = cut_once()
    with failpoint_hook("in_flight", cut):
        assert delivery_send(delivery_id=delivery_id, token=token) == "sent"
    assert cuts
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.status == DeliveryStatus.SENT and [a.outcome for a in delivery.attempt_log.all()] == ["sent"]
    [post] = sandbox.posts("telegram")
    assert post.files  # with its image


def test_an_answer_whose_connection_drops_after_the_platform_said_sent_is_recorded_sent(world, sandbox):
    telegram = sandbox_channel(world, sandbox, "telegram")
    [answer] = queued_answers(world, sandbox, telegram)
    cuts, cut = cut_once()
    with failpoint_hook("after_send", cut):
        assert answer_send(answer_id=answer.pk) == "sent"
    assert cuts and connection.connection.info.backend_pid != cuts[0]
    answer.refresh_from_db()
    assert answer.status == AnswerStatus.SENT and answer.in_flight_since is None and answer.external_id
    assert answer.reply.status == ReplyStatus.ANSWERED and answer.reply.first_response_at is not None
    assert len(sandbox.posts("telegram")) == 1


def test_a_connection_dropped_while_marking_an_expired_credential_still_records_the_failure(world, sandbox):
    """The platform refused the credential: the channel's health is written after the call. A
    connection lost there is reopened, the channel marked, and the delivery failed (known), never left
    in flight for the reaper to make unconfirmed."""
    telegram = sandbox_channel(world, sandbox, "telegram")
    approved_and_scheduled(world, [telegram])
    sandbox.set_behaviour("telegram", auth_expired=True)
    [(delivery_id, token, _)] = deliveries_claim_due()
    cuts, cut = cut_once()
    with failpoint_hook("auth_expired", cut):
        assert delivery_send(delivery_id=delivery_id, token=token) == "failed"
    assert cuts and connection.connection.info.backend_pid != cuts[0]
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.status == DeliveryStatus.FAILED and delivery.in_flight_since is None and delivery.last_error
    assert [a.outcome for a in delivery.attempt_log.all()] == ["failed"]
    telegram.refresh_from_db()
    assert telegram.health == ChannelHealth.AUTH_EXPIRED and telegram.health_detail == delivery.last_error
    assert sandbox.posts("telegram") == []


def test_an_answer_whose_channel_health_cannot_be_written_is_still_recorded_failed(world, sandbox):
    """Whatever becomes of the channel's health note, the answer's known outcome is recorded."""
    telegram = sandbox_channel(world, sandbox, "telegram")
    [answer] = queued_answers(world, sandbox, telegram)
    sandbox.set_behaviour("telegram", auth_expired=True)

    def broken() -> None:
        raise DatabaseError("the health note cannot be written")

    with failpoint_hook("auth_expired", broken):
        assert answer_send(answer_id=answer.pk) == "failed"
    answer.refresh_from_db()
    assert answer.status == AnswerStatus.FAILED and answer.in_flight_since is None and answer.last_error
    telegram.refresh_from_db()
    assert telegram.health != ChannelHealth.AUTH_EXPIRED


def test_an_answer_whose_connection_drops_after_its_claim_is_sent_once_after_the_stale_claim_is_released(
        world, sandbox):
    """The steps before an answer's platform call are not retried: a drop there ends the task with
    the error and leaves a claim (never in flight, never unconfirmed). The reaper gives it back after
    ENGAGE_STALE_CLAIM_SECONDS, and the next send posts it, once."""
    from datetime import timedelta

    from django.utils import timezone

    from campaigns.publishing.outbound import STALE_CLAIM
    from core.dbretry import LOST
    from engage.inbound.answer_sending import answers_reap_stuck
    from engage.models import ReplyAnswer

    telegram = sandbox_channel(world, sandbox, "telegram")
    [answer] = queued_answers(world, sandbox, telegram)
    cuts, cut = cut_once()
    with failpoint_hook("before_send", cut), pytest.raises(LOST):
        answer_send(answer_id=answer.pk)
    assert cuts
    connection.close()  # what engage/celery.py does after a task whose connection broke
    answer.refresh_from_db()
    assert answer.status == AnswerStatus.SENDING and answer.claim_token and answer.in_flight_since is None
    assert sandbox.posts("telegram") == []
    assert answers_reap_stuck(now=timezone.now() + STALE_CLAIM - timedelta(seconds=5)) == 0
    assert ReplyAnswer.objects.get(pk=answer.pk).status == AnswerStatus.SENDING  # not stale yet
    assert answers_reap_stuck(now=timezone.now() + STALE_CLAIM + timedelta(seconds=5)) == 0  # none unconfirmed
    assert ReplyAnswer.objects.get(pk=answer.pk).status == AnswerStatus.PENDING
    assert answer_send(answer_id=answer.pk) == "sent"
    assert answer_send(answer_id=answer.pk) == "not-sent"
    answer.refresh_from_db()
    assert answer.status == AnswerStatus.SENT and answer.attempts == 1
    assert len(sandbox.posts("telegram")) == 1
