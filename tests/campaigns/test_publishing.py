"""Scheduling, the delivery life cycle, the pause and withdrawal, in-process against the sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent, Notification
from campaigns import publishing
from campaigns.models import Delivery, DeliveryStatus, Message, MessageStatus, PublishingPause
from campaigns.publishing import (
    deliveries_claim_due,
    delivery_send,
    delivery_take_down,
    lifecycle,
    plan_deliveries,
)
from campaigns.services import messages as message_services
from campaigns.services import workflow
from campaigns.services.channels import channel_create
from campaigns.services.recipients import recipient_add
from core.errors import NotAllowed, WrongState
from tests.factories import make_approved, make_message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reset(sandbox):
    sandbox.reset()


def channel(world, sandbox, kind, **extra):
    config, secrets = sandbox.config_for(kind)
    made = channel_create(actor=world.a.admin, team=world.a.team, kind=kind, name=f"{kind}-{len(extra)}",
                          config={**config, **secrets, "read_timeout": 1.0, **extra})
    if kind == "sms":
        recipient_add(actor=world.a.admin, channel=made, address="+447700900001", consent_source="test")
    return made


def send_due() -> list[str]:
    return [delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due()]


def schedule_now(world, message):
    return publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)


def test_plan_one_row_per_variant_and_channel_with_sms_short_replacing_the_original(world, sandbox):
    telegram, sms = channel(world, sandbox, "telegram"), channel(world, sandbox, "sms")
    message = make_message(world.a, channels=[telegram, sms])
    message_services.variant_add(actor=world.a.officer, message=message, language="ar",
                                 body="الطرق مزدحمة. يرجى استخدام القطار. #DerbyDay")
    message_services.variant_add(actor=world.a.officer, message=message, language="en", format="sms_short",
                                 body="Derby: roads busy, use the train. #DerbyDay", channels=[sms])
    plan = {(p.variant.language if p.variant else "orig", p.variant.format if p.variant else "", p.channel.kind)
            for p in plan_deliveries(message)}
    assert plan == {("orig", "", "telegram"), ("ar", "standard", "telegram"), ("ar", "standard", "sms"),
                    ("en", "sms_short", "sms")}


def test_schedule_in_the_future_waits_then_goes_out_once(world, sandbox):
    telegram = channel(world, sandbox, "telegram")
    message = make_approved(world.a, channels=[telegram])
    later = timezone.now() + timedelta(hours=1)
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=later)
    assert send_due() == []
    Delivery.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    assert send_due() == ["sent"]
    assert send_due() == []
    assert len(sandbox.posts("telegram")) == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.PUBLISHED
    delivery = Delivery.objects.get()
    assert delivery.external_id and delivery.attempts == 1


def test_scheduling_needs_approval_and_a_drafter(world, sandbox):
    draft = make_message(world.a)
    with pytest.raises(WrongState):
        publishing.message_schedule(actor=world.a.officer, message=draft, scheduled_at=None)
    approved = make_approved(world.a)
    with pytest.raises(NotAllowed):
        publishing.message_schedule(actor=world.a.liaison, message=approved, scheduled_at=None)


def test_the_worker_refuses_content_changed_behind_the_services_back(world, sandbox):
    telegram = channel(world, sandbox, "telegram")
    message = make_approved(world.a, channels=[telegram])
    schedule_now(world, message)
    # A write that bypasses the services (no new version, no voided approval):
    Message.objects.filter(pk=message.pk).update(body="Something nobody approved")
    assert send_due() == ["not-sent"]
    assert sandbox.posts("telegram") == []
    assert Delivery.objects.get().status == DeliveryStatus.SKIPPED


@pytest.mark.parametrize("change", ["withdrawn", "hash_rewritten"])
def test_a_change_landing_between_the_check_and_the_send_stops_it(world, sandbox, monkeypatch, change):
    """The worker checks the message, then marks the delivery in flight only if the message is still
    sendable with the hash it checked. A withdrawal committed in that instant, or a write behind the
    services' back, stops the send; the delivery is withdrawn or skipped, never left claimed."""
    telegram = channel(world, sandbox, "telegram")
    message = schedule_now(world, make_approved(world.a, channels=[telegram]))
    [(delivery_id, token, _)] = deliveries_claim_due()
    checked = lifecycle._content_matches_approval

    def check_then_change(loaded):
        ok = checked(loaded)
        if change == "withdrawn":
            publishing.message_withdraw(actor=world.a.supervisor, message=message, reason="Appeal resolved")
        else:
            Message.objects.filter(pk=loaded.pk).update(content_hash="0" * 64)
        return ok

    monkeypatch.setattr(lifecycle, "_content_matches_approval", check_then_change)
    assert delivery_send(delivery_id=delivery_id, token=token) == "not-sent"
    assert sandbox.posts("telegram") == []
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.in_flight_since is None and delivery.attempts == 0
    if change == "withdrawn":
        assert delivery.status == DeliveryStatus.WITHDRAWN
    else:
        assert (delivery.status, delivery.last_error) == (DeliveryStatus.SKIPPED,
                                                          "The message changed just before sending")


