"""The routine tick has a queue of its own, so it never waits behind the deliveries it enqueued;
every worker command consumes it, and a worker that does routine work without it says so."""

from __future__ import annotations

from django.conf import settings

from engage.celery import app, missing_tick_queue


def test_the_beats_tick_is_routed_to_the_ticks_queue_and_deliveries_are_not():
    route = app.amqp.router.route
    assert route({}, "campaigns.tick")["queue"].name == "ticks"
    assert route({}, "campaigns.tick_urgent")["queue"].name == "urgent"
    assert route({}, "campaigns.deliver")["queue"].name == "default"
    assert route({}, "engage.process_reply")["queue"].name == "default"


def test_every_worker_command_consumes_the_ticks_queue():
    from engage.management.commands import run
    from tests import publishing_harness

    assert settings.ENGAGE_WORKER_QUEUES.split(",") == ["urgent", "ticks", "default"]
    for module in (run, publishing_harness):
        assert "settings.ENGAGE_WORKER_QUEUES" in open(module.__file__, encoding="utf-8").read()


def test_a_routine_worker_without_the_ticks_queue_is_flagged():
    assert missing_tick_queue({"urgent", "default"}, "ticks")
    assert missing_tick_queue({"default"}, "ticks")
    assert not missing_tick_queue({"urgent", "ticks", "default"}, "ticks")
    assert not missing_tick_queue({"urgent"}, "ticks")  # an urgent-only pool does no routine work
