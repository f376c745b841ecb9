"""Reconciliation: an unconfirmed delivery is settled by asking its platform (the partner webhook's
status look-up, over real HTTP to the sandbox), never by guessing; each decision audited, each
written on the one row asked about, never racing a person or a second reconciler into a repost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from campaigns import publishing
from campaigns.models import Delivery, DeliveryStatus, Message, MessageStatus
from campaigns.publishing import (
    deliveries_claim_due,
    deliveries_reap_stale,
    delivery_begin,
    delivery_send,
    outbound,
)
from campaigns.publishing.reconcile import (
    LOOKUP_MAX_ASKS,
    deliveries_reconcile,
    lookup_candidates,
    lookup_claim,
)
from campaigns.publishing.reconcile import reconcile as reconcile_rows
from campaigns.services.channels import channel_create
from tests.factories import make_approved

pytestmark = pytest.mark.django_db

LATER = timedelta(minutes=10)  # past the reaper's limit and the look-up's grace


@pytest.fixture(autouse=True)
def _reset(sandbox, monkeypatch):
    sandbox.reset()
    monkeypatch.setattr(outbound, "RETRY_BASE_SECONDS", 0)  # a row sent again is due at once


def webhook(world, sandbox, name, **extra):
    config, secrets = sandbox.config_for("webhook")
    return channel_create(actor=world.a.admin, team=world.a.team, kind="webhook", name=name,
                          config={**config, **secrets, "read_timeout": 1.0, **extra})


def scheduled(world, *channels):
    message = make_approved(world.a, channels=list(channels))
    return publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)


def send_due() -> list[str]:
    return [delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due()]


def lost_before_the_call(now):
    """Every due delivery claimed and marked in flight, then the worker dies before its request left:
    the reaper makes each unconfirmed. The partner never received any of them."""
    for delivery_id, token, _ in deliveries_claim_due():
        assert delivery_begin(delivery_id=delivery_id, token=token) is not None
    assert deliveries_reap_stale(now=now)["unconfirmed"] >= 1


def received(sandbox, key: str) -> int:
    """How many POSTs with this key reached the partner (answered or not): what it received."""
    return sum(1 for r in sandbox.requests("webhook")
               if r.op == "delivery" and r.headers.get("idempotency-key") == key and r.outcome != "failed")


def lookups(sandbox) -> list:
    return [r for r in sandbox.requests("webhook") if r.op == "status_lookup"]


def looked_up(delivery) -> list[dict]:
    return [e.summary for e in AuditEvent.objects.filter(verb="delivery.looked_up", target_id=str(delivery.pk))
            .order_by("id")]


def row(pk: int) -> tuple:
    d = Delivery.objects.get(pk=pk)
    return (d.status, d.attempts, d.external_id, d.sent_at, d.last_error, d.lookup_asks, d.lookup_token,
            d.lookup_next_at, d.lookup_answer, d.next_attempt_at)


def test_found_is_sent_with_the_partners_id_and_the_row_beside_it_is_untouched(world, sandbox):
    asked, plain = webhook(world, sandbox, "asked", status_lookup=True), webhook(world, sandbox, "plain")
    scheduled(world, asked, plain)
    sandbox.set_behaviour("webhook", drop=2)  # both received, neither answered
    assert send_due() == ["unconfirmed", "unconfirmed"]
    one, other = Delivery.objects.get(channel=asked), Delivery.objects.get(channel=plain)
    assert one.last_attempt_at is not None
    before = row(other.pk)
    # Not asked before the grace period: the partner may still be working on the request.
    assert deliveries_reconcile() == {}
    assert lookups(sandbox) == []
    assert deliveries_reconcile(now=timezone.now() + LATER) == {"sent": 1}
    one.refresh_from_db()
    (post, _) = sandbox.posts("webhook")
    assert one.status == DeliveryStatus.SENT and one.external_id == post.id and one.sent_at
    assert one.attempts == 1 and received(sandbox, one.idempotency_key) == 1
    assert "200" in one.lookup_answer
    assert row(other.pk) == before, "the look-up settled a row it did not ask about"
    [summary] = looked_up(one)
    assert summary == {"channel": "webhook", "platform_answer": "found", "detail": one.lookup_answer,
                       "http_status": 200, "external_id": post.id, "decision": "sent", "status": "sent", "ask": 1}
    assert Message.objects.get(pk=one.message_id).status == MessageStatus.PARTIALLY_PUBLISHED
    # Found is final: never asked or sent again.
    assert deliveries_reconcile(now=timezone.now() + 2 * LATER) == {}
    assert send_due() == [] and len(lookups(sandbox)) == 1


def test_absent_is_sent_again_once_with_a_new_attempt(world, sandbox):
    asked = webhook(world, sandbox, "asked", status_lookup=True)
    message = scheduled(world, asked)
    lost_before_the_call(timezone.now() + LATER)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.UNCONFIRMED and received(sandbox, delivery.idempotency_key) == 0
    assert deliveries_reconcile(now=timezone.now() + LATER) == {"pending": 1}
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.lookup_token == "" and delivery.lookup_asks == 0
    [summary] = looked_up(delivery)
    assert (summary["platform_answer"], summary["http_status"], summary["decision"]) == ("absent", 404, "send again")
    assert Message.objects.get(pk=message.pk).status == MessageStatus.PUBLISHING
    assert send_due() == ["sent"]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    assert received(sandbox, delivery.idempotency_key) == 1
    assert Message.objects.get(pk=message.pk).status == MessageStatus.PUBLISHED
    assert deliveries_reconcile(now=timezone.now() + 2 * LATER) == {} and send_due() == []


def test_absent_with_its_attempts_used_up_fails_for_a_person(world, sandbox):
    scheduled(world, webhook(world, sandbox, "asked", status_lookup=True))
    lost_before_the_call(timezone.now() + LATER)
    Delivery.objects.update(attempts=outbound.MAX_ATTEMPTS)
    assert deliveries_reconcile(now=timezone.now() + LATER) == {"failed": 1}
    delivery = Delivery.objects.get()
    assert "attempts are used up" in delivery.last_error
    assert looked_up(delivery)[0]["decision"] == "failed"
    assert send_due() == [] and received(sandbox, delivery.idempotency_key) == 0


def test_unknown_stays_unconfirmed_and_is_asked_again_with_backoff_then_left_for_a_person(world, sandbox):
    scheduled(world, webhook(world, sandbox, "asked", status_lookup=True))
    lost_before_the_call(timezone.now() + LATER)
    sandbox.set_behaviour("webhook", fail=100, applies_to="all")  # every look-up answers 500
    start = timezone.now() + LATER
    assert deliveries_reconcile(now=start) == {"unconfirmed": 1}
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.UNCONFIRMED and delivery.lookup_asks == 1
    assert "500" in delivery.lookup_answer
    assert deliveries_reconcile(now=start + timedelta(seconds=30)) == {}  # not on every beat
    assert len(lookups(sandbox)) == 1
    for hour in range(1, 3 * LOOKUP_MAX_ASKS):
        deliveries_reconcile(now=start + timedelta(hours=hour))
    delivery.refresh_from_db()
    assert len(lookups(sandbox)) == LOOKUP_MAX_ASKS == delivery.lookup_asks
    assert delivery.status == DeliveryStatus.UNCONFIRMED and "a person decides" in delivery.lookup_answer
    summaries = looked_up(delivery)
    assert [s["ask"] for s in summaries] == list(range(1, LOOKUP_MAX_ASKS + 1))
    assert {(s["platform_answer"], s["http_status"], s["decision"]) for s in summaries} == {
        ("unknown", 500, "left for a person")}
    assert received(sandbox, delivery.idempotency_key) == 0
    # A person still decides, with the buttons they have always had.
    publishing.delivery_resolve_unconfirmed(actor=world.a.officer, delivery=delivery, posted=False)
    assert Delivery.objects.get().status == DeliveryStatus.PENDING


def test_a_second_reconciler_with_the_same_rows_neither_asks_nor_sends_again(world, sandbox):
    scheduled(world, webhook(world, sandbox, "asked", status_lookup=True))
    lost_before_the_call(timezone.now() + LATER)
    now = timezone.now() + LATER
    # Both read the same candidates; the first claims the row, asks, and it goes out again.
    stale = list(lookup_candidates(Delivery.objects.select_related("message", "channel", "variant"), now=now,
                                   channel_ids=[Delivery.objects.get().channel_id]))
    assert deliveries_reconcile(now=now) == {"pending": 1}
    assert send_due() == ["sent"]
    # The second, a beat behind, finds its claim refused: no look-up, no resend.
    from campaigns.publishing.reconcile import _delivery_lookup, _delivery_record, _delivery_rows

    assert reconcile_rows(stale, now=now, lookup=_delivery_lookup, record=_delivery_record,
                          rows_of=_delivery_rows) == {"skipped": 1}
    assert len(lookups(sandbox)) == 1 and send_due() == []
    assert received(sandbox, Delivery.objects.get().idempotency_key) == 1


def test_a_claimed_ask_is_not_claimed_twice(world, sandbox):
    scheduled(world, webhook(world, sandbox, "asked", status_lookup=True))
    lost_before_the_call(timezone.now() + LATER)
    now = timezone.now() + LATER
    rows = Delivery.objects.filter(pk=Delivery.objects.get().pk)
    assert lookup_claim(rows, asks=0, now=now) is not None
    assert lookup_claim(rows, asks=0, now=now) is None  # the second worker with the same reading
    assert lookup_claim(rows, asks=1, now=now) is None  # not due again before the backoff


def test_an_answer_back_after_a_newer_ask_claimed_the_row_is_not_recorded(world, sandbox):
    """A slow ask (its platform answered after the backoff, when a newer ask had claimed the row) must
    not settle the row: only the ask holding the row's current token writes, once."""
    from campaigns.publishing.reconcile import _delivery_lookup, _delivery_record, lookup_backoff

    scheduled(world, webhook(world, sandbox, "asked", status_lookup=True))
    lost_before_the_call(timezone.now() + LATER)
    now = timezone.now() + LATER
    delivery = Delivery.objects.select_related("message", "channel", "variant").get()
    rows = Delivery.objects.filter(pk=delivery.pk)
    slow = lookup_claim(rows, asks=0, now=now)
    slow_answer = _delivery_lookup(delivery, now)  # the partner answers 404, slowly
    later = now + lookup_backoff(1) + timedelta(seconds=1)
    newer = lookup_claim(rows, asks=1, now=later)
    assert slow and newer and slow != newer
    assert _delivery_record(delivery, slow, slow_answer, later) == ""
    assert Delivery.objects.get().status == DeliveryStatus.UNCONFIRMED and looked_up(delivery) == []
    delivery.lookup_asks = 2
    assert _delivery_record(delivery, newer, _delivery_lookup(delivery, later), later) == "pending"
    assert [e["ask"] for e in looked_up(delivery)] == [2]
    Delivery.objects.update(next_attempt_at=timezone.now())  # ten minutes on, it is due
    assert send_due() == ["sent"] and received(sandbox, delivery.idempotency_key) == 1


