"""With the shared cache (Redis) unreachable, every rate-limited endpoint still answers what it
should (never a 500): refused webhooks their 4xx, the public form and feedback votes through a
per-process fallback counter (so they stay limited), the API token endpoint likewise."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from core import ratelimit
from core.ratelimit import FALLBACK
from engage.inbound import api as inbound_api
from engage.models import AnswerFeedback, RejectedInbound, Reply
from tests.engage.inbound.test_feedback import answered, email, link_of, switch, vote  # noqa: F401 - fixture
from tests.engage.inbound.test_public_form import contact_team, submit  # noqa: F401 - fixture
from tests.engage.inbound_helpers import error_of, partner_channel, partner_item, post_partner
from tests.publishing_harness import free_port

pytestmark = pytest.mark.django_db


def cache_down(settings) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}  # nothing listens there


def _forget() -> None:
    """A fresh fallback counter, and the once-a-minute log lines said again (other tests look for them)."""
    FALLBACK.clear()
    ratelimit._logged.clear()
    inbound_api._cache_down_logged = 0.0


@pytest.fixture(autouse=True)
def _fresh_fallback():
    _forget()
    yield
    _forget()


def test_refused_webhooks_get_their_4xx_and_are_recorded(world, settings, caplog):
    channel = partner_channel(world.a)
    cache_down(settings)
    body = json.dumps(partner_item(item_id="bad-sig")).encode()
    bad = post_partner(APIClient(), channel, body, signature="0" * 64)
    assert bad.status_code == 403, bad.content
    unknown = APIClient().post("/api/v1/inbound/999999/", data=body, content_type="application/json")
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "not_found"
    assert RejectedInbound.objects.count() == 2  # the cap on recorded refusals counts in the fallback
    assert not Reply.objects.exists()
    assert "rate limits (inbound-rejected)" in caplog.text


def test_recorded_refusals_stay_capped_while_the_cache_is_down(world, settings):
    settings.ENGAGE_INBOUND_REJECT_LOG_PER_ADDRESS = 3
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "inbound_refused": None}}
    cache_down(settings)
    client = APIClient()
    codes = {client.post(f"/api/v1/inbound/{900000 + n}/", data=b"{}", content_type="application/json").status_code
             for n in range(6)}
    assert codes == {404}
    assert RejectedInbound.objects.count() == 3


def test_a_contact_message_accepted_while_the_cache_is_down_is_stored(world, contact_team, settings):  # noqa: F811
    cache_down(settings)
    client = Client()
    accepted = submit(client, text="The lights are out on Mill Lane")
    assert accepted.status_code == 200 and "Thank you" in accepted.content.decode()
    reply = Reply.objects.get()
    assert (reply.source, reply.team_id, reply.text) == ("web", contact_team.pk, "The lights are out on Mill Lane")
    assert submit(client, text="").status_code == 400  # bad input is still a 400


def test_the_contact_form_stays_limited_per_address_while_the_cache_is_down(world, contact_team, settings):  # noqa: F811
    cache_down(settings)
    client = Client()
    codes = [submit(client, text=f"Message {n}").status_code for n in range(6)]
    assert codes == [200] * 5 + [429]
    assert Reply.objects.count() == 5


def test_feedback_votes_count_and_stay_limited_while_the_cache_is_down(world, email, settings):  # noqa: F811
    switch(world, True)
    _answer, body = answered(world)
    url = link_of(body)
    cache_down(settings)
    client = Client()
    assert vote(client, url, "yes").status_code == 200
    assert AnswerFeedback.objects.count() == 1
    statuses = [client.post(url, {"helpful": "maybe"}).status_code for _ in range(10)]
    assert statuses == [400] * 9 + [429]  # 10 votes a minute, counting the first; the GET is not counted


def test_the_token_endpoint_stays_throttled_while_the_cache_is_down(world, settings):
    settings.AXES_ENABLED = False
    cache_down(settings)
    codes = [APIClient().post("/api/v1/auth/token/", {"email": world.a.officer.email, "password": "wrong-x"},
                              format="json").status_code for _ in range(11)]
    assert codes == [401] * 10 + [429]
    assert APIClient().post("/api/v1/auth/token/", {"email": "not-an-address"}, format="json").status_code in (400, 429)


def test_a_cache_that_never_answers_costs_seconds_not_the_request(world, contact_team, settings):  # noqa: F811
    """A Redis host that accepts connections and then says nothing (packets dropped, a hung server):
    the client's socket timeouts (redis-py's default, 5 s) end the cache call, and the form still
    answers, from the fallback, instead of hanging until the web worker is killed."""
    import socket
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel completes the connections; nobody ever reads or answers
    try:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                       "LOCATION": f"redis://127.0.0.1:{silent.getsockname()[1]}/0"}}
        started = time.monotonic()
        accepted = submit(Client(), text="Is the bridge open?")
        assert accepted.status_code == 200 and Reply.objects.filter(text="Is the bridge open?").exists()
        assert time.monotonic() - started < 15
    finally:
        silent.close()
