"""Made-up channel ids and junk on the webhook endpoint: throttled by caller address before any
lookup, and what refusals can store is capped."""

from __future__ import annotations

import pytest
from django.test import Client

from engage.inbound.api import InboundAddressThrottle, InboundRefusedThrottle
from engage.models import RejectedInbound, Reply
from tests.engage.inbound_helpers import (
    error_of,
    post_telegram,
    private_cache,
    telegram_channel,
    telegram_update,
)

pytestmark = pytest.mark.django_db


def junk(client: Client, channel_id: int | str):
    return client.post(f"/api/v1/inbound/{channel_id}/", data=b"{}", content_type="application/json")


def _clear_of_a_minute_boundary(margin: float = 3.0) -> None:
    """The throttles count in fixed one-minute windows: start a test that fills one well inside it."""
    import time

    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.05)


def test_random_channel_ids_are_throttled_by_address(world, monkeypatch, settings):
    private_cache(settings)
    _clear_of_a_minute_boundary()
    monkeypatch.setattr(InboundRefusedThrottle, "rate", "5/min", raising=False)
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    codes = [junk(attacker, 900000 + n).status_code for n in range(8)]
    assert codes == [404] * 5 + [429] * 3
    assert error_of(junk(attacker, 123456789))["code"] == "throttled"
    assert RejectedInbound.objects.count() == 5
    # A real channel is refused to that address too (before the lookup), but not to a platform.
    channel = telegram_channel(world.a)
    assert post_telegram(attacker, channel, telegram_update()).status_code == 429
    platform = Client(REMOTE_ADDR="149.154.167.1")
    assert post_telegram(platform, channel, telegram_update()).status_code == 200
    assert Reply.objects.count() == 1


def test_spoofed_forwarded_for_does_not_reset_the_count(world, monkeypatch, settings):
    private_cache(settings)
    monkeypatch.setattr(InboundRefusedThrottle, "rate", "3/min", raising=False)
    codes = [Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").post(
        f"/api/v1/inbound/{700000 + n}/", data=b"{}", content_type="application/json").status_code
        for n in range(5)]
    assert codes == [404, 404, 404, 429, 429]


def test_one_misconfigured_channel_does_not_hold_back_the_platforms_others(world, monkeypatch, settings):
    private_cache(settings)
    monkeypatch.setattr(InboundRefusedThrottle, "rate", "3/min", raising=False)
    broken, healthy = telegram_channel(world.a), telegram_channel(world.b)
    platform = Client(REMOTE_ADDR="149.154.167.1")
    codes = [post_telegram(platform, broken, telegram_update(update_id=n, message_id=n), secret="rotated").status_code
             for n in range(5)]
    assert codes == [403, 403, 403, 429, 429]
    assert post_telegram(platform, healthy, telegram_update()).status_code == 200


def test_all_channel_ids_share_one_budget_per_address(world, monkeypatch, settings):
    private_cache(settings)
    monkeypatch.setattr(InboundAddressThrottle, "rate", "4/min", raising=False)
    caller = Client(REMOTE_ADDR="198.51.100.20")
    codes = [junk(caller, 800000 + n).status_code for n in range(6)]
    assert codes == [404] * 4 + [429] * 2


def test_refusals_stored_are_capped_per_address_and_in_all(world, monkeypatch, settings):
    private_cache(settings)
    monkeypatch.setattr(InboundRefusedThrottle, "rate", "1000/min", raising=False)  # only the caps here
    settings.ENGAGE_INBOUND_REJECT_LOG_PER_ADDRESS = 3
    settings.ENGAGE_INBOUND_REJECT_LOG_TOTAL = 5
    one = Client(REMOTE_ADDR="203.0.113.1")
    for n in range(10):
        assert junk(one, 600000 + n).status_code == 404  # still refused, just not all recorded
    assert RejectedInbound.objects.count() == 3
    for address in ("203.0.113.2", "203.0.113.3", "203.0.113.4"):
        for n in range(3):
            junk(Client(REMOTE_ADDR=address), 610000 + n)
    assert RejectedInbound.objects.count() == 5
    assert set(RejectedInbound.objects.values_list("remote_addr", flat=True)) <= {
        "203.0.113.1", "203.0.113.2", "203.0.113.3"}


def test_a_refusal_keeps_no_body_and_a_short_reason(world, settings):
    private_cache(settings)
    channel = telegram_channel(world.a)
    body = b'{"update_id": 1, "message": ' + b"x" * 5000
    response = post_telegram(Client(REMOTE_ADDR="198.51.100.30"), channel, body)
    assert response.status_code == 400
    row = RejectedInbound.objects.get()
    assert row.body_size == len(body) and len(row.message) <= 200
    stored = " ".join(str(value) for value in RejectedInbound.objects.values().get().values())
    assert "xxxxxxxxxx" not in stored
