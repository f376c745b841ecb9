"""The database committed a worker's write and the connection went before its answer came back
(issue 21, section 2). ``core.dbretry.with_reconnect`` asks the new connection whether the write is
there before writing again; a second write would find nothing (it is conditional) and be taken for
"someone else got there first". So the delivery marked in flight is still sent, and the outcome
recorded is still settled onto its message.

The lost answer is made by Django's own query hook (``connection.execute_wrapper``): the statement
runs and commits, then the driver's error is raised as if the connection had gone. Outside any
transaction only (``with_reconnect`` leaves a lost connection inside one to its caller), so these are
transactional tests, run on PostgreSQL, where a delivery's outcome is one statement (on SQLite it is
a transaction of three, whose commit the hook cannot follow).
"""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection

from campaigns.models import Delivery, DeliveryAttempt, DeliveryStatus, Message, MessageStatus
from campaigns.publishing import deliveries_claim_due, delivery_begin, delivery_finish
from tests.invariants.test_never_twice import scheduled

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("a delivery's outcome is one statement on PostgreSQL only; see the module's note")


def answer_lost_after(fragment: str):
    """A query hook: the first statement containing ``fragment`` runs (and, in autocommit, commits),
    then fails as a dropped connection does. Returns the hook and the list of statements it cut."""
    cut: list[str] = []

    def hook(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not cut and fragment in sql:
            cut.append(sql)
            raise OperationalError("server closed the connection unexpectedly")
        return result

    return hook, cut


def test_a_delivery_whose_in_flight_mark_committed_before_the_connection_went_is_still_sent(world):
    message = scheduled(world.a, channels=[world.a.public])
    [(delivery_id, token, _)] = deliveries_claim_due()
    hook, cut = answer_lost_after('SET "in_flight_since"')
    with connection.execute_wrapper(hook):
        permit = delivery_begin(delivery_id=delivery_id, token=token)
    assert cut, "the in-flight mark was not cut"
    assert permit is not None, "a committed in-flight mark was taken for a lost claim: nothing would be sent"
    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.attempts, delivery.in_flight_since) == (
        DeliveryStatus.SENDING,
        1,
        permit.delivery.in_flight_since,
    )
    assert delivery_finish(permit=permit, token=token, outcome="sent", external_id="post-1") == 1
    assert Message.objects.get(pk=message.pk).status == MessageStatus.PUBLISHED


def test_an_outcome_that_committed_before_the_connection_went_is_recorded_once_and_settled(world):
    message = scheduled(world.a, channels=[world.a.public])
    [(delivery_id, token, _)] = deliveries_claim_due()
    permit = delivery_begin(delivery_id=delivery_id, token=token)
    hook, cut = answer_lost_after("WITH done AS (UPDATE")
    with connection.execute_wrapper(hook):
        assert delivery_finish(permit=permit, token=token, outcome="sent", external_id="post-1") == 1
    assert cut, "the outcome's statement was not cut"
    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.external_id) == (DeliveryStatus.SENT, "post-1")
    assert [a.outcome for a in DeliveryAttempt.objects.filter(delivery_id=delivery_id)] == ["sent"]
    assert Message.objects.get(pk=message.pk).status == MessageStatus.PUBLISHED
