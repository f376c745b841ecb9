"""A force is a tenant: its pause is its own (issue 12, section 3).

A supervisor pauses and resumes their own force and its teams; a platform-wide pause is for
platform operators (superusers) only, and only they lift it. Another force keeps publishing and
never sees the pause's names or reasons.
"""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditEvent, Role
from campaigns import publishing
from campaigns.models import PublishingPause
from campaigns.publishing import deliveries_claim_due, delivery_send
from campaigns.services.channels import channel_create
from core.errors import NotAllowed, WrongState
from tests.factories import UserFactory, make_approved, make_other_force, member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reset(sandbox):
    sandbox.reset()


@pytest.fixture
def other(world):
    """Force C, another tenant, next to the world's force (with teams A and B)."""
    force, tw = make_other_force("C")
    return force, tw


def telegram_for(tw, sandbox):
    config, secrets = sandbox.config_for("telegram")
    return channel_create(actor=tw.admin, team=tw.team, kind="telegram", name=f"Telegram {tw.team.slug}",
                          config={**config, **secrets, "read_timeout": 1.0})


def scheduled(tw, sandbox):
    message = make_approved(tw, channels=[telegram_for(tw, sandbox)])
    return publishing.message_schedule(actor=tw.officer, message=message, scheduled_at=None)


def send_due() -> dict[int, str]:
    from campaigns.models import Delivery

    claimed = deliveries_claim_due()
    return {Delivery.objects.get(pk=d).message_id: delivery_send(delivery_id=d, token=t) for d, t, _ in claimed}


def error_of(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:400])
    return response.json()["error"]


