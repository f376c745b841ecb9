"""The public pages while the shared cache (Redis) cannot be reached: every page is rendered live,
never a 500 and never a stale copy, a change that would make pages stale still succeeds, and once
the cache is back the pages are cached again."""

from __future__ import annotations

import pytest

from campaigns import publishing
from engage.public import cache as public_cache
from tests.engage.public.test_public_cache import NEW_BODY, public_urls
from tests.engage.public_helpers import ARABIC, corrected_rumour, publish
from tests.publishing_harness import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh():
    public_cache.reset_local()
    public_cache._unreachable_until[0] = 0.0
    yield
    public_cache.reset_local()
    public_cache._unreachable_until[0] = 0.0


def cache_down(settings) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}  # nothing listens there


def test_every_public_page_is_served_live_while_the_cache_is_down(world, client, settings, caplog):
    message = publish(world.a, urgency="priority", variants=[("ar", ARABIC, "standard")])
    corrected_rumour(world.a)
    cache_down(settings)
    for url in public_urls(world, message):
        response = client.get(url)
        assert response.status_code == 200, url
    public_cache.reset_local()  # past this process's one second of trust in its copy of the version
    assert public_cache.current_version() is None
    assert caplog.text.count("The cache is unreachable") == 1  # said once, not per request

    # A change made meanwhile succeeds, and the next visit sees it: nothing stale is served.
    publish(world.a, body=NEW_BODY)
    publishing.message_withdraw(actor=world.a.supervisor, message=message, reason="Wrong time")
    assert b"Gates open at 13:00" in client.get("/news/").content
    assert client.get(f"/news/{message.pk}/").status_code == 410


def test_pages_are_cached_again_once_the_cache_is_back(world, client, settings, django_assert_num_queries):
    publish(world.a)
    location = settings.CACHES
    cache_down(settings)
    assert client.get("/news/").status_code == 200
    settings.CACHES = location
    public_cache._unreachable_until[0] = 0.0  # the few seconds' pause after a failure are over
    first = client.get("/news/")
    with django_assert_num_queries(0):
        assert client.get("/news/").content == first.content
