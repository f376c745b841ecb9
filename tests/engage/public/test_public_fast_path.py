"""The cached public pages' fast path (issue 17): the headers a hit sends, worked out once per page,
stay true to the page, and an update reaches the next visitor at once, in-process copies included;
what a CDN in front is told; django-csp's policy built once and still the same."""

from __future__ import annotations

import gzip
import json

import pytest
from csp.constants import HEADER
from csp.utils import build_policy
from django.test import RequestFactory

from core.csp import CSPMiddleware
from engage.public import cache as public_cache
from tests.engage.public_helpers import (
    private_cache,  # noqa: F401 - autouse: a cache of the test's own
    publish,
)

pytestmark = pytest.mark.django_db

NEW_BODY = "Gate C is now open for the away end. Please follow the stewards. #DerbyDay"


@pytest.fixture(params=[0, 1], ids=["shared-cache-only", "with-in-process-copies"])
def local_copies(request, settings):
    settings.ENGAGE_PUBLIC_CACHE_LOCAL_SECONDS = request.param
    public_cache.reset_local()
    yield request.param
    public_cache.reset_local()


def test_a_hit_sends_the_stored_page_with_headers_true_to_it(world, client, local_copies):
    publish(world.a)
    url = f"/events/{world.a.event.pk}/"
    first = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    for _ in range(2):  # hits, the prepared headers reused
        hit = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
        assert hit.status_code == 200 and hit.content == first.content
        assert hit["Content-Encoding"] == "gzip" and int(hit["Content-Length"]) == len(hit.content)
        assert hit["ETag"] == first["ETag"] and hit["ETag"].endswith('-gz"')
        assert hit["Vary"] == "Accept-Encoding, Accept-Language, Cookie"
        assert hit["Content-Type"] == "text/html; charset=utf-8" and hit["Content-Language"] == "en"
        assert hit["Content-Security-Policy"] == build_policy()
        assert hit["X-Frame-Options"] == "DENY" and hit["X-Content-Type-Options"] == "nosniff"
    plain = client.get(url)  # the same page, uncompressed, to a client that does not take gzip
    assert "Content-Encoding" not in plain and int(plain["Content-Length"]) == len(plain.content)
    assert plain.content == gzip.decompress(first.content) and plain["ETag"] != first["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=plain["ETag"]).status_code == 304


def test_an_update_reaches_the_next_poll_at_once_through_the_fast_path(world, client, local_copies):
    publish(world.a)
    url = f"/events/{world.a.event.pk}/updates.json?since=0"
    before = client.get(url)
    assert client.get(url)["ETag"] == before["ETag"]  # a hit
    publish(world.a, body=NEW_BODY)  # a publish in this process bumps the version it reads
    after = client.get(url, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert int(after["Content-Length"]) == len(after.content)
    assert any("Gate C is now open" in update["html"] for update in json.loads(after.content)["updates"])


def test_what_a_cdn_in_front_is_told(world, client, settings):
    settings.ENGAGE_PUBLIC_SHARED_MAX_AGE = 7
    publish(world.a)
    for _ in range(2):  # the page as built, then from the cache
        page = client.get(f"/events/{world.a.event.pk}/")
        assert page["Cache-Control"] == "public, max-age=30, s-maxage=7, stale-while-revalidate=7"
        poll = client.get(f"/events/{world.a.event.pk}/updates.json?since=0")
        assert poll["Cache-Control"] == "public, max-age=0, s-maxage=7"
        assert client.get("/feeds/news.atom")["Cache-Control"].startswith("public, max-age=30, s-maxage=7")
    unchanged = client.get(
        f"/events/{world.a.event.pk}/updates.json?since=0", HTTP_IF_NONE_MATCH=poll["ETag"]
    )
    assert unchanged.status_code == 304 and unchanged["Cache-Control"] == "public, max-age=0, s-maxage=7"


def test_the_policy_built_once_is_django_csps_and_follows_the_settings(settings):
    middleware = CSPMiddleware(lambda request: None)
    factory = RequestFactory()

    def header(response=None):
        from django.http import HttpResponse

        response = response or HttpResponse("x")
        return middleware.process_response(factory.get("/news/"), response).get(HEADER)

    assert header() == build_policy()
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert header() == "default-src 'none'"
    from django.http import HttpResponse

    own = HttpResponse("x")
    own._csp_update = {"img-src": ["https://example.org"]}  # what csp.decorators.csp_update sets
    assert header(own) == "default-src 'none'; img-src https://example.org"
    exempt = HttpResponse("x")
    exempt._csp_exempt = True
    assert header(exempt) is None


def test_the_remembered_paths_are_bounded_and_follow_the_urlconf(world, client, settings, monkeypatch):
    monkeypatch.setattr(public_cache, "_RESOLVED_ENTRIES", 5)
    public_cache._resolved.clear()
    for n in range(12):  # made-up paths: remembered as "not a cached page", never more than the bound
        assert client.get(f"/no-such-page-{n}/").status_code == 404
        assert len(public_cache._resolved) <= 5
    assert public_cache._cache_options(f"/events/{world.a.event.pk}/") == {
        "params": ("format",),
        "max_age": 30,
    }
    settings.ROOT_URLCONF = "engage.urls"  # any change of the URLconf forgets every remembered path
    assert public_cache._resolved == {}
