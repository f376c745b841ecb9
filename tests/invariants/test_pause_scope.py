"""The pause: pausing one force's publishing leaves every other force publishing, and an
emergency override is confirmed only by a supervisor who neither wrote nor approved the message.

These are written on what holds whether a pause is scoped to a team or to its whole force:
a pause pressed in force 1 stops force 1's team and never force 2.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import publishing
from campaigns.models import Delivery, DeliveryStatus, Message, MessageStatus
from campaigns.publishing import RESUME_REVIEW_AFTER, deliveries_claim_due, delivery_send, publishing_pause
from campaigns.services import messages as message_services
from campaigns.services import workflow
from core.errors import NotAllowed
from tests.factories import TeamWorld, make_approved, make_submitted
from tests.invariants.conftest import Forces

pytestmark = pytest.mark.django_db

EMERGENCY_BODY = "Please move away from Station Road now, calmly. If you are in danger call 999."


def scheduled(tw: TeamWorld) -> Message:
    return publishing.message_schedule(actor=tw.officer, message=make_approved(tw, channels=[tw.public]),
                                       scheduled_at=None)


def send_due() -> dict[int, str]:
    return {d: delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due()}


def test_a_pause_in_one_force_leaves_the_other_force_publishing(forces: Forces):
    a, other = forces.a, forces.other
    paused_message, free_message = scheduled(a), scheduled(other)
    publishing_pause(actor=a.supervisor, reason="Major incident", team=a.team.pk)
    assert publishing.is_paused_for(Message.objects.get(pk=paused_message.pk))
    assert not publishing.is_paused_for(Message.objects.get(pk=free_message.pk))
    outcomes = send_due()
    sent = set(Delivery.objects.filter(status=DeliveryStatus.SENT).values_list("message_id", flat=True))
    assert sent == {free_message.pk}, outcomes
    assert set(Delivery.objects.filter(message=paused_message).values_list("status", flat=True)) == {
        DeliveryStatus.PENDING}
    assert Message.objects.get(pk=free_message.pk).status == MessageStatus.PUBLISHED


def test_a_pause_in_one_force_does_not_release_the_other_forces_claims(forces: Forces):
    a, other = forces.a, forces.other
    scheduled(other)
    claimed = deliveries_claim_due()
    assert claimed
    before = {d: (s, t) for d, s, t in Delivery.objects.values_list("pk", "status", "claim_token")}
    publishing_pause(actor=a.supervisor, reason="Major incident", team=a.team.pk)
    assert {d: (s, t) for d, s, t in Delivery.objects.values_list("pk", "status", "claim_token")} == before
    # And the claimed deliveries of force 2 go out.
    assert {delivery_send(delivery_id=d, token=t) for d, t, _ in claimed} == {"sent"}


def test_a_claim_made_before_the_pause_in_the_paused_force_goes_back_to_wait(forces: Forces):
    a = forces.a
    message = scheduled(a)
    claimed = deliveries_claim_due()
    publishing_pause(actor=a.supervisor, reason="Major incident", team=a.team.pk)
    assert {delivery_send(delivery_id=d, token=t) for d, t, _ in claimed} == {"not-sent"}
    assert set(Delivery.objects.filter(message=message).values_list("status", flat=True)) == {DeliveryStatus.PENDING}


def test_resuming_in_one_force_holds_nothing_of_the_other_force_for_review(forces: Forces):
    a, other = forces.a, forces.other
    overdue_a, overdue_other = scheduled(a), scheduled(other)
    long_ago = timezone.now() - RESUME_REVIEW_AFTER - timedelta(minutes=5)
    publishing_pause(actor=a.supervisor, reason="Major incident", team=a.team.pk)
    publishing_pause(actor=other.supervisor, reason="Their own incident", team=other.team.pk)
    Delivery.objects.update(due_at=long_ago)
    held = publishing.publishing_resume(actor=a.supervisor, reason="Over", team=a.team.pk)
    assert held == 1
    assert list(Delivery.objects.filter(needs_review=True).values_list("message_id", flat=True)) == [overdue_a.pk]
    assert not Delivery.objects.filter(message=overdue_other, needs_review=True).exists()


# --- the emergency override -------------------------------------------------------------------

def _paused_emergency(tw: TeamWorld, *, approver=None) -> Message:
    publishing_pause(actor=tw.supervisor, reason="Major incident", team=tw.team.pk)
    message = make_submitted(tw, urgency="emergency", body=EMERGENCY_BODY)
    return workflow.message_approve(actor=approver or tw.supervisor, message=message)


def test_the_approver_cannot_confirm_the_override_of_their_own_approval(world):
    a = world.a
    message = _paused_emergency(a, approver=a.supervisor2)
    assert message.status == MessageStatus.SCHEDULED and message.approved_by_id == a.supervisor2.pk
    with pytest.raises(NotAllowed) as refused:
        publishing.emergency_pause_override(actor=a.supervisor2, message=message)
    assert refused.value.message == "A second supervisor, who neither wrote nor approved it, must confirm."
    assert Message.objects.get(pk=message.pk).pause_override_by_id is None
    assert send_due() == {}
    confirmed = publishing.emergency_pause_override(actor=a.supervisor, message=message)
    assert confirmed.pause_override_by_id == a.supervisor.pk
    assert set(send_due().values()) == {"sent"}


def test_the_self_approving_author_cannot_confirm_the_override(world):
    a = world.a
    publishing_pause(actor=a.supervisor2, reason="Major incident", team=a.team.pk)
    message = make_submitted(a, author=a.supervisor, urgency="emergency", body=EMERGENCY_BODY)
    message = workflow.message_approve(actor=a.supervisor, message=message)
    with pytest.raises(NotAllowed):
        publishing.emergency_pause_override(actor=a.supervisor, message=message)
    assert publishing.emergency_pause_override(actor=a.supervisor2, message=message).pause_override_by_id


def test_a_supervisor_who_wrote_part_of_the_message_cannot_confirm_the_override(world):
    """The two-person rule counts everyone who wrote any of it, not only the author."""
    a = world.a
    publishing_pause(actor=a.supervisor, reason="Major incident", team=a.team.pk)
    message = make_submitted(a, urgency="emergency", body=EMERGENCY_BODY)
    message = message_services.message_update(actor=a.supervisor2, message=message, body=EMERGENCY_BODY + " Thank you.")
    message = workflow.message_submit(actor=a.officer, message=message)
    third = a.users["admin"]  # not a supervisor: cannot approve either
    with pytest.raises(NotAllowed):
        workflow.message_approve(actor=third, message=message)
    message = workflow.message_approve(actor=a.supervisor, message=message)
    with pytest.raises(NotAllowed):
        publishing.emergency_pause_override(actor=a.supervisor2, message=message)
    with pytest.raises(NotAllowed):
        publishing.emergency_pause_override(actor=a.supervisor, message=message)
    assert Message.objects.get(pk=message.pk).pause_override_by_id is None


@pytest.mark.parametrize("who", ["officer", "liaison", "admin", "other team", "other force", "deactivated"])
def test_only_a_supervisor_of_the_team_confirms_an_override(forces: Forces, who):
    a = forces.a
    message = _paused_emergency(a, approver=a.supervisor2)
    actor = {"officer": a.officer, "liaison": a.liaison, "admin": a.admin, "other team": forces.b.supervisor,
             "other force": forces.other.supervisor, "deactivated": a.supervisor}[who]
    if who == "deactivated":
        actor.is_active = False
        actor.save(update_fields=["is_active"])
    with pytest.raises(NotAllowed):
        publishing.emergency_pause_override(actor=actor, message=message)
    assert Message.objects.get(pk=message.pk).pause_override_by_id is None


def test_only_an_emergency_message_can_be_let_out_of_a_pause(world):
    """A routine message waits for the resume: no supervisor can confirm it out of a pause, and the
    refusal says why in words (the API passes it on)."""
    from core.errors import WrongState

    a = world.a
    routine = scheduled(a)
    publishing_pause(actor=a.supervisor, reason="Major incident", team=a.team.pk)
    with pytest.raises(WrongState) as refused:
        publishing.emergency_pause_override(actor=a.supervisor, message=routine)
    assert refused.value.message == "Only emergency messages can go out during a pause."
    assert Message.objects.get(pk=routine.pk).pause_override_by_id is None
    assert send_due() == {}


def test_a_pause_leaves_a_delivery_whose_platform_call_is_under_way_to_its_worker(forces: Forces):
    """Only claims that have not started their call go back to wait: a row in flight stays sending, so
    that its worker records what the platform did (the race itself, on PostgreSQL, is in
    tests/campaigns/test_lock_races.py)."""
    a = forces.a
    message = scheduled(a)
    claimed = deliveries_claim_due()
    (first, _token, _), *others = claimed
    Delivery.objects.filter(pk=first).update(in_flight_since=timezone.now())
    publishing_pause(actor=a.supervisor, reason="Major incident", team=a.team.pk)
    in_flight = Delivery.objects.get(pk=first)
    assert (in_flight.status, in_flight.claim_token) != (DeliveryStatus.PENDING, "")
    assert in_flight.status == DeliveryStatus.SENDING and in_flight.in_flight_since is not None
    assert {Delivery.objects.get(pk=d).status for d, _t, _ in others} <= {DeliveryStatus.PENDING}
    assert Delivery.objects.filter(message=message).count() == len(claimed)