def test_edit_after_scheduling_stops_the_pending_deliveries(world, sandbox):
    telegram = channel(world, sandbox, "telegram")
    message = schedule_now(world, make_approved(world.a, channels=[telegram]))
    message_services.message_update(actor=world.a.officer, message=message, body=message.body + " Updated.")
    assert send_due() == []
    assert Delivery.objects.get().status == DeliveryStatus.SKIPPED
    assert sandbox.posts("telegram") == []


def test_pause_stops_everything_and_resume_holds_the_long_overdue(world, sandbox):
    telegram = channel(world, sandbox, "telegram")
    first = schedule_now(world, make_approved(world.a, channels=[telegram]))
    publishing.publishing_pause(actor=world.a.supervisor, reason="Major incident", team=world.a.team.pk)
    assert deliveries_claim_due() == []
    with pytest.raises(NotAllowed):
        publishing.publishing_pause(actor=world.a.officer, reason="no", team=world.a.team.pk)
    Delivery.objects.filter(message=first).update(due_at=timezone.now() - timedelta(hours=1))
    held = publishing.publishing_resume(actor=world.a.supervisor, reason="Clear", team=world.a.team.pk)
    assert held == 1
    assert deliveries_claim_due() == []  # waiting for review, not sent at once
    delivery = Delivery.objects.get(message=first)
    publishing.delivery_release(actor=world.a.supervisor, delivery=delivery, send=True)
    assert send_due() == ["sent"]
    assert AuditEvent.objects.filter(verb__in=["publishing.paused", "publishing.resumed"]).count() == 2


def test_global_pause_needs_a_force_level_supervisor(world):
    with pytest.raises(NotAllowed):
        publishing.publishing_pause(actor=world.a.supervisor, reason="All stop", team=None)


def test_emergency_during_pause_needs_a_second_supervisor(world, sandbox):
    telegram = channel(world, sandbox, "telegram")
    publishing.publishing_pause(actor=world.a.supervisor, reason="Incident", team=world.a.team.pk)
    message = make_message(world.a, author=world.a.supervisor, urgency="emergency", channels=[telegram],
                           body="Please move away from Station Road now, calmly. If you are in danger call 999.")
    workflow.message_submit(actor=world.a.supervisor, message=message)
    workflow.message_approve(actor=world.a.supervisor, message=message)  # self-approved emergency
    assert send_due() == []
    with pytest.raises(NotAllowed):
        publishing.emergency_pause_override(actor=world.a.supervisor, message=message)
    publishing.emergency_pause_override(actor=world.a.supervisor2, message=message)
    assert send_due() == ["sent"]
    assert len(sandbox.posts("telegram")) == 1


