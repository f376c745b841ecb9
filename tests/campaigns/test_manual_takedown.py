"""Posts a platform would not let us delete (issue 16): every "remove by hand" row, whatever the
channel, has a "handled" action, leaves the problems list when handled, and says who handled it."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditEvent
from campaigns import publishing
from campaigns.models import Delivery, DeliveryStatus
from campaigns.publishing import delivery_take_down
from campaigns.services.channels import channel_create
from tests.factories import make_approved

pytestmark = pytest.mark.django_db


def _withdrawn_post_left_up(world, channel, *, external_id: str = "") -> Delivery:
    message = make_approved(world.a, channels=[channel])
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    # Setup: the post went out (SMS and email carry no id a platform could delete by).
    Delivery.objects.filter(message=message).update(status=DeliveryStatus.SENT, external_id=external_id)
    publishing.message_withdraw(actor=world.a.supervisor, message=message, reason="Wrong road named")
    delivery = Delivery.objects.get(message=message)
    delivery_take_down(delivery_id=delivery.pk)  # what the take_down task does
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.manual_takedown, delivery.last_error
    return delivery


@pytest.fixture(params=["sms", "email", "failed-take-down"])
def left_up(request, world, sandbox):
    if request.param == "sms":
        return _withdrawn_post_left_up(world, world.a.sms)
    if request.param == "email":
        channel = channel_create(actor=world.a.admin, team=world.a.team, kind="email", name="Email list",
                                 config={"from_email": "community@police.example"})
        return _withdrawn_post_left_up(world, channel)
    # Mastodon can delete, but this take-down fails: the platform refuses the credential.
    sandbox.reset()
    config, secrets = sandbox.config_for("mastodon")
    channel = channel_create(actor=world.a.admin, team=world.a.team, kind="mastodon", name="Mastodon live",
                             config={**config, **secrets, "read_timeout": 2.0})
    sandbox.set_behaviour("mastodon", auth_expired=True, applies_to="all")
    return _withdrawn_post_left_up(world, channel, external_id="109999")


def test_every_remove_by_hand_row_can_be_marked_handled_from_the_problems_list(world, left_up):
    delivery = left_up
    client = Client()
    client.force_login(world.a.supervisor)
    page = client.get("/desk/publishing/").content.decode()
    action = f"/desk/deliveries/{delivery.pk}/handled/"
    assert "remove by hand" in page and action in page
    assert action in client.get(f"/desk/messages/{delivery.message_id}/deliveries/").content.decode()

    response = client.post(action, {"back": "publishing"})
    assert response.status_code == 302 and response["Location"] == "/desk/publishing/"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.WITHDRAWN and not delivery.manual_takedown
    page = client.get("/desk/publishing/").content.decode()
    assert action not in page and f"#delivery-{delivery.pk}" not in page  # it left the problems list
    # Who did it: on the audit trail, and on the delivery's row.
    event = AuditEvent.objects.get(verb="delivery.removed_by_hand", target_id=str(delivery.pk))
    assert event.actor_id == world.a.supervisor.pk
    panel = client.get(f"/desk/messages/{delivery.message_id}/deliveries/").content.decode()
    assert f"Removed by hand: recorded by {world.a.supervisor.display_name}" in panel


def test_an_officer_cannot_mark_it_handled(world, left_up):
    client = Client()
    client.force_login(world.a.officer)
    client.post(f"/desk/deliveries/{left_up.pk}/handled/", {"back": "publishing"})
    left_up.refresh_from_db()
    assert left_up.manual_takedown and not AuditEvent.objects.filter(verb="delivery.removed_by_hand").exists()
