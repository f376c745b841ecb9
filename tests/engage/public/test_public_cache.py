"""The public page cache: a repeat visit costs no database query; anything public invalidates it."""

from __future__ import annotations

import gzip
import json
import re
import time

import pytest
from django.core.cache import cache

from campaigns import publishing
from campaigns.services import events as event_services
from campaigns.services.rumours import rumour_create
from engage.public import cache as public_cache
from tests.engage.public_helpers import (
    ARABIC,
    corrected_rumour,
    private_cache,  # noqa: F401 - autouse: a cache of the test's own
    publish,
)
from tests.factories import publish_event, publish_rumour_verdict

pytestmark = pytest.mark.django_db

NEW_BODY = "Gates open at 13:00. Please have your ticket ready. #DerbyDay"


def public_urls(world, message) -> list[str]:
    event = world.a.event.pk
    return ["/", "/news/", f"/news/{message.pk}/", f"/events/{event}/", f"/events/{event}/updates.json?since=0",
            "/feeds/news.atom", f"/feeds/events/{event}.atom", "/feeds/cap.atom", f"/cap/{message.pk}.xml"]


def test_a_second_visit_does_not_touch_the_database(world, client, django_assert_num_queries):
    message = publish(world.a, urgency="priority", variants=[("ar", ARABIC, "standard")])
    corrected_rumour(world.a)
    for url in public_urls(world, message):
        first = client.get(url)
        assert first.status_code == 200, url
        with django_assert_num_queries(0):
            again = client.get(url)
        assert again.status_code == 200 and again.content == first.content, url


def test_languages_are_cached_apart(world, client, django_assert_num_queries):
    publish(world.a, variants=[("ar", ARABIC, "standard")])
    english = client.get("/news/", HTTP_ACCEPT_LANGUAGE="en")
    arabic = client.get("/news/", HTTP_ACCEPT_LANGUAGE="ar")
    assert ARABIC[:40] in arabic.content.decode() and ARABIC[:40] not in english.content.decode()
    with django_assert_num_queries(0):  # the same languages, written differently: the same entries
        assert client.get("/news/", HTTP_ACCEPT_LANGUAGE="ar-SA").content == arabic.content
        assert client.get("/news/", HTTP_ACCEPT_LANGUAGE="en-GB, en;q=0.9").content == english.content
    assert "Accept-Language" in english["Vary"] and "Cookie" in english["Vary"]


def test_publishing_invalidates_the_pages(world, client):
    publish(world.a)
    pages = {url: client.get(url).content for url in ("/news/", f"/events/{world.a.event.pk}/", "/feeds/news.atom")}
    publish(world.a, body=NEW_BODY)
    for url, before in pages.items():
        after = client.get(url).content
        assert after != before and b"Gates open at 13:00" in after, url


def test_only_a_delivery_on_the_public_channel_invalidates_the_pages(world):
    """A publishing burst to Mastodon, X and SMS must not empty the public cache 5,000 times."""
    from accounts.audit import audit_record

    def versions_after(**summary) -> bool:
        before = public_cache.current_version()
        audit_record(actor=None, verb="delivery.sent", target_type="campaigns.delivery", target_id=1,
                     summary=summary)
        return public_cache.current_version() > before

    assert not versions_after(channel="mastodon")
    assert not versions_after(channel="sms")
    assert versions_after(channel="public")
    assert versions_after(http_status=200)  # a row that names no channel is taken as public


def test_withdrawing_invalidates_the_pages(world, client):
    message = publish(world.a, body=NEW_BODY)
    assert b"Gates open" in client.get("/news/").content
    assert client.get(f"/news/{message.pk}/").status_code == 200
    publishing.message_withdraw(actor=world.a.supervisor, message=message, reason="Wrong time")
    assert b"Gates open" not in client.get("/news/").content
    assert client.get(f"/news/{message.pk}/").status_code == 410


def test_a_rumour_decision_and_an_event_edit_invalidate_the_event_page(world, client):
    tw = world.a
    url = f"/events/{tw.event.pk}/"
    rumour = rumour_create(actor=tw.officer, event=tw.event, claim="The bridge has collapsed")
    assert b"The bridge has collapsed" not in client.get(url).content
    publish_rumour_verdict(writer=tw.officer, publisher=tw.supervisor, rumour=rumour, status="false",
                           explanation="It is open.")
    assert b"The bridge has collapsed" in client.get(url).content
    event_services.event_update(actor=tw.officer, event=tw.event, help_points="First aid at Gate A.")
    assert b"First aid at Gate A." not in client.get(url).content  # a draft until a supervisor publishes it
    publish_event(tw.event, tw.supervisor)
    assert b"First aid at Gate A." in client.get(url).content


def test_a_page_built_while_a_change_is_uncommitted_is_dropped_when_it_commits(world, client,
                                                                                 django_capture_on_commit_callbacks):
    """The version is bumped again on commit, so a page rebuilt from the old data in between goes too."""
    publish(world.a)
    version = public_cache.current_version()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        publish(world.a, body=NEW_BODY)
        during = public_cache.current_version()
    assert during > version and callbacks
    assert public_cache.current_version() > during