def test_failure_after_retries_alerts_author_and_supervisors(world, sandbox, settings):
    telegram = channel(world, sandbox, "telegram")
    sandbox.set_behaviour("telegram", fail=100)
    message = schedule_now(world, make_approved(world.a, channels=[telegram]))
    for _ in range(publishing.MAX_ATTEMPTS):
        Delivery.objects.update(next_attempt_at=None)
        send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == publishing.MAX_ATTEMPTS
    alerted = set(Notification.objects.filter(kind="delivery_failed").values_list("user_id", flat=True))
    assert alerted == {world.a.supervisor.pk, world.a.supervisor2.pk}  # the author hears of the message
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    sandbox.set_behaviour("telegram")
    publishing.delivery_retry(actor=world.a.officer, delivery=delivery)
    assert send_due() == ["sent"]
    message.refresh_from_db()
    assert message.status == MessageStatus.PUBLISHED


def test_unconfirmed_is_resolved_by_a_person_never_resent_automatically(world, sandbox):
    telegram = channel(world, sandbox, "telegram")
    sandbox.set_behaviour("telegram", drop=1)
    schedule_now(world, make_approved(world.a, channels=[telegram]))
    assert send_due() == ["unconfirmed"]
    assert send_due() == []
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.UNCONFIRMED
    publishing.delivery_resolve_unconfirmed(actor=world.a.officer, delivery=delivery, posted=True)
    assert Delivery.objects.get().status == DeliveryStatus.SENT
    assert len(sandbox.posts("telegram")) == 1


def test_withdraw_takes_down_where_possible_and_lists_the_rest(world, sandbox):
    telegram, sms = channel(world, sandbox, "telegram"), channel(world, sandbox, "sms")
    message = schedule_now(world, make_approved(world.a, channels=[telegram, sms]))
    assert sorted(send_due()) == ["sent", "sent"]
    with pytest.raises(NotAllowed):
        publishing.message_withdraw(actor=world.a.officer, message=message)
    publishing.message_withdraw(actor=world.a.supervisor, message=message, reason="Appeal resolved")
    for delivery in Delivery.objects.all():
        delivery_take_down(delivery_id=delivery.pk)
    by_kind = {d.channel.kind: d for d in Delivery.objects.select_related("channel")}
    assert by_kind["telegram"].status == DeliveryStatus.WITHDRAWN
    assert by_kind["sms"].status == DeliveryStatus.SENT and by_kind["sms"].manual_takedown
    assert sandbox.posts("telegram") == []  # deleted on the platform
    message.refresh_from_db()
    assert message.status == MessageStatus.WITHDRAWN


@pytest.fixture
def take_downs_run(monkeypatch):
    """The broker, as a worker would see it: every take-down enqueued runs at once, unless
    ``ran.held`` (it waits behind a queue of deliveries); the ids enqueued."""
    from core import queue

    class Ran(list):
        held = False

    ran = Ran()
    task = queue.task_named("campaigns.take_down")

    def run(**options):
        ran.append(options["kwargs"]["delivery_id"])
        if not ran.held:
            task.run(**options["kwargs"])

    monkeypatch.setattr(task, "apply_async", run)
    queue.broker_backoff_reset()
    return ran


