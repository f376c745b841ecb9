"""The desk: the panel on the event page (audited, charts with tables, candidates), setting up and
approving a watch through the pages, making a rumour of a candidate or dismissing it, and the
transparency page listing every watch that ran."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from campaigns.models import Rumour, RumourStatus
from engage.awareness import worker
from engage.awareness.models import CandidateStatus, RumourCandidate, Watch, WatchStatus
from platforms.signals import PublicPost, SourceResult
from tests.engage.awareness.conftest import approved_watch, make_desk

pytestmark = pytest.mark.django_db


def _feed_claim(watch, now):
    texts = ["They say a bomb was found at the north stand, ring 07700 900123",
             "they say a bomb was found at the north stand!!", "They say a BOMB was found at the north stand",
             "they say a bomb was found at the north stand"]

    def reader(key, cursor):
        return SourceResult(posts=[PublicPost(text=t, language="en", created_at=now) for t in texts], cursor="1")

    worker.watches_run(now=now, reader=reader)
    return RumourCandidate.objects.get(watch=watch)


@pytest.fixture
def logged_in(client, desk, settings):
    settings.ENGAGE_REQUIRE_2FA = False
    return client


def test_the_panel_shows_counts_tables_and_candidates_and_is_audited(logged_in, desk):
    watch = approved_watch(desk)
    candidate = _feed_claim(watch, timezone.now())
    client = _force_login(logged_in, desk.liaison)
    page = client.get(reverse("campaigns:event", kwargs={"pk": desk.event.pk}))
    html = page.content.decode()
    assert page.status_code == 200 and 'id="awareness"' in html
    assert "awareness-volume-svg" in html and "awareness-danger-svg" in html and "<table" in html
    assert "bomb was found at the north stand" in html.lower() and "07700" not in html
    assert "Make a rumour" not in html  # a liaison sees, a supervisor decides
    assert AuditEvent.objects.filter(verb="awareness.panel.viewed", actor=desk.liaison).count() == 1
    assert candidate.status == CandidateStatus.OPEN


def _force_login(client, user):
    client.force_login(user)
    return client


def test_a_supervisor_makes_a_rumour_of_a_candidate_or_dismisses_one(logged_in, desk):
    watch = approved_watch(desk)
    candidate = _feed_claim(watch, timezone.now())
    client = _force_login(logged_in, desk.supervisor)
    assert "Make a rumour" in client.get(reverse("campaigns:event", kwargs={"pk": desk.event.pk})).content.decode()
    response = client.post(reverse("awareness:promote", kwargs={"pk": candidate.pk}))
    assert response.status_code == 302
    rumour = Rumour.objects.get(event=desk.event)
    assert rumour.status == RumourStatus.UNVERIFIED and rumour.published_at is None  # its own approval follows
    assert "bomb" in rumour.claim.lower() and "07700" not in rumour.claim
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.PROMOTED and candidate.rumour == rumour
    again = client.post(reverse("awareness:promote", kwargs={"pk": candidate.pk}), follow=True)
    assert "already been decided" in again.content.decode() and Rumour.objects.count() == 1
    other = RumourCandidate.objects.create(watch=watch, claim="Roads closed", tokens=["roads", "closed"], count=3,
                                           first_seen=timezone.now(), last_seen=timezone.now())
    _force_login(client, desk.liaison).post(reverse("awareness:dismiss", kwargs={"pk": other.pk}))
    other.refresh_from_db()
    assert other.status == CandidateStatus.OPEN  # a liaison may not
    _force_login(client, desk.supervisor).post(reverse("awareness:dismiss", kwargs={"pk": other.pk}))
    other.refresh_from_db()
    assert other.status == CandidateStatus.DISMISSED
    assert set(AuditEvent.objects.filter(verb__startswith="awareness.candidate").values_list("verb", flat=True)) == {
        "awareness.candidate.promoted", "awareness.candidate.dismissed"}


def test_a_watch_is_set_up_and_approved_through_the_pages(logged_in, desk):
    client = _force_login(logged_in, desk.supervisor)
    url = reverse("awareness:new", kwargs={"pk": desk.event.pk})
    assert client.get(url).status_code == 200
    start = timezone.localtime() - timedelta(hours=1)
    form = {"purpose": "Spot crushes and rumours around the derby.", "window_start": start.strftime("%Y-%m-%dT%H:%M"),
            "window_end": (start + timedelta(days=15)).strftime("%Y-%m-%dT%H:%M"), "retention_hours": "48",
            "hashtags": "#DerbyDay DerbyFC", "instances": "https://social.example", "feed_urls": ""}
    refused = client.post(url, form)
    assert refused.status_code == 200 and "at most 14 days" in refused.content.decode()
    form["window_end"] = (start + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert client.post(url, form).status_code == 302
    watch = Watch.objects.get()
    assert watch.hashtags == ["DerbyDay", "DerbyFC"] and watch.retention_hours == 48
    client.post(reverse("awareness:approve", kwargs={"pk": watch.pk}))
    watch.refresh_from_db()
    assert watch.status == WatchStatus.PENDING  # not by the one who set it up
    _force_login(client, desk.supervisor2).post(reverse("awareness:approve", kwargs={"pk": watch.pk}))
    watch.refresh_from_db()
    assert watch.status == WatchStatus.APPROVED
    listing = client.get(reverse("awareness:list")).content.decode()
    assert "Spot crushes and rumours around the derby." in listing
    assert _force_login(client, desk.liaison).get(url).status_code == 403  # supervisors set watches up


def test_another_force_gets_404s(logged_in, desk):
    watch = approved_watch(desk)
    candidate = _feed_claim(watch, timezone.now())
    other = make_desk("C")
    client = _force_login(logged_in, other.supervisor)
    assert client.post(reverse("awareness:approve", kwargs={"pk": watch.pk})).status_code == 404
    assert client.post(reverse("awareness:promote", kwargs={"pk": candidate.pk})).status_code == 404
    assert client.get(reverse("awareness:new", kwargs={"pk": desk.event.pk})).status_code == 404
    assert desk.event.name not in client.get(reverse("awareness:list")).content.decode()


def test_the_transparency_page_lists_every_watch_that_ran(client, desk):
    running = approved_watch(desk)
    pending = Watch.objects.create(event=desk.event, purpose="Not approved yet", window_start=timezone.now(),
                                   window_end=timezone.now() + timedelta(days=1), created_by=desk.supervisor,
                                   hashtags=["Secret"])
    html = client.get("/transparency/").content.decode()
    assert "Spot safety problems and rumours." in html and "#DerbyDay" in html
    assert pending.purpose not in html and "#Secret" not in html
    welsh = client.get("/transparency/?lang=cy").content.decode()
    assert "Spot safety problems and rumours." in welsh
    assert running.event.name in welsh


def test_the_transparency_page_shows_a_watch_at_once_when_it_is_approved_or_stopped(client, desk,
                                                                                   django_capture_on_commit_callbacks):
    """The public page cache is dropped when a watch starts or stops, not when its copy expires."""
    from engage.awareness import services
    from engage.public import cache

    before = cache.current_version()
    with django_capture_on_commit_callbacks(execute=True):
        watch = approved_watch(desk)
    approved = cache.current_version()
    assert approved != before
    with django_capture_on_commit_callbacks(execute=True):
        services.watch_stop(actor=desk.supervisor, watch_id=watch.pk, reason="Event over")
    assert cache.current_version() != approved


def test_supervisors_find_awareness_in_the_menu_and_others_do_not(client, desk):
    client.force_login(desk.supervisor)
    assert 'href="/desk/awareness/"' in client.get("/desk/events/").content.decode()
    client.force_login(desk.officer)
    assert 'href="/desk/awareness/"' not in client.get("/desk/events/").content.decode()