def test_a_person_resolving_meanwhile_wins_and_the_reconciler_does_nothing(world, sandbox):
    scheduled(world, webhook(world, sandbox, "asked", status_lookup=True))
    lost_before_the_call(timezone.now() + LATER)
    now = timezone.now() + LATER
    delivery = Delivery.objects.select_related("message", "channel", "variant").get()
    from campaigns.publishing.reconcile import _delivery_lookup, _delivery_record

    token = lookup_claim(Delivery.objects.filter(pk=delivery.pk), asks=0, now=now)
    result = _delivery_lookup(delivery, now)  # the partner answers 404 ...
    assert result.state == "absent"
    # ... and a person presses "it was posted" before the answer is recorded.
    publishing.delivery_resolve_unconfirmed(actor=world.a.officer, delivery=delivery, posted=True)
    assert _delivery_record(delivery, token, result, now) == ""
    assert Delivery.objects.get().status == DeliveryStatus.SENT and looked_up(delivery) == []
    assert send_due() == [] and received(sandbox, delivery.idempotency_key) == 0


def test_a_paused_forces_absent_delivery_waits_for_the_resume(world, sandbox):
    scheduled(world, webhook(world, sandbox, "asked", status_lookup=True))
    lost_before_the_call(timezone.now() + LATER)
    publishing.publishing_pause(actor=world.a.supervisor, reason="Critical incident", team=world.a.team.pk)
    assert deliveries_reconcile(now=timezone.now() + LATER) == {"pending": 1}
    assert send_due() == []
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and received(sandbox, delivery.idempotency_key) == 0
    publishing.publishing_resume(actor=world.a.supervisor, reason="Checked: safe to send", team=world.a.team.pk)
    assert send_due() == ["sent"] and received(sandbox, delivery.idempotency_key) == 1