def test_a_withdrawn_post_whose_take_down_was_lost_comes_down_with_the_reaper(world, sandbox, settings,
                                                                               take_downs_run):
    from django.core.cache import cache

    from campaigns.publishing.tasks import take_downs_again
    from campaigns.publishing.withdraw import take_downs_outstanding

    cache.clear()
    telegram = channel(world, sandbox, "telegram")
    withdrawn = schedule_now(world, make_approved(world.a, channels=[telegram]))
    staying = schedule_now(world, make_approved(world.a, channels=[telegram], title="Still true"))
    by_hand = schedule_now(world, make_approved(world.a, channels=[telegram], title="Too old"))
    assert send_due() == ["sent"] * 3
    for message in (withdrawn, by_hand):
        publishing.message_withdraw(actor=world.a.supervisor, message=message, reason="Out of date")
    assert take_downs_run == []  # the take-down tasks were lost (the broker restarted empty)
    Delivery.objects.filter(message=by_hand).update(manual_takedown=True)  # waits for a person
    mine = Delivery.objects.get(message=withdrawn)
    # Not while a delayed take-down of a call then in flight may still come...
    assert take_downs_outstanding() == []
    # ...but once the withdrawal is older than that, the reaper asks again, once.
    Message.objects.filter(status=MessageStatus.WITHDRAWN).update(
        withdrawn_at=timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 181))
    assert take_downs_outstanding() == [mine.pk]
    take_downs_run.held = True  # while that take-down waits in the queue, it is not enqueued again
    assert (take_downs_again(), take_downs_again()) == (1, 0) and take_downs_run == [mine.pk]
    assert Delivery.objects.get(pk=mine.pk).status == DeliveryStatus.SENT
    cache.clear()  # ten minutes later it is still up: ask again
    take_downs_run.held = False
    assert take_downs_again() == 1 and take_downs_run == [mine.pk, mine.pk]
    assert Delivery.objects.get(pk=mine.pk).status == DeliveryStatus.WITHDRAWN
    # Still up: the published message and the one left for a person; nothing else came down.
    assert sorted(post.id for post in sandbox.posts("telegram")) == sorted(
        Delivery.objects.filter(message__in=[staying, by_hand]).values_list("external_id", flat=True))
    assert take_downs_again() == 0


def test_withdraw_before_sending_stops_pending(world, sandbox):
    telegram = channel(world, sandbox, "telegram")
    message = make_approved(world.a, channels=[telegram])
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=timezone.now() + timedelta(hours=2))
    publishing.message_withdraw(actor=world.a.supervisor, message=message, reason="Out of date")
    Delivery.objects.update(due_at=timezone.now())
    assert send_due() == []
    assert Delivery.objects.get().status == DeliveryStatus.WITHDRAWN


def test_a_stale_or_duplicated_task_message_sends_nothing(world, sandbox):
    telegram = channel(world, sandbox, "telegram")
    schedule_now(world, make_approved(world.a, channels=[telegram]))
    [(delivery_id, token, _)] = deliveries_claim_due()
    assert delivery_send(delivery_id=delivery_id, token=token) == "sent"
    assert delivery_send(delivery_id=delivery_id, token=token) == "not-sent"  # redelivered task
    assert delivery_send(delivery_id=delivery_id, token="forged") == "not-sent"
    assert len(sandbox.posts("telegram")) == 1