def test_a_client_that_has_the_page_gets_a_304(world, client, django_assert_num_queries):
    publish(world.a)
    first = client.get("/news/")
    etag = first["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag) and first["Cache-Control"] == "public, max-age=30, s-maxage=5, stale-while-revalidate=5"
    with django_assert_num_queries(0):
        again = client.get("/news/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    poll = client.get(f"/events/{world.a.event.pk}/updates.json?since=0")
    assert poll["Cache-Control"] == "public, max-age=0, s-maxage=5"
    assert client.get(f"/events/{world.a.event.pk}/updates.json?since=0",
                      HTTP_IF_NONE_MATCH=poll["ETag"]).status_code == 304
    publish(world.a, body=NEW_BODY)
    assert client.get("/news/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_visitors_cannot_make_unbounded_cache_entries(world, client):
    publish(world.a)
    params = ("page", "event", "area", "format")
    keys = set()
    for header in ("fr, de, pl, ro, uk, es", "fr,de,pl,xx-yy", "fr-FR, de-DE;q=0.9, pl;q=0.8, es;q=0.1",
                   "FR,De,PL", "fr-CA,fr-FR,fr,de,de-AT,pl"):
        response = client.get("/news/?utm_source=spam&x=1", HTTP_ACCEPT_LANGUAGE=header)
        assert response.status_code == 200
        keys.add(public_cache.page_key(response.wsgi_request, params=params))
    # The first three distinct languages decide; unknown parameters are not part of the key.
    assert len(keys) == 1
    assert len(client.get("/news/", HTTP_ACCEPT_LANGUAGE="x" * 5000).content) > 0


def test_the_json_cache_follows_the_cursor(world, client):
    publish(world.a)
    url = f"/events/{world.a.event.pk}/updates.json"
    cursor = json.loads(client.get(url + "?since=0").content)["cursor"]
    assert json.loads(client.get(f"{url}?since={cursor}").content)["updates"] == []
    second = publish(world.a, body=NEW_BODY)
    assert [u["id"] for u in json.loads(client.get(f"{url}?since={cursor}").content)["updates"]] == [second.pk]


def test_the_version_survives_a_cache_clear_without_reusing_old_numbers(world):
    first = public_cache.current_version()
    public_cache.bump()
    assert public_cache.current_version() == first + 1
    cache.delete(public_cache.VERSION_KEY)  # evicted, say
    public_cache.reset_local()  # a process that has not read it yet
    assert public_cache.current_version() > first + 1


def test_pages_are_sent_gzipped_to_clients_that_accept_it(world, client):
    publish(world.a)
    plain = client.get("/news/")
    packed = client.get("/news/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert "Content-Encoding" not in plain and packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == plain.content
    assert len(packed.content) < len(plain.content) / 2
    assert int(packed["Content-Length"]) == len(packed.content)
    assert packed["ETag"] != plain["ETag"] and packed["ETag"].endswith('-gz"')
    assert "Accept-Encoding" in packed["Vary"]
    assert client.get("/news/", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=packed["ETag"]).status_code == 304


def test_the_middleware_answers_hits_before_sessions_with_the_security_headers(world, client, settings,
                                                                                 django_assert_num_queries):
    assert "engage.public.cache.PublicPageCacheMiddleware" in settings.MIDDLEWARE
    publish(world.a)
    first = client.get("/news/")
    with django_assert_num_queries(0):
        hit = client.get("/news/")
    assert hit.content == first.content
    for response in (first, hit):
        assert "default-src 'self'" in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "csrftoken" not in response.cookies and "sessionid" not in response.cookies
    # Signed-in staff get the same public page (nothing personal is on it).
    client.force_login(world.a.officer)
    assert client.get("/news/").content == first.content


def test_without_the_middleware_the_views_still_cache_themselves(world, client, settings,
                                                                django_assert_num_queries):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "engage.public.cache.PublicPageCacheMiddleware"]
    message = publish(world.a)
    for url in ("/news/", f"/events/{world.a.event.pk}/", f"/news/{message.pk}/"):
        first = client.get(url)
        with django_assert_num_queries(0):
            assert client.get(url).content == first.content


def test_a_change_in_another_process_is_seen_within_a_second(world, client, settings):
    """Each process re-reads the shared version at most every ENGAGE_PUBLIC_CACHE_LOCAL_SECONDS."""
    settings.ENGAGE_PUBLIC_CACHE_LOCAL_SECONDS = 0.5
    publish(world.a)
    old_version = public_cache.current_version()
    before = client.get("/news/").content
    publish(world.a, body=NEW_BODY)  # bumps the shared version
    public_cache._remember_version(old_version)  # as a process that has not looked since
    assert client.get("/news/").content == before  # its own copy, for now
    time.sleep(0.6)
    assert b"Gates open at 13:00" in client.get("/news/").content


def test_local_copies_are_kept_only_in_front_of_a_network_cache(settings):
    assert public_cache._local_seconds() == 0  # locmem: a local copy would save nothing
    own = settings.CACHES
    try:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                       "LOCATION": "redis://127.0.0.1:1/0"}}
        assert public_cache._local_seconds() == 1.0
        settings.ENGAGE_PUBLIC_CACHE_LOCAL_SECONDS = 0
        assert public_cache._local_seconds() == 0
    finally:
        settings.CACHES = own


@pytest.mark.django_db
def test_a_page_rendered_for_signed_in_staff_is_never_shared(world, client, settings):
    from django.core.cache import cache

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    client.force_login(world.a.supervisor)
    assert client.get("/news/").status_code == 200  # rendered for a signed-in person: not stored
    client.logout()
    public_view = client.get("/news/").content.decode()
    assert world.a.supervisor.display_name not in public_view
    assert "csrfmiddlewaretoken" not in public_view