def test_a_message_changed_after_approval_is_not_sent_again_when_absent(world, sandbox):
    message = scheduled(world, webhook(world, sandbox, "asked", status_lookup=True))
    lost_before_the_call(timezone.now() + LATER)
    # A write behind the services' back: the content no longer hashes to the approved one.
    Message.objects.filter(pk=message.pk).update(body="Something nobody approved", updated_at=timezone.now())
    assert deliveries_reconcile(now=timezone.now() + LATER) == {"pending": 1}
    assert send_due() == ["not-sent"]
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SKIPPED and received(sandbox, delivery.idempotency_key) == 0


def test_channels_that_cannot_be_asked_and_partial_list_sends_are_left_for_a_person(world, sandbox):
    asked, plain = webhook(world, sandbox, "asked", status_lookup=True), webhook(world, sandbox, "plain")
    scheduled(world, asked, plain)
    lost_before_the_call(timezone.now() + LATER)
    Delivery.objects.filter(channel=asked).update(last_error=f"{outbound.PARTLY_DELIVERED} 1 accepted, ...")
    before = {d.pk: row(d.pk) for d in Delivery.objects.all()}
    assert deliveries_reconcile(now=timezone.now() + LATER) == {}
    assert {d.pk: row(d.pk) for d in Delivery.objects.all()} == before and lookups(sandbox) == []


