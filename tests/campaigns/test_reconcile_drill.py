"""The crash drill of issue 21: a burst to a slow partner webhook that offers the status look-up, the
whole worker (its pool with it) SIGKILLed in the middle, then what the beat does (the reaper, the
reconciler, the tick) and a new worker. Every delivery ends sent, none unconfirmed, and the partner
received each key exactly once. Real Celery worker processes, a private Redis broker, the sandbox's
partner over real HTTP, the test database shared with the workers (PostgreSQL in CI's Postgres job)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

from django.utils import timezone

from accounts.models import AuditEvent
from campaigns.models import Delivery, DeliveryStatus
from campaigns.publishing import deliveries_reap_stale
from campaigns.publishing.reconcile import deliveries_reconcile
from tests.campaigns.test_publishing_faults import (  # noqa: F401 - the fault tests' fixtures
    all_in,
    approved_and_scheduled,
    broker,
    pytestmark,
    sandbox,
    sandbox_channel,
    workers,
)
from tests.publishing_harness import sender_app, tick, wait_for

BURST = 40
PARTNER_DELAY = 0.15  # seconds the partner takes over each request


def received_per_key(sandbox) -> Counter:  # noqa: F811
    """What the partner received: every POST it handled, answered or not, by idempotency key."""
    return Counter(r.headers.get("idempotency-key") for r in sandbox.requests("webhook")
                   if r.op == "delivery" and r.outcome != "failed")


def test_a_burst_killed_mid_way_ends_all_sent_none_twice_none_unconfirmed(world, sandbox, broker, workers):  # noqa: F811
    hook = sandbox_channel(world, sandbox, "webhook", status_lookup=True, read_timeout=5.0)
    approved_and_scheduled(world, [hook], n=BURST)
    sandbox.set_behaviour("webhook", delay=PARTNER_DELAY, applies_to="all")
    doomed = workers("doomed", pool="prefork", concurrency=3)
    app = sender_app(broker.url)
    assert tick(app) == BURST
    wait_for(lambda: sum(received_per_key(sandbox).values()) >= BURST // 3, timeout=40, interval=0.02)
    doomed.kill()  # the whole process group: the pool's children die mid-call
    # The partner finishes what reached it before the kill (the reconciler's grace period, in short).
    time.sleep(PARTNER_DELAY + 0.5)
    in_flight = Delivery.objects.filter(status=DeliveryStatus.SENDING, in_flight_since__isnull=False).count()
    later = timezone.now() + timedelta(minutes=10)
    reaped = deliveries_reap_stale(now=later)
    assert reaped["unconfirmed"] == in_flight >= 1, (reaped, in_flight)
    settled = deliveries_reconcile(now=later)
    assert sum(settled.values()) == in_flight and "unconfirmed" not in settled, settled
    workers("rescuer", pool="prefork", concurrency=3)
    wait_for(all_in(DeliveryStatus.SENT), tick_with=app, timeout=60, interval=0.2)
    keys = set(Delivery.objects.values_list("idempotency_key", flat=True))
    received = received_per_key(sandbox)
    assert set(received) == keys and set(received.values()) == {1}, "a delivery was posted twice or never"
    assert Delivery.objects.filter(status=DeliveryStatus.UNCONFIRMED).count() == 0
    assert AuditEvent.objects.filter(verb="delivery.looked_up").count() == in_flight
