"""Withdrawal's own rules (campaigns/publishing/withdraw.py) that the invariants leave open.

- A withdrawal needs words of reason: an empty or blank one is refused and changes nothing.
- The refusal for another team's message is the "no such message" of the API, word for word.
- The audit keeps the reason and what was confirmed, and no invented confirmation.
- A take-down's outcome lands on a sent post only: a post that failed, waits or was already
  withdrawn stays exactly as it was, and a post taken down leaves the "delete by hand" list.
- "Removed by hand" is audited on that delivery, with its channel and the platform's id.
"""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from campaigns.models import Delivery, DeliveryStatus, MessageStatus
from campaigns.publishing.withdraw import delivery_mark_removed_by_hand, delivery_taken_down, message_withdraw
from core.errors import InvalidInput, NotFound
from tests.factories import make_approved, make_delivery

pytestmark = pytest.mark.django_db


def _row(delivery_id):
    return Delivery.objects.filter(pk=delivery_id).values("status", "manual_takedown", "last_error").get()


@pytest.mark.parametrize("reason", ["", "   \n\t ", None])
def test_a_withdrawal_without_words_of_reason_is_refused_and_changes_nothing(world, reason):
    message = make_approved(world.a)
    with pytest.raises(InvalidInput) as excinfo:
        message_withdraw(actor=world.a.supervisor, message=message, reason=reason)
    assert excinfo.value.code == "reason_required"
    assert excinfo.value.fields == {"reason": ["This field may not be blank."]}
    message.refresh_from_db()
    assert message.status == MessageStatus.APPROVED and message.withdrawn_at is None
    assert not AuditEvent.objects.filter(verb="message.withdrawn").exists()


def test_another_teams_message_is_not_found_word_for_word(world):
    message = make_approved(world.a)
    with pytest.raises(NotFound) as excinfo:
        message_withdraw(actor=world.b.supervisor, message=message, reason="Wrong road")
    assert (excinfo.value.code, excinfo.value.message) == ("not_found", "No such message.")


def test_the_audit_keeps_the_reason_and_no_invented_confirmation(world):
    message = make_approved(world.a)
    message_withdraw(actor=world.a.supervisor, message=message, reason="  The road   reopened ")
    audit = AuditEvent.objects.get(verb="message.withdrawn")
    assert audit.summary == {"reason": "The road reopened", "confirmation": "", "stopped": 0, "to_take_down": 0}
    assert audit.actor_id == world.a.supervisor.pk


@pytest.mark.parametrize("status", [DeliveryStatus.FAILED, DeliveryStatus.PENDING, DeliveryStatus.WITHDRAWN,
                                    DeliveryStatus.UNCONFIRMED])
def test_a_take_down_lands_on_a_sent_post_only(world, status):
    other = make_delivery(world.a, status, last_error="as it was")
    before = _row(other.pk)
    delivery_taken_down(delivery_id=other.pk, manual=False)
    delivery_taken_down(delivery_id=other.pk, manual=True, error="cannot delete")
    assert _row(other.pk) == before


def test_a_post_taken_down_leaves_the_delete_by_hand_list(world):
    waiting = make_delivery(world.a, DeliveryStatus.SENT, external_id="111")
    delivery_taken_down(delivery_id=waiting.pk, manual=True)
    assert _row(waiting.pk) == {"status": DeliveryStatus.SENT, "manual_takedown": True,
                                "last_error": "Delete this post by hand"}
    # The platform let us delete it after all (a later sweep): withdrawn, and no longer for a person.
    delivery_taken_down(delivery_id=waiting.pk, manual=False)
    assert _row(waiting.pk) == {"status": DeliveryStatus.WITHDRAWN, "manual_takedown": False, "last_error": ""}


def test_removed_by_hand_is_audited_on_that_delivery_with_its_channel_and_post_id(world):
    delivery = make_delivery(world.a, DeliveryStatus.SENT, external_id="post-42", manual_takedown=True)
    delivery_mark_removed_by_hand(actor=world.a.supervisor, delivery=delivery)
    audit = AuditEvent.objects.get(verb="delivery.removed_by_hand")
    assert (audit.target_type, audit.target_id) == ("campaigns.delivery", str(delivery.pk))
    assert audit.summary == {"channel": delivery.channel_id, "external_id": "post-42"}
    assert audit.actor_id == world.a.supervisor.pk
    row = _row(delivery.pk)
    assert row["status"] == DeliveryStatus.WITHDRAWN and not row["manual_takedown"]
    assert row["last_error"].startswith(f"Removed by hand: recorded by {world.a.supervisor.display_name} on ")
