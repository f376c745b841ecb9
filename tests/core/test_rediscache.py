"""The Redis cache keeps one client per connection pool (core/rediscache.py), and that client
survives what the cache-down tests put Django's own through: Redis going away and coming back."""

from __future__ import annotations

import pytest
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from redis.exceptions import ConnectionError as RedisConnectionError

from core.rediscache import RedisCache
from tests.publishing_harness import PrivateRedis


@pytest.fixture
def redis_server():
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


def backend(cls, location: str):
    return cls(location, {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}})


def test_one_client_serves_every_operation_where_djangos_builds_one_each():
    ours = backend(RedisCache, "redis://127.0.0.1:1/0")  # no connection is made to build a client
    assert ours._cache.get_client("a") is ours._cache.get_client("b", write=True)
    theirs = backend(DjangoRedisCache, "redis://127.0.0.1:1/0")
    assert theirs._cache.get_client("a") is not theirs._cache.get_client("a")


def test_the_shared_client_fails_while_redis_is_down_and_works_again_after(redis_server):
    cache = backend(RedisCache, redis_server.url)
    cache.set("engage:test", 1, 30)
    assert cache.add("engage:test", 2, 30) is False
    assert cache.incr("engage:test") == 2
    client = cache._cache.get_client()
    redis_server.stop()
    with pytest.raises(RedisConnectionError):
        cache.get("engage:test")
    redis_server.start()  # a new, empty Redis on the same port
    assert cache.get("engage:test") is None
    assert cache.add("engage:test", 3, 30) is True
    assert cache.get("engage:test") == 3
    assert cache._cache.get_client() is client
