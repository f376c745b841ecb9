"""Withdrawing a Telegram post older than 48 hours (issue 13): said before, shown after, handled by a person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent
from campaigns import publishing
from campaigns.models import Delivery, DeliveryStatus
from campaigns.publishing import deliveries_claim_due, delivery_send, delivery_take_down
from campaigns.services.channels import channel_create
from tests.factories import make_approved

pytestmark = pytest.mark.django_db


@pytest.fixture
def box(sandbox):
    sandbox.reset()
    return sandbox


def _sent_telegram_post(world, box, *, age_hours: float, name: str = "Telegram live"):
    config, secrets = box.config_for("telegram")
    channel = channel_create(actor=world.a.admin, team=world.a.team, kind="telegram", name=name,
                             config={**config, **secrets, "read_timeout": 2.0})
    message = make_approved(world.a, channels=[channel])
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    assert [delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due()] == ["sent"]
    delivery = Delivery.objects.get(message=message)
    Delivery.objects.filter(pk=delivery.pk).update(sent_at=timezone.now() - timedelta(hours=age_hours))
    box.age_post("telegram", delivery.external_id, hours=age_hours)
    return message, Delivery.objects.get(pk=delivery.pk)


def test_the_withdraw_form_and_the_panel_warn_about_posts_older_than_48_hours(world, box):
    message, delivery = _sent_telegram_post(world, box, age_hours=21 * 24)
    client = Client()
    client.force_login(world.a.supervisor)
    page = client.get(f"/desk/messages/{message.pk}/").content.decode()
    warning = page[page.index('id="withdraw-too-old"'):]
    warning = warning[:warning.index("</div>")]
    assert "less than 48 hours old" in warning and "Telegram live" in warning
    assert "remove them by hand" in warning
    panel = client.get(f"/desk/messages/{message.pk}/deliveries/").content.decode()
    assert "no longer lets us delete it" in panel


def test_a_young_post_gets_no_warning(world, box):
    message, _ = _sent_telegram_post(world, box, age_hours=2)
    client = Client()
    client.force_login(world.a.supervisor)
    page = client.get(f"/desk/messages/{message.pk}/").content.decode()
    assert 'id="withdraw-too-old"' not in page


def test_an_old_post_is_left_for_removal_by_hand_and_a_person_records_it(world, box):
    message, delivery = _sent_telegram_post(world, box, age_hours=49)
    publishing.message_withdraw(actor=world.a.supervisor, message=message, reason="Wrong road named")
    delivery_take_down(delivery_id=delivery.pk)  # what the take_down task does
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.manual_takedown
    assert "less than 48 hours old" in delivery.last_error
    assert len(box.posts("telegram")) == 1  # the sandbox did not pretend to delete it

    client = Client()
    client.force_login(world.a.supervisor)
    panel = client.get(f"/desk/messages/{message.pk}/deliveries/").content.decode()
    assert "Remove by hand" in panel and f"/desk/deliveries/{delivery.pk}/handled/" in panel

    client.force_login(world.a.officer)  # not a supervisor: no button, and the action is refused
    assert f"/deliveries/{delivery.pk}/handled/" not in client.get(
        f"/desk/messages/{message.pk}/deliveries/").content.decode()
    client.post(f"/desk/deliveries/{delivery.pk}/handled/")
    delivery.refresh_from_db()
    assert delivery.manual_takedown

    client.force_login(world.a.supervisor)
    response = client.post(f"/desk/deliveries/{delivery.pk}/handled/")
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.WITHDRAWN and not delivery.manual_takedown
    event = AuditEvent.objects.get(verb="delivery.removed_by_hand")
    assert event.actor_id == world.a.supervisor.pk
    # Twice is refused (nothing left to handle), and the audit trail has one entry.
    client.post(f"/desk/deliveries/{delivery.pk}/handled/")
    assert AuditEvent.objects.filter(verb="delivery.removed_by_hand").count() == 1


def test_marking_one_post_removed_by_hand_leaves_every_other_post_waiting(world, box):
    """The "handled" action settles the one delivery it names: another post also waiting for
    removal by hand (another message's) stays waiting, so nobody forgets to delete it."""
    first, first_delivery = _sent_telegram_post(world, box, age_hours=72)
    second, second_delivery = _sent_telegram_post(world, box, age_hours=72, name="Telegram events")
    for message, delivery in ((first, first_delivery), (second, second_delivery)):
        publishing.message_withdraw(actor=world.a.supervisor, message=message, reason="Wrong road named")
        delivery_take_down(delivery_id=delivery.pk)
    publishing.delivery_mark_removed_by_hand(actor=world.a.supervisor, delivery=first_delivery)
    first_delivery.refresh_from_db()
    second_delivery.refresh_from_db()
    assert first_delivery.status == DeliveryStatus.WITHDRAWN and not first_delivery.manual_takedown
    assert second_delivery.status == DeliveryStatus.SENT and second_delivery.manual_takedown
    assert AuditEvent.objects.filter(verb="delivery.removed_by_hand").count() == 1


def test_a_post_under_48_hours_is_deleted_by_the_withdrawal(world, box):
    message, delivery = _sent_telegram_post(world, box, age_hours=47)
    publishing.message_withdraw(actor=world.a.supervisor, message=message, reason="Wrong road named")
    delivery_take_down(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.WITHDRAWN and not delivery.manual_takedown
    assert box.posts("telegram") == []
