"""A person's decisions on the publishing side act on exactly what they name, and say why not.

Releasing or skipping a delivery held for review, scheduling again, a pause's scope when no team
is named, resuming, alerting on a failure, settling a message, reconciling an unconfirmed
delivery: each is tested with a second row beside the one acted on, and each refusal with the
error a person (or the API) is shown. (docs/testing.md lists the mutations of
``campaigns/publishing/`` (was ``campaigns/services/publishing.py``) these are there to catch.)
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent, Notification, Role
from campaigns import publishing
from campaigns.models import Delivery, DeliveryStatus, Message, MessageStatus, PublishingPause
from campaigns.publishing import deliveries_claim_due, delivery_send
from core.errors import InvalidInput, NotAllowed, NotFound, WrongState
from tests.factories import TeamWorld, make_approved, make_other_force, make_submitted, member
from tests.invariants.conftest import Forces

pytestmark = pytest.mark.django_db


def scheduled(tw: TeamWorld, **kwargs) -> Message:
    return publishing.message_schedule(actor=tw.officer, message=make_approved(tw, channels=[tw.public], **kwargs),
                                       scheduled_at=None)


def row(pk: int) -> tuple:
    d = Delivery.objects.get(pk=pk)
    return (d.status, d.needs_review, d.due_at, d.last_error, d.next_attempt_at, d.claim_token, d.attempts,
            d.sent_at, d.external_url)


def audit_verbs(target) -> list[str]:
    return list(AuditEvent.objects.filter(target_id=str(target.pk), target_type__endswith=target._meta.model_name)
                .order_by("id").values_list("verb", flat=True))


# --- held for review: release or skip the one named --------------------------------------------------

@pytest.mark.parametrize("send", [True, False])
def test_releasing_or_skipping_one_held_delivery_leaves_the_others_held(world, send,
                                                                       django_capture_on_commit_callbacks):
    first, second = scheduled(world.a), scheduled(world.a)
    long_ago = timezone.now() - timedelta(hours=3)
    Delivery.objects.update(needs_review=True, due_at=long_ago)
    one = Delivery.objects.get(message=first)
    other = Delivery.objects.get(message=second)
    before = row(other.pk)
    with pytest.raises(NotAllowed):
        publishing.delivery_release(actor=world.a.officer, delivery=one, send=send)
    started = timezone.now()
    from django.core.cache import cache

    from campaigns.publishing.schedule import TICK_PENDING_KEY

    cache.delete(TICK_PENDING_KEY[False])
    with django_capture_on_commit_callbacks(execute=True):
        released = publishing.delivery_release(actor=world.a.supervisor, delivery=one, send=send)
    # Sent now means now: an early tick is asked for (its flag is up), not the next beat; a skip asks none.
    assert cache.get(TICK_PENDING_KEY[False]) == (1 if send else None)
    cache.delete(TICK_PENDING_KEY[False])
    assert row(other.pk) == before
    assert not released.needs_review
    if send:
        assert released.status == DeliveryStatus.PENDING and released.due_at >= started
        assert audit_verbs(one)[-1] == "delivery.released"
        assert [d for d, _, _ in deliveries_claim_due()] == [one.pk]  # due now; the other still held
    # Audited in the message's team (a team's supervisors and auditors see it).
    assert AuditEvent.objects.filter(target_id=str(one.pk)).latest("id").team_id == world.a.team.pk
    if not send:
        assert released.status == DeliveryStatus.SKIPPED and released.last_error == "Skipped after review"
        assert released.due_at == long_ago
        assert audit_verbs(one)[-1] == "delivery.skipped"
        assert deliveries_claim_due() == []
    with pytest.raises(WrongState, match="not waiting for review"):
        publishing.delivery_release(actor=world.a.supervisor, delivery=one, send=send)


# --- scheduling again --------------------------------------------------------------------------------

def test_scheduling_again_moves_waiting_and_skipped_rows_and_never_a_sent_one(world):
    message = make_approved(world.a, channels=[world.a.public, world.a.mastodon])
    later = timezone.now() + timedelta(hours=2)
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=later)
    waiting, skipped = Delivery.objects.filter(message=message).order_by("id")
    Delivery.objects.filter(pk=skipped.pk).update(status=DeliveryStatus.SKIPPED, last_error="Skipped after review",
                                                  needs_review=True, next_attempt_at=later)
    Delivery.objects.filter(pk=waiting.pk).update(status=DeliveryStatus.SENT, sent_at=timezone.now())
    sent_before = row(waiting.pk)
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.APPROVED)
    again = timezone.now() + timedelta(hours=5)
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=again)
    assert row(waiting.pk) == sent_before
    skipped.refresh_from_db()
    assert (skipped.status, skipped.due_at, skipped.last_error, skipped.needs_review, skipped.next_attempt_at) == (
        DeliveryStatus.PENDING, again, "", False, None)
    message.refresh_from_db()
    assert message.status == MessageStatus.SCHEDULED and message.scheduled_at == again
    assert AuditEvent.objects.filter(verb="message.scheduled", target_id=str(message.pk)).order_by("id").last().summary == {
        "scheduled_at": again.isoformat(), "content_hash": message.approved_hash}


def test_scheduling_refuses_what_is_not_approved_as_it_stands(world):
    in_review = make_submitted(world.a)
    with pytest.raises(WrongState, match="Only an approved message can be scheduled; this one is in review"):
        publishing.message_schedule(actor=world.a.officer, message=in_review, scheduled_at=None)
    approved = make_approved(world.a)
    Message.objects.filter(pk=approved.pk).update(body="Changed behind the services' back. #DerbyDay")
    with pytest.raises(WrongState) as refused:
        publishing.message_schedule(actor=world.a.officer, message=approved, scheduled_at=None)
    assert refused.value.code == "not_approved"
    fine = make_approved(world.a)
    with pytest.raises(NotFound):
        publishing.message_schedule(actor=make_other_force()[1].officer, message=fine, scheduled_at=None)
    with pytest.raises(NotAllowed):
        publishing.message_schedule(actor=world.a.liaison, message=fine, scheduled_at=None)
    assert not Delivery.objects.exists()


def test_an_emergency_is_scheduled_as_urgent_and_a_routine_message_is_not(world):
    emergency = scheduled(world.a, author=world.a.supervisor, urgency="emergency",
                          body="Please move away from Station Road now, calmly. If you are in danger call 999.")
    routine = scheduled(world.a)
    assert set(Delivery.objects.filter(message=emergency).values_list("urgent", flat=True)) == {True}
    assert set(Delivery.objects.filter(message=routine).values_list("urgent", flat=True)) == {False}
    claimed = deliveries_claim_due(urgent_only=True)
    assert {Delivery.objects.get(pk=d).message_id for d, _, _ in claimed} == {emergency.pk}
    assert all(urgent for _, _, urgent in claimed)


# --- the pause's scope when no team is named, and resuming ------------------------------------------

def test_without_a_team_a_force_supervisor_pauses_their_own_force_only(forces: Forces):
    chief = member(forces.world.force, Role.SUPERVISOR)
    pause = publishing.publishing_pause(actor=chief, reason="  Major incident  ")
    assert pause.team_id == forces.world.force.pk and pause.reason == "Major incident"
    assert AuditEvent.objects.get(verb="publishing.paused").summary == {"reason": "Major incident", "scope": "team"}
    assert publishing.paused_team_ids() == (False, {forces.world.force.pk, forces.a.team.pk, forces.b.team.pk})
    # A team supervisor names no team: not theirs to pause the whole force.
    with pytest.raises(NotAllowed, match="Only a force-level supervisor can pause their whole force"):
        publishing.publishing_pause(actor=forces.a.supervisor, reason="Incident")
    # A supervisor of two forces must say which.
    PublishingPause.objects.update(resumed_at=timezone.now())
    from accounts.services import membership_set

    membership_set(user=chief, team=forces.other_force, role=Role.SUPERVISOR)
    with pytest.raises(InvalidInput, match="Say which force or team") as unclear:
        publishing.publishing_pause(actor=chief, reason="Incident")
    assert unclear.value.fields == {"team": ["This field is required."]}
    assert unclear.value.message == "Say which force or team this is for."  # the API passes it on, word for word
    with pytest.raises(InvalidInput, match="Give a reason") as blank:
        publishing.publishing_pause(actor=chief, reason="   ", team=forces.a.team.pk)
    assert blank.value.fields == {"reason": ["This field may not be blank."]}
    assert blank.value.message == "Give a reason for the pause."


def test_a_platform_wide_pause_stops_every_force_and_only_an_operator_lifts_it(forces: Forces):
    from tests.factories import UserFactory

    operator = UserFactory(is_superuser=True)
    first, second = scheduled(forces.a), scheduled(forces.other)
    pause = publishing.publishing_pause(actor=operator, reason="Platform incident")
    assert pause.team_id is None and publishing.paused_team_ids() == (True, set())
    assert AuditEvent.objects.get(verb="publishing.paused").summary["scope"] == "platform"
    assert deliveries_claim_due() == []
    with pytest.raises(WrongState, match="paused on the whole platform; only a platform operator"):
        publishing.publishing_resume(actor=forces.a.supervisor, team=forces.a.team.pk)
    assert publishing.publishing_resume(actor=operator, reason="Clear") == 0
    assert AuditEvent.objects.get(verb="publishing.resumed").summary == {
        "reason": "Clear", "pauses": 1, "held_for_review": 0, "scope": "platform", "restore_reports": []}
    assert {Delivery.objects.get(pk=d).message_id for d, _, _ in deliveries_claim_due()} == {first.pk, second.pk}
    with pytest.raises(WrongState, match="Publishing is not paused here."):
        publishing.publishing_resume(actor=operator)


def test_resume_holds_only_the_long_overdue_routine_deliveries(world):
    overdue, recent = scheduled(world.a), scheduled(world.a)
    emergency = scheduled(world.a, author=world.a.supervisor, urgency="emergency",
                          body="Please move away from Station Road now, calmly. If you are in danger call 999.")
    publishing.publishing_pause(actor=world.a.supervisor, reason="Incident", team=world.a.team.pk)
    now = timezone.now()
    Delivery.objects.filter(message__in=[overdue, emergency]).update(
        due_at=now - publishing.RESUME_REVIEW_AFTER - timedelta(minutes=1))
    Delivery.objects.filter(message=recent).update(due_at=now - publishing.RESUME_REVIEW_AFTER + timedelta(minutes=1))
    # Beside them, long overdue too: deliveries that already went out, failed or were skipped.
    done = publishing.message_schedule(actor=world.a.officer, scheduled_at=None, message=make_approved(
        world.a, channels=[world.a.public, world.a.mastodon, world.a.sms]))
    finished = dict(zip(Delivery.objects.filter(message=done).values_list("pk", flat=True),
                        [DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED], strict=True))
    for pk, status in finished.items():
        Delivery.objects.filter(pk=pk).update(status=status, due_at=now - publishing.RESUME_REVIEW_AFTER * 2)
    assert publishing.publishing_resume(actor=world.a.supervisor, reason="Clear", team=world.a.team.pk) == 1
    assert list(Delivery.objects.filter(needs_review=True).values_list("message_id", flat=True)) == [overdue.pk]
    event = AuditEvent.objects.get(verb="publishing.resumed")
    assert (event.target_type, event.team_id, event.summary["held_for_review"]) == (
        "campaigns.publishingpause", world.a.team.pk, 1)


# --- failures: who is told, and what the message becomes -----------------------------------------------

def test_a_failure_alerts_the_teams_supervisors_of_the_delivery_and_its_author_of_the_message(world, sandbox,
                                                                                            settings,
                                                                                            django_capture_on_commit_callbacks):
    from engage.celery import app
    from tests.campaigns.test_publishing import channel

    sandbox.reset()
    telegram = channel(world, sandbox, "telegram")
    message = publishing.message_schedule(actor=world.a.officer, scheduled_at=None,
                                          message=make_approved(world.a, channels=[telegram]))
    sandbox.set_behaviour("telegram", auth_expired=True)
    [(delivery_id, token, _)] = deliveries_claim_due()
    app.conf.task_always_eager = True  # the author's alert is a task after the commit
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert delivery_send(delivery_id=delivery_id, token=token) == "failed"
    finally:
        app.conf.task_always_eager = False
    alerts = Notification.objects.filter(kind="delivery_failed")
    assert set(alerts.values_list("user_id", flat=True)) == {world.a.supervisor.pk, world.a.supervisor2.pk}
    assert set(Notification.objects.filter(kind="message_failed").values_list("user_id", flat=True)) == {
        world.a.officer.pk}
    error = Delivery.objects.get(pk=delivery_id).last_error
    assert {(n.text, n.url) for n in alerts} == {
        (f"Delivery to {telegram.name} failed: {error[:200]}", f"/desk/messages/{message.pk}/#delivery-{delivery_id}")}
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and message.published_at is None


def test_a_failure_is_emailed_once_it_is_committed(world, sandbox, django_capture_on_commit_callbacks):
    from django.core import mail

    from engage.celery import app
    from tests.campaigns.test_publishing import channel

    sandbox.reset()
    telegram = channel(world, sandbox, "telegram")
    publishing.message_schedule(actor=world.a.officer, scheduled_at=None,
                                message=make_approved(world.a, channels=[telegram]))
    sandbox.set_behaviour("telegram", auth_expired=True)
    [(delivery_id, token, _)] = deliveries_claim_due()
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert delivery_send(delivery_id=delivery_id, token=token) == "failed"
    finally:
        app.conf.task_always_eager = False
    # One email each: the supervisors of the delivery, the author of the message.
    by_person = sorted((a, m.subject) for m in mail.outbox for a in m.to)
    assert by_person == sorted([(world.a.officer.email, "Engage: your message could not be published"),
                                (world.a.supervisor.email, "Engage: delivery problem"),
                                (world.a.supervisor2.email, "Engage: delivery problem")])


def test_an_unconfirmed_delivery_alerts_as_unconfirmed_and_its_message_is_partly_published(world, sandbox):
    from tests.campaigns.test_publishing import channel

    sandbox.reset()
    telegram, mastodon = channel(world, sandbox, "telegram"), channel(world, sandbox, "mastodon")
    message = publishing.message_schedule(actor=world.a.officer, scheduled_at=None,
                                          message=make_approved(world.a, channels=[telegram, mastodon]))
    sandbox.set_behaviour("telegram", drop=1)
    outcomes = sorted(delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due())
    assert outcomes == ["sent", "unconfirmed"]
    [alert] = set(Notification.objects.filter(kind="delivery_unconfirmed").values_list("text", flat=True))
    assert alert.startswith(f"Delivery to {telegram.name} is unconfirmed: ")
    assert not Notification.objects.filter(kind="delivery_failed").exists()
    message.refresh_from_db()
    assert message.status == MessageStatus.PARTIALLY_PUBLISHED and message.published_at is not None
    unconfirmed = Delivery.objects.get(status=DeliveryStatus.UNCONFIRMED)
    with pytest.raises(InvalidInput, match="must be an http"):
        publishing.delivery_resolve_unconfirmed(actor=world.a.officer, delivery=unconfirmed, posted=True,
                                                external_url="javascript:alert(1)")
    with pytest.raises(NotAllowed):
        publishing.delivery_resolve_unconfirmed(actor=world.b.officer, delivery=unconfirmed, posted=True)
    resolved = publishing.delivery_resolve_unconfirmed(actor=world.a.officer, delivery=unconfirmed, posted=True,
                                                       external_url="https://t.me/c/1/2")
    assert resolved.status == DeliveryStatus.SENT and resolved.external_url == "https://t.me/c/1/2"
    assert resolved.sent_at is not None
    message.refresh_from_db()
    assert message.status == MessageStatus.PUBLISHED
    with pytest.raises(WrongState, match="not unconfirmed"):
        publishing.delivery_resolve_unconfirmed(actor=world.a.officer, delivery=resolved, posted=False)


def test_a_text_that_reaches_nobody_on_a_list_is_skipped_and_the_message_still_published(world, sandbox):
    from campaigns.models import DeliveryAttempt
    from campaigns.services import messages as message_services
    from campaigns.services.recipients import recipient_add
    from tests.campaigns.test_targeting import EN, FA, sms_channel
    from tests.factories import make_message

    sandbox.reset()
    channel = sms_channel(world, sandbox)
    recipient_add(actor=world.a.admin, channel=channel, address="+447700900101", language="en",
                  consent_source="sign-up form")
    message = make_message(world.a, body=EN, channels=[channel])
    farsi = message_services.variant_add(actor=world.a.officer, message=message, language="fa", body=FA)
    message = publishing.message_schedule(actor=world.a.officer, scheduled_at=None,
                                          message=make_approved_from(world.a, message))
    outcomes = [delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due()]
    assert outcomes == ["sent", "skipped"]  # the original first: the skip is the last word
    skipped = Delivery.objects.get(message=message, variant=farsi)
    assert (skipped.status, skipped.claim_token, skipped.in_flight_since) == (DeliveryStatus.SKIPPED, "", None)
    reason = "No recipient of this list is targeted by this text."
    assert skipped.last_error == reason
    assert DeliveryAttempt.objects.get(delivery=skipped).outcome == "skipped"
    assert AuditEvent.objects.get(verb="delivery.skipped", target_id=str(skipped.pk)).summary == {"reason": reason}
    message.refresh_from_db()
    assert message.status == MessageStatus.PUBLISHED


def make_approved_from(tw: TeamWorld, message: Message) -> Message:
    from campaigns.services import workflow

    return workflow.message_approve(actor=tw.supervisor, message=workflow.message_submit(actor=tw.officer,
                                                                                        message=message))


def test_the_tick_claims_the_longest_waiting_first(world):
    later, earlier = scheduled(world.a), scheduled(world.a)
    now = timezone.now()
    Delivery.objects.filter(message=later).update(due_at=now - timedelta(minutes=1))
    Delivery.objects.filter(message=earlier).update(due_at=now - timedelta(minutes=9))
    [(first, _, _)] = deliveries_claim_due(limit=1)
    assert Delivery.objects.get(pk=first).message_id == earlier.pk


def test_during_a_platform_wide_pause_only_a_confirmed_emergency_leaves(forces: Forces):
    from tests.factories import UserFactory

    operator = UserFactory(is_superuser=True)
    emergency = scheduled(forces.a, author=forces.a.supervisor, urgency="emergency",
                          body="Please move away from Station Road now, calmly. If you are in danger call 999.")
    publishing.publishing_pause(actor=operator, reason="Platform incident")
    assert deliveries_claim_due() == []  # urgent, but nobody confirmed it may go out during the pause
    publishing.emergency_pause_override(actor=forces.a.supervisor2, message=emergency)
    assert {Delivery.objects.get(pk=d).message_id for d, _, _ in deliveries_claim_due()} == {emergency.pk}


def test_a_variant_in_another_language_on_a_channel_never_replaces_the_original_there(world):
    from campaigns.services import messages as message_services
    from tests.factories import make_message

    message = make_message(world.a, channels=[world.a.public, world.a.sms])
    message_services.variant_add(actor=world.a.officer, message=message, language="ar",
                                 body="الطرق مزدحمة. يرجى استخدام القطار. #DerbyDay", channels=[world.a.sms])
    plan = {(p.variant.language if p.variant else "orig", p.channel.pk) for p in publishing.plan_deliveries(message)}
    assert plan == {("orig", world.a.public.pk), ("orig", world.a.sms.pk), ("ar", world.a.sms.pk)}


@pytest.mark.parametrize("kind", ["sms", "mastodon"])
def test_a_worker_lost_mid_call_is_unconfirmed_unless_the_platform_deduplicates(world, settings, kind):
    from campaigns.models import DeliveryAttempt

    on = world.a.sms if kind == "sms" else world.a.mastodon
    publishing.message_schedule(actor=world.a.officer, message=make_approved(world.a, channels=[on]),
                                scheduled_at=None)
    [(delivery_id, token, _)] = deliveries_claim_due()
    assert publishing.delivery_begin(delivery_id=delivery_id, token=token) is not None
    limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    Delivery.objects.filter(pk=delivery_id).update(in_flight_since=timezone.now() - limit - timedelta(minutes=1))
    result = publishing.deliveries_reap_stale(now=timezone.now())
    delivery = Delivery.objects.get(pk=delivery_id)
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    if kind == "sms":  # it may have gone out: a person checks before anything is sent again
        assert (result["unconfirmed"], result["retried"]) == (1, 0)
        assert delivery.status == DeliveryStatus.UNCONFIRMED and attempt.outcome == "unconfirmed"
        assert delivery.last_error == "The worker stopped during the platform call: check before reposting."
        assert Notification.objects.filter(kind="delivery_unconfirmed", user=world.a.supervisor).exists()
    else:  # the platform deduplicates on our key: asked again, under the same key
        assert (result["unconfirmed"], result["retried"]) == (0, 1)
        assert delivery.status == DeliveryStatus.PENDING and attempt.outcome == "transient"
        assert delivery.last_error == "The worker stopped during the platform call; retrying with the same key."


def test_each_task_of_a_claim_batch_is_given_its_own_delivery(world):
    """The batch shares one claim token: ``delivery_begin`` must load the row it is asked for."""
    message = publishing.message_schedule(actor=world.a.officer, scheduled_at=None,
                                          message=make_approved(world.a, channels=[world.a.public, world.a.mastodon,
                                                                                  world.a.sms]))
    claimed = deliveries_claim_due()
    assert len({t for _, t, _ in claimed}) == 1 and len(claimed) == 3
    for delivery_id, token, _ in reversed(claimed):
        permit = publishing.delivery_begin(delivery_id=delivery_id, token=token)
        assert permit is not None and permit.delivery.pk == delivery_id
        assert permit.delivery.channel_id == Delivery.objects.get(pk=delivery_id).channel_id
    assert set(Delivery.objects.filter(message=message).values_list("attempts", flat=True)) == {1}


def test_content_changed_behind_the_services_back_is_skipped_with_the_reason(world):
    message = scheduled(world.a)
    Message.objects.filter(pk=message.pk).update(body="Changed behind the services' back. #DerbyDay")
    [(delivery_id, token, _)] = deliveries_claim_due()
    assert publishing.delivery_begin(delivery_id=delivery_id, token=token) is None
    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.SKIPPED, "Content differs from what was approved")


def test_a_list_text_goes_to_its_approved_audience_though_the_live_rows_change_after_the_check(world, sandbox):
    """Once a delivery is in flight, who a list text goes to is read from the approved version: a
    change to the message's live rows after the hash check (written straight to the table, as a
    write that bypassed the services would be) reaches neither the text nor its recipients."""
    from campaigns.services.recipients import recipient_add
    from campaigns.services.segments import segment_create
    from core.failpoints import failpoint_hook
    from tests.campaigns.test_targeting import EN, sms_channel
    from tests.factories import make_message

    sandbox.reset()
    channel = sms_channel(world, sandbox)
    recipient_add(actor=world.a.admin, channel=channel, address="+447700900101", language="en",
                  consent_source="sign-up form")
    message = publishing.message_schedule(actor=world.a.officer, scheduled_at=None, message=make_approved_from(
        world.a, make_message(world.a, body=EN, channels=[channel])))
    welsh = segment_create(actor=world.a.officer, team=world.a.team, name="Welsh speakers", languages=["cy"])
    [(delivery_id, token, _)] = deliveries_claim_due()
    with failpoint_hook("in_flight", lambda: Message.objects.get(pk=message.pk).segments.set([welsh])):
        assert delivery_send(delivery_id=delivery_id, token=token) == "sent"
    assert [post.fields.get("To") for post in sandbox.posts("sms")] == ["+447700900101"]
    assert Delivery.objects.get(pk=delivery_id).status == DeliveryStatus.SENT


def test_a_delivery_whose_message_stopped_being_sendable_after_the_claim_is_skipped_saying_so(world):
    """The message left "scheduled" or "publishing" between the claim and the send (written straight
    to the table): nothing goes out, and the skip says what the message is."""
    from campaigns.publishing import delivery_begin

    message = publishing.message_schedule(actor=world.a.officer, scheduled_at=None,
                                          message=make_approved(world.a, channels=[world.a.public]))
    [(delivery_id, token, _)] = deliveries_claim_due()
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.WITHDRAWN)
    assert delivery_begin(delivery_id=delivery_id, token=token) is None
    skipped = Delivery.objects.get(pk=delivery_id)
    assert (skipped.status, skipped.last_error, skipped.in_flight_since) == (
        DeliveryStatus.SKIPPED, "Message is withdrawn", None)
    assert AuditEvent.objects.get(verb="delivery.skipped", target_id=str(delivery_id)).summary == {
        "reason": "Message is withdrawn"}


def test_a_failures_alert_quotes_the_first_200_characters_of_its_error(world):
    from campaigns.publishing import delivery_begin, delivery_finish

    publishing.message_schedule(actor=world.a.officer, scheduled_at=None,
                                message=make_approved(world.a, channels=[world.a.public]))
    [(delivery_id, token, _)] = deliveries_claim_due()
    permit = delivery_begin(delivery_id=delivery_id, token=token)
    error = "".join(f"{n:03d} " for n in range(100))  # 400 characters, each position distinct
    assert delivery_finish(permit=permit, token=token, outcome="failed", error=error) == 1
    assert set(Notification.objects.filter(kind="delivery_failed").values_list("text", flat=True)) == {
        f"Delivery to {world.a.public.name} failed: {error[:200]}"}


def test_an_emergency_message_without_an_override_is_held_by_a_pause_that_lands_after_its_claim(world):
    """Only an emergency message whose override a second supervisor confirmed goes through a pause:
    being an emergency is not enough. A pause that lands between the claim and the send (written
    straight to the table, so the claim is not released first) holds it there."""
    from campaigns.publishing import delivery_begin

    message = publishing.message_schedule(actor=world.a.officer, scheduled_at=None, message=make_approved(
        world.a, channels=[world.a.public], urgency="emergency"))
    assert (message.urgency, message.pause_override_by_id) == ("emergency", None)
    [(delivery_id, token, _)] = deliveries_claim_due()
    PublishingPause.objects.create(team=world.a.team, reason="Major incident", paused_by=world.a.supervisor)
    assert delivery_begin(delivery_id=delivery_id, token=token) is None
    held = Delivery.objects.get(pk=delivery_id)
    assert (held.status, held.in_flight_since, held.attempts) == (DeliveryStatus.PENDING, None, 0)
