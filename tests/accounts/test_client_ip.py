"""One rule for the client's address (ENGAGE_TRUSTED_PROXIES): X-Forwarded-For is believed only from
a trusted proxy, read from the right. Used by the token throttle, the lock-out and the audit trail."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from accounts.models import AuditEvent
from core.client_ip import client_ip
from tests.accounts.test_api_auth import assert_error
from tests.engage.inbound_helpers import private_cache
from tests.factories import PASSWORD

TOKEN_URL = "/api/v1/auth/token/"
PROXY = "10.0.0.2"


def ip(remote: str, forwarded: str | None = None) -> str | None:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))


def test_with_no_trusted_proxy_the_header_is_ignored(settings):
    settings.ENGAGE_TRUSTED_PROXIES = []
    assert ip("203.0.113.5", "198.51.100.1") == "203.0.113.5"
    assert ip(PROXY, "198.51.100.1") == PROXY


@pytest.mark.parametrize(("remote", "forwarded", "expected"), [
    (PROXY, "198.51.100.1", "198.51.100.1"),
    (PROXY, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the client wrote 6.6.6.6 itself
    (PROXY, "6.6.6.6, 198.51.100.1, 10.0.0.9", "198.51.100.1"),  # two trusted hops
    (PROXY, "10.0.0.7, 10.0.0.9", "10.0.0.7"),  # all trusted: the leftmost
    (PROXY, "", PROXY),
    (PROXY, "not-an-address", PROXY),
    (PROXY, "6.6.6.6, garbage, 198.51.100.1", "198.51.100.1"),
    (PROXY, "203.0.113.7:51234", "203.0.113.7"),
    (PROXY, "[2001:db8::1]:443", "2001:db8::1"),
    (PROXY, "2001:db8::2", "2001:db8::2"),
    ("203.0.113.5", "198.51.100.1", "203.0.113.5"),  # not from the proxy: header ignored
    ("::ffff:10.0.0.2", "198.51.100.1", "198.51.100.1"),  # IPv4-mapped proxy address
])
def test_behind_a_trusted_proxy_the_rightmost_untrusted_address_is_the_client(settings, remote, forwarded,
                                                                               expected):
    settings.ENGAGE_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert ip(remote, forwarded) == expected


def _obtain(client_kwargs: dict, email: str, password: str):
    return APIClient(**client_kwargs).post(TOKEN_URL, {"email": email, "password": password}, format="json")


@pytest.fixture
def three_tries(monkeypatch, settings):
    private_cache(settings)
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"token": "3/min"})


@pytest.mark.django_db
def test_spoofed_forwarded_for_does_not_buy_more_token_tries(world, settings, three_tries):
    settings.ENGAGE_TRUSTED_PROXIES = []
    codes = [_obtain({"REMOTE_ADDR": "203.0.113.5", "HTTP_X_FORWARDED_FOR": f"198.51.100.{n}"},
                     world.a.officer.email, "wrong-password-x").status_code for n in range(5)]
    assert codes == [401, 401, 401, 429, 429]


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_has_its_own_token_tries(world, settings, three_tries):
    settings.ENGAGE_TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.AXES_ENABLED = False
    first = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    codes = [_obtain(first, world.a.officer.email, "wrong-password-x").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    # The same client cannot get round it by writing its own X-Forwarded-For before the proxy's.
    spoof = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "6.6.6.6, 198.51.100.1"}
    assert _obtain(spoof, world.a.officer.email, PASSWORD).status_code == 429
    # Another client behind the same proxy is not held back, and is recorded with its own address.
    second = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.2"}
    assert _obtain(second, world.a.liaison.email, PASSWORD).status_code == 200
    issued = AuditEvent.objects.filter(verb="auth.token_issued", actor=world.a.liaison).get()
    assert issued.ip_address == "198.51.100.2"


@pytest.mark.django_db
def test_the_lock_out_counts_the_real_client_behind_the_proxy(world, settings):
    private_cache(settings)
    settings.ENGAGE_TRUSTED_PROXIES = ["10.0.0.0/8"]
    attacker = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.66"}
    for n in range(5):
        _obtain(attacker, world.a.officer.email, f"wrong-password-{n}")
    assert_error(_obtain(attacker, world.a.officer.email, PASSWORD), 403, "locked_out")
    # The officer signing in from their own address behind the same proxy is not locked out.
    officer = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    assert _obtain(officer, world.a.officer.email, PASSWORD).status_code == 200


@pytest.mark.django_db
def test_the_lock_out_ignores_forwarded_for_without_a_trusted_proxy(world, settings):
    private_cache(settings)
    settings.ENGAGE_TRUSTED_PROXIES = []
    for n in range(5):
        _obtain({"REMOTE_ADDR": "203.0.113.5", "HTTP_X_FORWARDED_FOR": f"198.51.100.{n}"},
                world.a.officer.email, f"wrong-password-{n}")
    assert_error(_obtain({"REMOTE_ADDR": "203.0.113.5", "HTTP_X_FORWARDED_FOR": "198.51.100.99"},
                         world.a.officer.email, PASSWORD), 403, "locked_out")