def test_a_force_pause_leaves_another_force_publishing(world, other, api, sandbox):
    chief = member(world.force, Role.SUPERVISOR, email="chief@engage.test")
    mine, theirs = scheduled(world.a, sandbox), scheduled(other[1], sandbox)
    response = api(chief).post("/api/v1/publishing/pause/", {"reason": "Incident in our force"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["team"] == world.force.pk
    assert PublishingPause.objects.get().team_id == world.force.pk  # never a platform-wide pause
    assert send_due() == {theirs.pk: "sent"}
    assert len(sandbox.posts("telegram")) == 1
    mine.refresh_from_db()
    assert mine.status == "scheduled"
    # The pause covers the whole force, units included; publishing_pause's audit says so.
    assert publishing.is_paused_for(mine) and not publishing.is_paused_for(theirs)
    assert AuditEvent.objects.get(verb="publishing.paused").summary["scope"] == "team"


def test_another_forces_supervisor_cannot_resume_or_see_a_pause(world, other, api, sandbox):
    chief = member(world.force, Role.SUPERVISOR, email="chief@engage.test")
    their_chief = member(other[0], Role.SUPERVISOR, email="chief-c@engage.test")
    publishing.publishing_pause(actor=chief, reason="Secret operation Nightjar")
    intruder = api(their_chief)
    assert error_of(intruder.post("/api/v1/publishing/resume/", {"reason": "x", "team": world.force.pk},
                                  format="json"), 404)["code"] == "not_found"
    assert error_of(intruder.post("/api/v1/publishing/resume/", {"reason": "x", "team": world.a.team.pk},
                                  format="json"), 404)["code"] == "not_found"
    # Without a team, "resume" means their own force, which is not paused.
    error_of(intruder.post("/api/v1/publishing/resume/", {"reason": "x"}, format="json"), 409)
    error_of(api(other[1].supervisor).post("/api/v1/publishing/resume/", {"reason": "x"}, format="json"), 403)
    assert PublishingPause.objects.get().resumed_at is None
    # Neither the banner nor the publishing page shows another force's pause.
    for user in (their_chief, other[1].officer):
        browser = Client()
        browser.force_login(user)
        for path in ("/desk/publishing/", "/desk/"):
            page = browser.get(path, follow=True)
            assert page.status_code == 200
            assert b"Nightjar" not in page.content and b"Force" not in page.content.replace(b"Force C", b"")
    own = Client()
    own.force_login(world.b.officer)
    assert b"Nightjar" in own.get("/desk/publishing/").content  # its own force's teams still see it
    publishing.publishing_resume(actor=chief, reason="Clear")
    assert PublishingPause.objects.get().resumed_at is not None


def test_only_platform_operators_pause_every_force_and_only_they_lift_it(world, other, api, sandbox):
    chief = member(world.force, Role.SUPERVISOR, email="chief@engage.test")
    assert not publishing.paused_team_ids()[0]
    publishing.publishing_pause(actor=chief, reason="Ours")
    assert publishing.paused_team_ids()[0] is False  # a force pause is not a platform pause
    with pytest.raises(NotAllowed):
        publishing.publishing_pause(actor=world.a.supervisor, reason="Everything")  # a unit's supervisor
    error_of(api(world.a.supervisor).post("/api/v1/publishing/pause/", {"reason": "Everything"}, format="json"),
             403)
    operator = UserFactory(email="operator@engage.test", is_superuser=True, is_staff=True)
    response = api(operator).post("/api/v1/publishing/pause/", {"reason": "Platform incident"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["team"] is None
    theirs = scheduled(other[1], sandbox)
    assert send_due() == {}
    # A force supervisor lifts their own force's pause, never the platform's.
    publishing.publishing_resume(actor=chief, reason="Ours is clear")
    with pytest.raises(WrongState):
        publishing.publishing_resume(actor=chief, reason="Try the platform")
    their_chief = member(other[0], Role.SUPERVISOR, email="chief-c@engage.test")
    error_of(api(their_chief).post("/api/v1/publishing/resume/", {"reason": "x"}, format="json"), 409)
    assert send_due() == {}
    publishing.publishing_resume(actor=operator, reason="Platform clear")
    assert send_due() == {theirs.pk: "sent"}


def test_a_team_pause_holds_only_that_team(world, other, sandbox):
    a, b, c = scheduled(world.a, sandbox), scheduled(world.b, sandbox), scheduled(other[1], sandbox)
    publishing.publishing_pause(actor=world.a.supervisor, reason="Unit A only", team=world.a.team.pk)
    assert send_due() == {b.pk: "sent", c.pk: "sent"}
    assert publishing.is_paused_for(a)


def test_a_force_pause_reaches_its_units_and_resume_holds_their_overdue(world, sandbox):
    from datetime import timedelta

    from django.utils import timezone

    from campaigns.models import Delivery

    chief = member(world.force, Role.SUPERVISOR, email="chief@engage.test")
    publishing.publishing_pause(actor=chief, reason="Force-wide", team=world.force.pk)
    a = scheduled(world.a, sandbox)
    assert send_due() == {}
    Delivery.objects.filter(message=a).update(due_at=timezone.now() - timedelta(hours=1))
    assert publishing.publishing_resume(actor=chief, reason="Clear", team=world.force.pk) == 1  # the unit's overdue row waits


def test_the_emergency_override_is_the_messages_own_forces_to_give(world, other, api, sandbox):
    from campaigns.services import workflow
    from tests.factories import make_message

    chief = member(world.force, Role.SUPERVISOR, email="chief@engage.test")
    publishing.publishing_pause(actor=chief, reason="Force-wide")
    message = make_message(world.a, author=world.a.supervisor, urgency="emergency",
                           channels=[telegram_for(world.a, sandbox)],
                           body="Please move away from Station Road now, calmly. If you are in danger call 999.")
    workflow.message_submit(actor=world.a.supervisor, message=message)
    workflow.message_approve(actor=world.a.supervisor, message=message)
    publishing.message_schedule(actor=world.a.supervisor, message=message, scheduled_at=None)
    assert send_due() == {}
    their_chief = member(other[0], Role.SUPERVISOR, email="chief-c@engage.test")
    for intruder in (their_chief, other[1].supervisor):
        error_of(api(intruder).post(f"/api/v1/messages/{message.pk}/pause-override/", format="json"), 404)
    assert send_due() == {}
    response = api(world.a.supervisor2).post(f"/api/v1/messages/{message.pk}/pause-override/", format="json")
    assert response.status_code == 200, response.content
    assert send_due() == {message.pk: "sent"}
