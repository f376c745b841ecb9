"""Rumour control: officers register claims, one person writes a verdict, a second publishes it,
and every published verdict stays in the corrections log."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from campaigns.models import Rumour, RumourChange, RumourStatus, RumourVerdict
from campaigns.services.rumours import (
    rumour_create,
    rumour_verdict_publish,
    rumour_verdict_review,
    rumour_verdict_write,
)
from core.errors import InvalidInput, NotAllowed, NotFound, WrongState
from tests.factories import TeamFactory, member, publish_rumour_verdict

pytestmark = pytest.mark.django_db


def test_an_officer_registers_a_claim_that_stays_private_until_a_second_person_publishes(world):
    tw = world.a
    rumour = rumour_create(actor=tw.officer, event=tw.event, claim="  The bridge has <b>collapsed</b>  ")
    assert rumour.claim == "The bridge has collapsed"  # sanitised: no markup, trimmed
    assert rumour.status == RumourStatus.UNVERIFIED and not rumour.is_public
    assert AuditEvent.objects.filter(verb="rumour.created", target_id=str(rumour.pk), actor=tw.officer).exists()
    verdict = rumour_verdict_write(actor=tw.supervisor, rumour=rumour, status="unverified",
                                   explanation="We are checking this with the council.")
    rumour.refresh_from_db()
    assert not rumour.is_public and not RumourChange.objects.exists()  # written is not published
    rumour = rumour_verdict_publish(actor=tw.supervisor2, verdict=verdict, expected_hash=verdict.content_hash)
    assert rumour.is_public and rumour.status_changed_at == rumour.published_at
    change = RumourChange.objects.get(rumour=rumour)
    assert (change.previous_status, change.status, change.actor, change.verdict) == (
        "", "unverified", tw.supervisor2, verdict)
    verdict.refresh_from_db()
    assert (verdict.author, verdict.published_by, verdict.emergency) == (tw.supervisor, tw.supervisor2, False)


def test_the_author_of_a_verdict_cannot_publish_it(world):
    tw = world.a
    rumour = rumour_create(actor=tw.officer, event=tw.event, claim="Trains are suspended")
    verdict = rumour_verdict_write(actor=tw.supervisor, rumour=rumour, status="false", explanation="They run.")
    with pytest.raises(NotAllowed) as refused:
        rumour_verdict_publish(actor=tw.supervisor, verdict=verdict, expected_hash=verdict.content_hash)
    assert refused.value.code == "own_verdict"
    rumour.refresh_from_db()
    assert not rumour.is_public and rumour.explanation == "" and not RumourChange.objects.exists()


def test_the_supervisor_who_wrote_the_claim_cannot_publish_its_first_verdict(world):
    tw = world.a
    rumour = rumour_create(actor=tw.supervisor, event=tw.event, claim="Trains are suspended")
    verdict = rumour_verdict_write(actor=tw.officer, rumour=rumour, status="false", explanation="They run.")
    with pytest.raises(NotAllowed):
        rumour_verdict_publish(actor=tw.supervisor, verdict=verdict)
    rumour_verdict_publish(actor=tw.supervisor2, verdict=verdict)
    assert Rumour.objects.get(pk=rumour.pk).is_public


def test_emergency_self_publication_goes_out_and_waits_for_a_second_supervisor(world):
    tw = world.a
    rumour = rumour_create(actor=tw.officer, event=tw.event, claim="The stadium is on fire")
    verdict = rumour_verdict_write(actor=tw.supervisor, rumour=rumour, status="false",
                                   explanation="There is no fire. Stay calm and follow stewards.")
    rumour = rumour_verdict_publish(actor=tw.supervisor, verdict=verdict, emergency=True)
    verdict.refresh_from_db()
    assert rumour.is_public and rumour.status == "false"
    assert verdict.emergency and verdict.emergency_reviewed_at is None  # pending the after-review
    audit = AuditEvent.objects.get(verb="rumour.status_set", target_id=str(rumour.pk))
    assert audit.summary["emergency_self_published"] is True
    with pytest.raises(NotAllowed):
        rumour_verdict_review(actor=tw.supervisor, verdict=verdict)  # not by the same supervisor
    with pytest.raises(NotAllowed):
        rumour_verdict_review(actor=tw.officer, verdict=verdict)
    rumour_verdict_review(actor=tw.supervisor2, verdict=verdict, comment="Fine.")
    verdict.refresh_from_db()
    assert verdict.emergency_reviewed_by == tw.supervisor2
    with pytest.raises(WrongState):
        rumour_verdict_review(actor=tw.supervisor2, verdict=verdict)


def test_an_officer_cannot_use_the_emergency_path(world):
    tw = world.a
    rumour = rumour_create(actor=tw.officer, event=tw.event, claim="The stadium is on fire")
    verdict = rumour_verdict_write(actor=tw.officer, rumour=rumour, status="false", explanation="No fire.")
    with pytest.raises(NotAllowed):
        rumour_verdict_publish(actor=tw.officer, verdict=verdict, emergency=True)
    assert not Rumour.objects.get(pk=rumour.pk).is_public


def test_a_newer_version_supersedes_and_a_stale_hash_is_refused(world):
    tw = world.a
    rumour = rumour_create(actor=tw.officer, event=tw.event, claim="Trains are suspended")
    first = rumour_verdict_write(actor=tw.officer, rumour=rumour, status="false", explanation="They run.")
    second = rumour_verdict_write(actor=tw.officer, rumour=rumour, status="false", explanation="They run to time.")
    with pytest.raises(WrongState):
        rumour_verdict_publish(actor=tw.supervisor, verdict=first)  # superseded
    with pytest.raises(WrongState):
        rumour_verdict_publish(actor=tw.supervisor, verdict=second, expected_hash=first.content_hash)
    rumour_verdict_publish(actor=tw.supervisor, verdict=second, expected_hash=second.content_hash)
    assert Rumour.objects.get(pk=rumour.pk).explanation == "They run to time."
    assert RumourVerdict.objects.filter(rumour=rumour).count() == 2  # every version is kept


def test_every_published_verdict_is_kept_in_the_corrections_log_and_audited(world):
    tw = world.a
    rumour = rumour_create(actor=tw.officer, event=tw.event, claim="The match is cancelled")
    publish_rumour_verdict(writer=tw.officer, publisher=tw.supervisor, rumour=rumour, status="unverified",
                           explanation="Checking.")
    first_published = Rumour.objects.get(pk=rumour.pk).published_at
    publish_rumour_verdict(writer=tw.supervisor, publisher=tw.supervisor2, rumour=rumour, status="false",
                           explanation="The match goes ahead.")
    rumour_verdict_write(actor=tw.officer, rumour=rumour, status="confirmed", explanation="Never published.")
    publish_rumour_verdict(writer=tw.supervisor2, publisher=tw.supervisor, rumour=rumour, status="false",
                           explanation="The match goes ahead at 15:00 as planned.")
    rumour.refresh_from_db()
    assert rumour.status == "false" and rumour.published_at == first_published
    log = list(rumour.changes.order_by("created_at", "id").values_list("previous_status", "status", "explanation"))
    assert log == [("", "unverified", "Checking."), ("unverified", "false", "The match goes ahead."),
                   ("false", "false", "The match goes ahead at 15:00 as planned.")]
    audits = AuditEvent.objects.filter(verb="rumour.status_set", target_id=str(rumour.pk)).order_by("at", "id")
    assert [a.summary["to"] for a in audits] == ["unverified", "false", "false"]
    assert [a.actor for a in audits] == [tw.supervisor, tw.supervisor2, tw.supervisor]
    assert AuditEvent.objects.filter(verb="rumour.verdict_written", target_id=str(rumour.pk)).count() == 4
    assert rumour.verdicts.count() == 4  # the unpublished version is kept too, but not in the public log


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


def test_only_drafters_of_the_team_write_and_only_its_supervisors_publish(world):
    rumour = rumour_create(actor=world.a.officer, event=world.a.event, claim="Trains are suspended")
    for actor in (world.a.liaison, world.a.admin):
        with pytest.raises(NotAllowed):
            rumour_verdict_write(actor=actor, rumour=rumour, status="false", explanation="No.")
    with pytest.raises(NotFound):
        rumour_verdict_write(actor=world.b.supervisor, rumour=rumour, status="false", explanation="No.")
    verdict = rumour_verdict_write(actor=world.a.supervisor, rumour=rumour, status="false", explanation="No.")
    for actor in (world.a.liaison, world.a.admin):
        with pytest.raises(NotAllowed):
            rumour_verdict_publish(actor=actor, verdict=verdict)
    with pytest.raises(NotFound):
        rumour_verdict_publish(actor=world.b.supervisor, verdict=verdict)
    other_force = TeamFactory(name="Other force", slug="other-force")
    with pytest.raises(NotFound):
        rumour_verdict_publish(actor=member(other_force, "supervisor"), verdict=verdict, emergency=True)
    assert not RumourChange.objects.exists() and not Rumour.objects.get(pk=rumour.pk).is_public


def test_a_verdict_needs_a_known_status_an_explanation_and_a_change(world):
    rumour = rumour_create(actor=world.a.officer, event=world.a.event, claim="Trains are suspended")
    with pytest.raises(InvalidInput):
        rumour_verdict_write(actor=world.a.supervisor, rumour=rumour, status="unknown", explanation="?")
    with pytest.raises(InvalidInput):
        rumour_verdict_write(actor=world.a.supervisor, rumour=rumour, status="false", explanation="  ")
    publish_rumour_verdict(writer=world.a.supervisor, publisher=world.a.supervisor2, rumour=rumour,
                           status="confirmed", explanation="Until 18:00.")
    with pytest.raises(WrongState):
        rumour_verdict_write(actor=world.a.supervisor, rumour=rumour, status="confirmed", explanation="Until 18:00.")
    assert RumourChange.objects.count() == 1


# --- the staff page --------------------------------------------------------------------------------

def test_the_staff_page_writes_then_a_second_supervisor_publishes(world, client):
    tw = world.a
    url = f"/desk/events/{tw.event.pk}/rumours/"
    client.force_login(tw.officer)
    page = client.get(url)
    assert page.status_code == 200 and b"Register a rumour" in page.content
    response = client.post(url, {"claim": "The bridge has collapsed"})
    assert response.status_code == 302
    rumour = Rumour.objects.get()
    assert rumour.created_by == tw.officer and not rumour.is_public
    written = client.post(f"/desk/rumours/{rumour.pk}/status/",
                          {f"r{rumour.pk}-status": "false", f"r{rumour.pk}-explanation": "The bridge is open."})
    assert written.status_code == 302 and done_anchor(rumour) in written["Location"]
    verdict = RumourVerdict.objects.get(rumour=rumour)
    assert verdict.author == tw.officer and not Rumour.objects.get(pk=rumour.pk).is_public
    assert b"Publish this verdict" not in client.get(url).content  # officers do not publish
    assert client.post(f"/desk/rumour-verdicts/{verdict.pk}/publish/",
                       {"content_hash": verdict.content_hash}).status_code == 403
    client.force_login(tw.supervisor)
    assert b"Publish this verdict" in client.get(url).content
    done = client.post(f"/desk/rumour-verdicts/{verdict.pk}/publish/", {"content_hash": verdict.content_hash})
    assert done.status_code == 302 and done["Location"].endswith(f"/rumours/#rumour-{rumour.pk}")
    rumour.refresh_from_db()
    assert rumour.status == "false" and rumour.is_public
    assert b"The bridge is open." in client.get(url).content


def done_anchor(rumour: Rumour) -> str:
    return f"#rumour-{rumour.pk}"


def test_the_staff_page_refuses_a_supervisor_publishing_their_own_verdict_without_emergency(world, client):
    tw = world.a
    rumour = rumour_create(actor=tw.officer, event=tw.event, claim="The bridge has collapsed")
    verdict = rumour_verdict_write(actor=tw.supervisor, rumour=rumour, status="false", explanation="Open.")
    client.force_login(tw.supervisor)
    client.post(f"/desk/rumour-verdicts/{verdict.pk}/publish/", {"content_hash": verdict.content_hash})
    assert not Rumour.objects.get(pk=rumour.pk).is_public
    client.post(f"/desk/rumour-verdicts/{verdict.pk}/publish/",
                {"content_hash": verdict.content_hash, "emergency": "on"})
    verdict.refresh_from_db()
    assert Rumour.objects.get(pk=rumour.pk).is_public and verdict.emergency
    client.force_login(tw.supervisor2)
    assert b"Review this emergency verdict" in client.get(f"/desk/events/{tw.event.pk}/rumours/").content
    assert client.post(f"/desk/rumour-verdicts/{verdict.pk}/review/", {"comment": "ok"}).status_code == 302
    verdict.refresh_from_db()
    assert verdict.emergency_reviewed_by == tw.supervisor2


def test_the_staff_page_is_not_found_for_another_team(world, client):
    tw = world.a
    rumour = rumour_create(actor=tw.officer, event=tw.event, claim="The bridge has collapsed")
    verdict = rumour_verdict_write(actor=tw.officer, rumour=rumour, status="false", explanation="Open.")
    client.force_login(world.b.supervisor)
    assert client.get(f"/desk/events/{tw.event.pk}/rumours/").status_code == 404
    assert client.post(f"/desk/rumours/{rumour.pk}/status/",
                       {f"r{rumour.pk}-status": "false", f"r{rumour.pk}-explanation": "No."}).status_code == 404
    assert client.post(f"/desk/rumour-verdicts/{verdict.pk}/publish/",
                       {"content_hash": verdict.content_hash}).status_code == 404
    client.force_login(tw.liaison)
    page = client.get(f"/desk/events/{tw.event.pk}/rumours/")
    assert page.status_code == 200 and b"Register a rumour" not in page.content
    assert client.post(f"/desk/events/{tw.event.pk}/rumours/", {"claim": "x"}).status_code == 403