def _statements(captured) -> list[str]:
    """The SQL a send ran, without the savepoints the test's transaction turns commits into."""
    return [q["sql"] for q in captured if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def test_a_send_costs_a_pinned_number_of_queries(world, sandbox):
    """The send path is the publishing burst's cost. For a message's last delivery: load and check,
    mark in flight; record the outcome (the delivery, its attempt and its audit row: one statement
    on PostgreSQL, three in a transaction elsewhere); the others' status, and the message's status
    (for the last). None of it joins a table only to sort (the models' default ordering). Pinned so
    that a change to the path shows up here, not only in bench/publish_burst.py."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    telegram, mastodon = channel(world, sandbox, "telegram"), channel(world, sandbox, "mastodon")
    message = make_approved(world.a, channels=[telegram, mastodon])
    schedule_now(world, message)
    claimed = deliveries_claim_due()
    assert len(claimed) == 2
    (first_id, first_token, _), (last_id, last_token, _) = claimed
    assert delivery_send(delivery_id=first_id, token=first_token) == "sent"  # verifies the content hash once
    with CaptureQueriesContext(connection) as captured:
        assert delivery_send(delivery_id=last_id, token=last_token) == "sent"
    statements = _statements(captured)
    one_statement = connection.vendor == "postgresql"
    # On SQLite the outcome is four statements in a transaction: the update, the attempt, the audit
    # chain's head (accounts.audit_chain) and the audit row. On PostgreSQL they are one statement.
    assert len(statements) == (5 if one_statement else 8), "\n".join(statements)
    assert statements[0].startswith("SELECT") and statements[1].startswith("UPDATE")
    if one_statement:
        assert statements[2].startswith("WITH done AS (UPDATE")
    assert statements[-1].startswith("UPDATE") and "campaigns_message" in statements[-1]
    assert not any("accounts_team" in sql for sql in statements), "a join only to sort"
    delivery = Delivery.objects.get(pk=last_id)
    assert delivery.status == DeliveryStatus.SENT and delivery.in_flight_since is None
    [attempt] = delivery.attempt_log.all()
    assert (attempt.outcome, attempt.http_status, attempt.started_at < attempt.finished_at) == ("sent", 200, True)
    event = AuditEvent.objects.get(verb="delivery.sent", target_id=str(last_id))
    assert (event.team_id, event.actor_id, event.summary["external_id"], event.summary["channel"]) == (
        world.a.team.pk, None, delivery.external_id, delivery.channel.kind)
    message.refresh_from_db()
    assert message.status == MessageStatus.PUBLISHED and message.published_at

    # A pause that lands between the claim and the send (written here straight to the table, so
    # that the claim is not released first as publishing_pause does): the first query sees it.
    posts = len(sandbox.posts("telegram"))
    again = make_approved(world.a, channels=[telegram])
    schedule_now(world, again)
    [(delivery_id, token, _)] = deliveries_claim_due()
    PublishingPause.objects.create(team=world.a.team, reason="Major incident", paused_by=world.a.supervisor)
    assert delivery_send(delivery_id=delivery_id, token=token) == "not-sent"
    assert Delivery.objects.get(pk=delivery_id).status == DeliveryStatus.PENDING
    assert len(sandbox.posts("telegram")) == posts


def test_the_reaper_settles_a_message_whose_worker_stopped_before_updating_it(world, sandbox):
    """The outcome is committed first and the message's status after; a worker killed in between
    leaves the message "publishing" with nothing open. The reaper finishes the job."""
    telegram, mastodon = channel(world, sandbox, "telegram"), channel(world, sandbox, "mastodon")
    message = schedule_now(world, make_approved(world.a, channels=[telegram, mastodon]))
    assert send_due() == ["sent", "sent"]
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.PUBLISHING, published_at=None)
    Delivery.objects.filter(message=message, channel=mastodon).update(status=DeliveryStatus.FAILED)
    assert publishing.deliveries_reap_stale()["settled"] == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.PARTIALLY_PUBLISHED and message.published_at
    assert publishing.deliveries_reap_stale()["settled"] == 0
    # A message whose deliveries were all skipped has no outcome to settle it by: left as it is.
    skipped = schedule_now(world, make_approved(world.a, channels=[telegram]))
    Delivery.objects.filter(message=skipped).update(status=DeliveryStatus.SKIPPED)
    Message.objects.filter(pk=skipped.pk).update(status=MessageStatus.PUBLISHING)
    assert publishing.deliveries_reap_stale()["settled"] == 0
    assert Message.objects.get(pk=skipped.pk).status == MessageStatus.PUBLISHING


def test_the_tick_verifies_a_batch_of_messages_in_a_fixed_number_of_queries(world, sandbox):
    """The tick recomputes each claimed message's content hash ahead of its workers; the related rows
    come for the whole batch at once, so three messages cost what one does."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    telegram = channel(world, sandbox, "telegram")

    def claim_queries(n: int) -> int:
        for _ in range(n):
            schedule_now(world, make_approved(world.a, channels=[telegram]))
        lifecycle._VERIFIED.clear()
        with CaptureQueriesContext(connection) as captured:
            assert len(deliveries_claim_due()) == n
        return len(_statements(captured))

    assert claim_queries(1) == claim_queries(3)