def test_the_panel_says_who_is_asked_and_keeps_the_persons_buttons(world, sandbox, client):
    config, secrets = sandbox.config_for("telegram")
    telegram = channel_create(actor=world.a.admin, team=world.a.team, kind="telegram", name="tg",
                              config={**config, **secrets, "read_timeout": 1.0})
    asked = webhook(world, sandbox, "asked", status_lookup=True)
    message = scheduled(world, asked, telegram)
    lost_before_the_call(timezone.now() + LATER)
    sandbox.set_behaviour("webhook", fail=1, applies_to="all")
    assert deliveries_reconcile(now=timezone.now() + LATER) == {"unconfirmed": 1}
    client.force_login(world.a.officer)
    html = client.get(f"/desk/messages/{message.pk}/deliveries/").content.decode()
    tg = html[html.index(f'id="delivery-{Delivery.objects.get(channel=telegram).pk}"'):]
    tg = tg[:tg.index("</tr>")]
    assert "Telegram cannot be asked whether this went out: check the channel" in tg
    hook = html[html.index(f'id="delivery-{Delivery.objects.get(channel=asked).pk}"'):]
    hook = hook[:hook.index("</tr>")]
    assert "is asked automatically whether this went out" in hook
    assert "The partner answered HTTP 500 to the status look-up." in hook
    for row_html in (tg, hook):
        assert "It was posted" in row_html and "It was not posted: send" in row_html


def test_the_reaper_task_asks_for_a_reconciliation_and_the_task_settles_the_row(world, sandbox):
    from campaigns.publishing import tasks

    scheduled(world, webhook(world, sandbox, "asked", status_lookup=True))
    for delivery_id, token, _ in deliveries_claim_due():
        delivery_begin(delivery_id=delivery_id, token=token)
    Delivery.objects.update(in_flight_since=timezone.now() - LATER)  # the worker died ten minutes ago
    reaped = tasks.reap()
    assert (reaped["unconfirmed"], reaped["reconcile_enqueued"]) == (1, 1)
    assert tasks.reconcile() == {"pending": 1}  # what the enqueued task does: asks at once
    assert send_due() == ["sent"] and received(sandbox, Delivery.objects.get().idempotency_key) == 1


@pytest.mark.parametrize("partner_has_it", [True, False])
def test_a_withdrawn_messages_delivery_is_taken_down_if_found_and_never_sent_if_absent(world, sandbox,
                                                                                       partner_has_it):
    from campaigns.publishing.withdraw import take_downs_outstanding

    message = scheduled(world, webhook(world, sandbox, "asked", status_lookup=True))
    if partner_has_it:
        sandbox.set_behaviour("webhook", drop=1)
        assert send_due() == ["unconfirmed"]
    else:
        lost_before_the_call(timezone.now() + LATER)
    publishing.message_withdraw(actor=world.a.supervisor, message=message, reason="Appeal resolved",
                                confirmation="Withdraw")
    assert deliveries_reconcile(now=timezone.now() + LATER) == {"sent" if partner_has_it else "withdrawn": 1}
    delivery = Delivery.objects.get()
    assert looked_up(delivery)[0]["decision"] == ("sent" if partner_has_it else "withdrawn")
    assert send_due() == [] and received(sandbox, delivery.idempotency_key) == int(partner_has_it)
    if not partner_has_it:
        assert delivery.status == DeliveryStatus.WITHDRAWN and delivery.next_attempt_at is None
        assert delivery.last_error == "Withdrawn, and the platform never received it: nothing to take down."
    outstanding = take_downs_outstanding(now=timezone.now() + timedelta(hours=1))
    assert outstanding == ([delivery.pk] if partner_has_it else [])
