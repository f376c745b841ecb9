"""Rumour control: officers register claims, supervisors decide, every decision stays in the log."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from campaigns.models import Rumour, RumourChange, RumourStatus
from campaigns.services.rumours import rumour_create, rumour_set_status
from engage.common.errors import InvalidInput, NotAllowed, NotFound, WrongState

pytestmark = pytest.mark.django_db


def test_an_officer_registers_a_claim_that_stays_private_until_a_supervisor_decides(world):
    tw = world.a
    rumour = rumour_create(actor=tw.officer, event=tw.event, claim="  The bridge has <b>collapsed</b>  ")
    assert rumour.claim == "The bridge has collapsed"  # sanitised: no markup, trimmed
    assert rumour.status == RumourStatus.UNVERIFIED and not rumour.is_public
    assert AuditEvent.objects.filter(verb="rumour.created", target_id=str(rumour.pk), actor=tw.officer).exists()
    rumour = rumour_set_status(actor=tw.supervisor, rumour=rumour, status="unverified",
                               explanation="We are checking this with the council.")
    assert rumour.is_public and rumour.status_changed_at == rumour.published_at
    change = RumourChange.objects.get(rumour=rumour)
    assert (change.previous_status, change.status, change.actor) == ("", "unverified", tw.supervisor)


def test_every_status_change_is_kept_in_the_corrections_log_and_audited(world):
    tw = world.a
    rumour = rumour_create(actor=tw.officer, event=tw.event, claim="The match is cancelled")
    rumour_set_status(actor=tw.supervisor, rumour=rumour, status="unverified", explanation="Checking.")
    first_published = Rumour.objects.get(pk=rumour.pk).published_at
    rumour_set_status(actor=tw.supervisor2, rumour=rumour, status="false", explanation="The match goes ahead.")
    rumour_set_status(actor=tw.supervisor, rumour=rumour, status="false",
                      explanation="The match goes ahead at 15:00 as planned.")
    rumour.refresh_from_db()
    assert rumour.status == "false" and rumour.published_at == first_published
    log = list(rumour.changes.order_by("created_at", "id").values_list("previous_status", "status", "explanation"))
    assert log == [("", "unverified", "Checking."), ("unverified", "false", "The match goes ahead."),
                   ("false", "false", "The match goes ahead at 15:00 as planned.")]
    audits = AuditEvent.objects.filter(verb="rumour.status_set", target_id=str(rumour.pk)).order_by("at", "id")
    assert [a.summary["to"] for a in audits] == ["unverified", "false", "false"]
    assert [a.actor for a in audits] == [tw.supervisor, tw.supervisor2, tw.supervisor]


def test_only_officers_and_supervisors_of_the_team_register_rumours(world):
    with pytest.raises(NotAllowed):
        rumour_create(actor=world.a.liaison, event=world.a.event, claim="Something")
    with pytest.raises(NotFound):
        rumour_create(actor=world.b.officer, event=world.a.event, claim="Something")
    with pytest.raises(NotFound):
        rumour_create(actor=world.outsider, event=world.a.event, claim="Something")
    assert rumour_create(actor=world.a.supervisor, event=world.a.event, claim="Something").pk
    with pytest.raises(InvalidInput):
        rumour_create(actor=world.a.officer, event=world.a.event, claim="  <i></i> ")
    with pytest.raises(InvalidInput):
        rumour_create(actor=world.a.officer, event=world.a.event, claim="x" * 501)


def test_only_a_supervisor_of_the_team_sets_the_status(world):
    rumour = rumour_create(actor=world.a.officer, event=world.a.event, claim="Trains are suspended")
    for actor in (world.a.officer, world.a.liaison, world.a.admin):
        with pytest.raises(NotAllowed):
            rumour_set_status(actor=actor, rumour=rumour, status="false", explanation="No.")
    with pytest.raises(NotFound):
        rumour_set_status(actor=world.b.supervisor, rumour=rumour, status="false", explanation="No.")
    assert not RumourChange.objects.exists() and not Rumour.objects.get(pk=rumour.pk).is_public


def test_a_decision_needs_a_known_status_an_explanation_and_a_change(world):
    rumour = rumour_create(actor=world.a.officer, event=world.a.event, claim="Trains are suspended")
    with pytest.raises(InvalidInput):
        rumour_set_status(actor=world.a.supervisor, rumour=rumour, status="unknown", explanation="?")
    with pytest.raises(InvalidInput):
        rumour_set_status(actor=world.a.supervisor, rumour=rumour, status="false", explanation="  ")
    rumour_set_status(actor=world.a.supervisor, rumour=rumour, status="confirmed", explanation="Until 18:00.")
    with pytest.raises(WrongState):
        rumour_set_status(actor=world.a.supervisor, rumour=rumour, status="confirmed", explanation="Until 18:00.")
    assert RumourChange.objects.count() == 1


# --- the staff page --------------------------------------------------------------------------------

def test_the_staff_page_registers_and_decides(world, client):
    tw = world.a
    url = f"/desk/events/{tw.event.pk}/rumours/"
    client.force_login(tw.officer)
    page = client.get(url)
    assert page.status_code == 200 and b"Register a rumour" in page.content
    assert b"Publish the decision" not in page.content  # officers do not decide
    response = client.post(url, {"claim": "The bridge has collapsed"})
    assert response.status_code == 302
    rumour = Rumour.objects.get()
    assert rumour.created_by == tw.officer and not rumour.is_public
    refused = client.post(f"/desk/rumours/{rumour.pk}/status/",
                          {f"r{rumour.pk}-status": "false", f"r{rumour.pk}-explanation": "No."})
    assert refused.status_code == 403
    client.force_login(tw.supervisor)
    assert b"Publish the decision" in client.get(url).content
    done = client.post(f"/desk/rumours/{rumour.pk}/status/",
                       {f"r{rumour.pk}-status": "false", f"r{rumour.pk}-explanation": "The bridge is open."})
    assert done.status_code == 302 and done["Location"].endswith(f"/rumours/#rumour-{rumour.pk}")
    rumour.refresh_from_db()
    assert rumour.status == "false" and rumour.is_public
    assert b"The bridge is open." in client.get(url).content


def test_the_staff_page_is_not_found_for_another_team(world, client):
    tw = world.a
    rumour = rumour_create(actor=tw.officer, event=tw.event, claim="The bridge has collapsed")
    client.force_login(world.b.supervisor)
    assert client.get(f"/desk/events/{tw.event.pk}/rumours/").status_code == 404
    assert client.post(f"/desk/rumours/{rumour.pk}/status/",
                       {f"r{rumour.pk}-status": "false", f"r{rumour.pk}-explanation": "No."}).status_code == 404
    client.force_login(tw.liaison)
    page = client.get(f"/desk/events/{tw.event.pk}/rumours/")
    assert page.status_code == 200 and b"Register a rumour" not in page.content
    assert client.post(f"/desk/events/{tw.event.pk}/rumours/", {"claim": "x"}).status_code == 403
