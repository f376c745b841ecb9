"""With the shared cache (Redis) unreachable, a platform's replies are still taken: the inbound
throttles count in the cache and let requests through meanwhile, instead of answering 500."""

from __future__ import annotations

import json

import pytest

from engage.models import Reply
from tests.engage.inbound_helpers import partner_channel, partner_item, post_partner
from tests.publishing_harness import free_port

pytestmark = pytest.mark.django_db


def test_a_signed_reply_is_taken_while_the_cache_is_unreachable(world, client, settings, caplog):
    channel = partner_channel(world.a)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}  # nothing listens there
    body = json.dumps(partner_item(item_id="cache-down")).encode()
    assert post_partner(client, channel, body).json() == {"accepted": 1, "duplicates": 0}
    assert Reply.objects.filter(provider_id="cache-down").exists()
    assert "not rate-limited" in caplog.text
