"""Each force has its own contact form; only platform operators route it (issue 12, section 3).

``/contact/<force>/`` goes to that force, ``/contact/`` to the deployment's default force
(ENGAGE_DEFAULT_CONTACT_FORCE). Which team of a force receives it is a platform operator's choice;
no team administrator can take over another force's (or their own force's) citizens' reports.
"""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from accounts.models import AuditEvent, Role
from accounts.services import force_contact_route_set, team_update_settings
from core.errors import InvalidInput, NotAllowed
from engage.models import Reply
from tests.factories import TeamFactory, UserFactory, make_other_force, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def other(world):
    return make_other_force("C")


def submit(path: str, text: str = "When does the road reopen?", contact: str = "") -> Reply:
    client = Client()
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    nonce = re.search(rb'name="nonce" value="([0-9a-f]+)"', page.content).group(1).decode()
    response = client.post(path, {"text": text, "contact": contact, "nonce": nonce})
    assert response.status_code == 200, response.content[:300]
    return Reply.objects.order_by("-id").first()


def test_each_force_has_its_own_contact_form_and_the_default_is_configured(world, other, settings):
    settings.ENGAGE_DEFAULT_CONTACT_FORCE = "force"
    mine = submit("/contact/")
    assert mine.team_id in {world.force.pk, world.a.team.pk, world.b.team.pk}
    theirs = submit("/contact/force-c/")
    assert theirs.team_id == other[1].team.pk  # the only team of force C with a liaison officer
    settings.ENGAGE_DEFAULT_CONTACT_FORCE = "force-c"
    assert submit("/contact/").team_id == other[1].team.pk
    # A unit's slug is no force, and an unknown one is no form.
    assert Client().get("/contact/team-a/").status_code == 404
    assert Client().get("/contact/nowhere/").status_code == 404


def test_without_a_default_several_forces_are_offered(world, other, settings):
    settings.ENGAGE_DEFAULT_CONTACT_FORCE = ""
    page = Client().get("/contact/")
    assert page.status_code == 200
    assert b"/contact/force/" in page.content and b"/contact/force-c/" in page.content
    assert Client().post("/contact/", {"text": "x"}).status_code == 404


def test_a_team_admin_cannot_take_over_the_contact_form(world, other, settings):
    settings.ENGAGE_DEFAULT_CONTACT_FORCE = "force"
    before = submit("/contact/").team_id
    # The old way: force C's administrator ticks "this team's inbox receives the public contact form".
    browser = Client()
    browser.force_login(other[1].admin)
    browser.post("/desk/inbox/settings/", {"team": other[1].team.pk, "kind": "routing", "public_contact": "on"})
    assert submit("/contact/").team_id == before
    for key in ("public_contact", "contact_team"):
        with pytest.raises(NotAllowed):
            team_update_settings(team=other[1].team, actor=other[1].admin, changes={key: other[1].team.pk})
    chief_admin = member(world.force, Role.ADMIN, email="force-admin@engage.test")
    with pytest.raises(NotAllowed):
        force_contact_route_set(actor=chief_admin, force=world.force, team=world.b.team)
    with pytest.raises(NotAllowed):
        team_update_settings(team=world.force, actor=chief_admin, changes={"contact_team": world.b.team.pk})


def test_a_platform_operator_routes_a_force_and_it_is_audited(world, other, settings):
    settings.ENGAGE_DEFAULT_CONTACT_FORCE = "force"
    operator = UserFactory(email="operator@engage.test", is_superuser=True, is_staff=True)
    force_contact_route_set(actor=operator, force=world.force, team=world.b.team)
    assert submit("/contact/").team_id == world.b.team.pk
    event = AuditEvent.objects.get(verb="force.contact_route_changed")
    assert event.actor == operator and event.summary["after"] == world.b.team.pk
    with pytest.raises(InvalidInput):  # never a team of another force
        force_contact_route_set(actor=operator, force=world.force, team=other[1].team)
    with pytest.raises(InvalidInput):  # a unit is not a force
        force_contact_route_set(actor=operator, force=world.a.team, team=None)
    call_command("contact_route", "force", "team-a", operator="operator@engage.test")
    assert submit("/contact/").team_id == world.a.team.pk
    with pytest.raises(CommandError):
        call_command("contact_route", "force", "team-b", operator=world.a.admin.email)


def test_a_reply_to_a_news_item_goes_to_that_messages_force(world, other, settings, sandbox):
    from campaigns import publishing
    from campaigns.publishing import deliveries_claim_due, delivery_send
    from tests.factories import make_approved

    settings.ENGAGE_DEFAULT_CONTACT_FORCE = "force"
    message = make_approved(other[1])
    publishing.message_schedule(actor=other[1].officer, message=message, scheduled_at=None)
    for delivery_id, token, _ in deliveries_claim_due():
        delivery_send(delivery_id=delivery_id, token=token)
    reply = submit(f"/news/{message.pk}/reply/")
    assert reply.team_id == other[1].team.pk and reply.message_id == message.pk


def test_a_force_with_no_liaison_receives_its_own_form(db, settings):
    settings.ENGAGE_DEFAULT_CONTACT_FORCE = ""
    force = TeamFactory(name="Lonely", slug="lonely")
    assert submit("/contact/").team_id == force.pk  # the only force
    assert submit("/contact/lonely/").team_id == force.pk
