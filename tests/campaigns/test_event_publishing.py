"""Event facts reach the public pages only as a second person published them (issue 12, section 2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent, Role
from campaigns.models import Event, EventRevision
from campaigns.services import events as event_services
from core.errors import InvalidInput, NotAllowed, NotFound, WrongState
from tests.factories import TeamFactory, member, publish_event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_cache(settings, request):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"engage-event-publishing-{request.node.nodeid}"}}
    from django.core.cache import cache

    from engage.public import cache as public_cache

    cache.clear()
    public_cache.reset_local()
    yield
    cache.clear()
    public_cache.reset_local()


def draft_hash(event: Event) -> str:
    return event_services.event_draft(event).content_hash


def test_an_officers_edit_is_not_public_until_a_different_supervisor_publishes(world, client):
    tw = world.a
    url = f"/events/{tw.event.pk}/"
    event_services.event_update(actor=tw.officer, event=tw.event, name="Derby moved",
                                help_points="Casualty point at Gate Z.")
    page = client.get(url).content.decode()
    assert "Casualty point at Gate Z." not in page and "Derby moved" not in page
    assert "Derby A" in page  # the last published revision, meanwhile
    assert "Derby moved" not in client.get("/news/").content.decode()
    assert "Casualty point" not in client.get(f"/feeds/events/{tw.event.pk}.atom").content.decode()
    publish_event(tw.event, tw.supervisor)
    page = client.get(url).content.decode()
    assert "Casualty point at Gate Z." in page and "Derby moved" in page
    audit = AuditEvent.objects.filter(verb="event.published", target_id=str(tw.event.pk)).latest("at")
    assert audit.actor == tw.supervisor and audit.summary["authors"] == [tw.officer.pk]


def test_the_author_of_a_revision_cannot_publish_it(world, api):
    tw = world.a
    event_services.event_update(actor=tw.supervisor, event=tw.event, what_to_bring="Umbrellas.")
    with pytest.raises(NotAllowed) as refused:
        event_services.event_publish(actor=tw.supervisor, event=tw.event, expected_hash=draft_hash(tw.event))
    assert refused.value.code == "own_revision"
    # nor after another person adds to the same draft: they wrote part of it
    event_services.event_update(actor=tw.officer, event=tw.event, prohibited_items="Flares.")
    response = api(tw.supervisor).post(f"/api/v1/events/{tw.event.pk}/publish/",
                                       {"content_hash": draft_hash(tw.event)}, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "own_revision"
    for user in (tw.officer, tw.liaison, tw.admin):
        assert api(user).post(f"/api/v1/events/{tw.event.pk}/publish/", {"content_hash": draft_hash(tw.event)},
                              format="json").status_code == 403
    done = api(tw.supervisor2).post(f"/api/v1/events/{tw.event.pk}/publish/",
                                    {"content_hash": draft_hash(tw.event)}, format="json")
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["has_unpublished_changes"] is False and body["published_hash"] == body["content_hash"]
    tw.event.refresh_from_db()
    assert tw.event.published_revision.snapshot["what_to_bring"] == "Umbrellas."


def test_a_new_event_is_not_public_until_published(world, client, api):
    tw = world.a
    event = event_services.event_create(actor=tw.officer, team=tw.team, name="Night march", kind="protest",
                                        starts_at=timezone.now() - timedelta(hours=1),
                                        ends_at=timezone.now() + timedelta(hours=2), location="Bridge")
    assert client.get(f"/events/{event.pk}/").status_code == 404
    assert client.get(f"/feeds/events/{event.pk}.atom").status_code == 404
    assert "Night march" not in client.get("/").content.decode()
    detail = api(tw.officer).get(f"/api/v1/events/{event.pk}/").json()
    assert detail["published_revision"] is None and detail["has_unpublished_changes"] is True
    publish_event(event, tw.supervisor)
    assert client.get(f"/events/{event.pk}/").status_code == 200
    assert "Night march" in client.get("/").content.decode()


def test_publishing_needs_the_reviewed_hash_and_something_to_publish(world, api):
    tw = world.a
    client = api(tw.supervisor2)
    url = f"/api/v1/events/{tw.event.pk}/publish/"
    nothing = client.post(url, {"content_hash": tw.event.published_revision.content_hash}, format="json")
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "nothing_to_publish"
    event_services.event_update(actor=tw.officer, event=tw.event, location="North Stand")
    reviewed = draft_hash(tw.event)
    event_services.event_update(actor=tw.officer, event=tw.event, location="South Stand")
    stale = client.post(url, {"content_hash": reviewed}, format="json")
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "content_changed"
    assert client.post(url, {}, format="json").status_code == 400
    assert client.post(url, {"content_hash": draft_hash(tw.event)}, format="json").status_code == 200


def test_another_forces_supervisor_cannot_publish(world, api):
    tw = world.a
    event_services.event_update(actor=tw.officer, event=tw.event, location="North Stand")
    other_force = TeamFactory(name="Other force", slug="other-force")
    stranger = member(other_force, Role.SUPERVISOR)
    for user in (stranger, world.b.supervisor):
        response = api(user).post(f"/api/v1/events/{tw.event.pk}/publish/",
                                  {"content_hash": draft_hash(tw.event)}, format="json")
        assert response.status_code == 404
        with pytest.raises(NotFound):
            event_services.event_publish(actor=user, event=tw.event, expected_hash=draft_hash(tw.event))
    assert event_services.event_draft(Event.objects.get(pk=tw.event.pk)) is not None


def test_a_phase_override_is_a_draft_too(world, client):
    tw = world.a
    event_services.event_set_phase(actor=tw.supervisor, event=tw.event, phase="during")
    assert "phase during" not in client.get("/").content.decode()
    with pytest.raises(NotAllowed):
        publish_event(tw.event, tw.supervisor)
    publish_event(tw.event, tw.supervisor2)
    assert Event.objects.get(pk=tw.event.pk).public_version().phase == "during"


def test_every_revision_is_kept_and_audited(world):
    tw = world.a
    event_services.event_update(actor=tw.officer, event=tw.event, location="A")
    event_services.event_update(actor=tw.officer, event=tw.event, location="B")
    event_services.event_update(actor=tw.officer, event=tw.event, risk_level="high")  # internal: no revision
    revisions = list(EventRevision.objects.filter(event=tw.event).order_by("number"))
    assert [r.snapshot["location"] for r in revisions] == ["Stadium", "A", "B"]
    assert [r.author for r in revisions] == [tw.officer] * 3 and revisions[0].published_by == tw.supervisor
    assert AuditEvent.objects.filter(verb="event.revision_drafted", target_id=str(tw.event.pk)).count() == \
        len(revisions)


@pytest.mark.parametrize("starts,ends,kind,field", [
    (datetime(1900, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC), "planned", "starts_at"),
    (None, datetime(9999, 1, 1, tzinfo=UTC), "encampment", "ends_at"),
    (None, "+40d", "planned", "ends_at"),
    (None, "+4y", "encampment", "ends_at"),
])
def test_absurd_dates_are_refused(world, api, starts, ends, kind, field):
    now = timezone.now()
    starts = starts or now
    if ends == "+40d":
        ends = now + timedelta(days=40)
    elif ends == "+4y":
        ends = now + timedelta(days=4 * 366)
    with pytest.raises(InvalidInput) as refused:
        event_services.event_create(actor=world.a.officer, team=world.a.team, name="Typo", kind=kind,
                                    starts_at=starts, ends_at=ends)
    assert field in refused.value.fields
    response = api(world.a.officer).post("/api/v1/events/", {
        "name": "Typo", "kind": kind, "starts_at": starts.isoformat(), "ends_at": ends.isoformat()}, format="json")
    assert response.status_code == 400 and field in response.json()["error"]["fields"]
    assert not Event.objects.filter(name="Typo").exists()


def test_a_long_encampment_within_limits_is_allowed(world):
    now = timezone.now()
    event = event_services.event_create(actor=world.a.officer, team=world.a.team, name="Camp", kind="encampment",
                                        starts_at=now - timedelta(days=200), ends_at=now + timedelta(days=100))
    assert event.pk


def test_the_desk_shows_the_diff_and_publishes(world, client):
    tw = world.a
    event_services.event_update(actor=tw.officer, event=tw.event, help_points="Casualty point at Gate Z.")
    client.force_login(tw.officer)
    page = client.get(f"/desk/events/{tw.event.pk}/").content.decode()
    assert "Waiting to be published" in page and "Casualty point at Gate Z." in page
    assert "Publish revision" not in page
    assert client.post(f"/desk/events/{tw.event.pk}/publish/",
                       {"content_hash": draft_hash(tw.event)}).status_code == 403
    client.force_login(tw.supervisor)
    page = client.get(f"/desk/events/{tw.event.pk}/").content.decode()
    assert "Publish revision" in page
    response = client.post(f"/desk/events/{tw.event.pk}/publish/", {"content_hash": draft_hash(tw.event)})
    assert response.status_code == 302
    assert "Casualty point at Gate Z." in client.get(f"/events/{tw.event.pk}/").content.decode()
    client.force_login(world.b.supervisor)
    assert client.post(f"/desk/events/{tw.event.pk}/publish/", {"content_hash": "x"}).status_code == 404


def test_hiding_an_event_is_immediate_and_showing_it_again_needs_publication(world, client):
    tw = world.a
    event_services.event_update(actor=tw.officer, event=tw.event, is_public=False)
    assert client.get(f"/events/{tw.event.pk}/").status_code == 404
    event_services.event_update(actor=tw.officer, event=tw.event, is_public=True)
    # back to the published content: the revision that hid it was never published
    assert client.get(f"/events/{tw.event.pk}/").status_code == 200
    event = Event.objects.get(pk=tw.event.pk)
    assert event_services.event_draft(event) is None  # same words as published: nothing to publish
    with pytest.raises(WrongState) as nothing:
        event_services.event_publish(actor=tw.supervisor, event=event, expected_hash=event.published_revision.content_hash)
    assert nothing.value.code == "nothing_to_publish"
