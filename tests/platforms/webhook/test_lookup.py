"""The partner webhook's status look-up: ``GET {url}/{idempotency key}``, signed as the POST is
(over an empty body), answered by the sandbox's partner from what it received."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from core.signing import sign, verify
from platforms import adapter_class
from platforms.base import LookupQuery, Payload

SECRET = "sandbox-webhook-signing-secret"


def query(key: str) -> LookupQuery:
    now = datetime.now(UTC)
    return LookupQuery(idempotency_key=key, payload=Payload(text="Roads reopen at 9pm."),
                       sent_after=now - timedelta(minutes=5), sent_before=now)


def lookups(sandbox):
    return [r for r in sandbox.requests("webhook") if r.op == "status_lookup"]


def test_the_look_up_is_offered_only_when_the_channel_says_so(make_adapter):
    cls = adapter_class("webhook")
    assert cls.lookup_offered({"url": "https://p.example/h", "status_lookup": True}) is True
    assert cls.lookup_offered({"url": "https://p.example/h"}) is False
    assert cls.lookup_offered({"url": "https://p.example/h", "status_lookup": False}) is False
    assert make_adapter("webhook", status_lookup=True).can_lookup is True
    assert make_adapter("webhook").can_lookup is False


def test_a_received_delivery_is_found_with_the_partners_id(sandbox, make_adapter):
    adapter = make_adapter("webhook", status_lookup=True)
    sent = adapter.publish(Payload(text="Roads reopen at 9pm."), idempotency_key="delivery-7-webhook")
    result = adapter.lookup(query("delivery-7-webhook"))
    assert (result.state, result.http_status) == ("found", 200)
    assert result.external_id == sent.external_id  # the partner's own id, as publish records it
    (request,) = lookups(sandbox)
    assert (request.method, request.path, request.status) == ("GET", "/hooks/partner/delivery-7-webhook", 200)
    # Signed as the POST is, over an empty body: a partner verifies it with the same rule.
    assert request.body == b""
    verify(secret=SECRET, body=b"", timestamp=request.headers["x-engage-timestamp"],
           signature=request.headers["x-engage-signature"])
    assert request.headers["idempotency-key"] == "delivery-7-webhook"


def test_a_delivery_never_received_is_absent(sandbox, make_adapter):
    adapter = make_adapter("webhook", status_lookup=True)
    adapter.publish(Payload(text="Another one."), idempotency_key="delivery-8-webhook")
    result = adapter.lookup(query("delivery-9-webhook"))
    assert (result.state, result.http_status, result.external_id) == ("absent", 404, "")
    assert "404" in result.detail


def test_a_key_is_sent_escaped(sandbox, make_adapter):
    adapter = make_adapter("webhook", status_lookup=True)
    adapter.publish(Payload(text="Odd key."), idempotency_key="answer 5/r1")
    assert adapter.lookup(query("answer 5/r1")).state == "found"
    assert adapter.lookup(query("answer 5")).state == "absent"
    assert lookups(sandbox)[0].path == "/hooks/partner/answer%205%2Fr1"


@pytest.mark.parametrize("behaviour", [{"fail": 1, "applies_to": "all"}, {"rate_limit": 1, "applies_to": "all"}])
def test_a_partner_that_cannot_answer_leaves_it_unknown(sandbox, make_adapter, behaviour):
    adapter = make_adapter("webhook", status_lookup=True)
    sandbox.set_behaviour("webhook", **behaviour)
    result = adapter.lookup(query("delivery-1-webhook"))
    assert result.state == "unknown"
    assert result.http_status in (500, 429)


def test_no_answer_or_no_partner_is_unknown(sandbox, make_adapter, dead_url):
    assert make_adapter("webhook", status_lookup=True,
                        url=f"{dead_url}/hooks/partner").lookup(query("k")).state == "unknown"
    sandbox.set_behaviour("webhook", hang=1, hang_seconds=2, applies_to="all")
    assert make_adapter("webhook", status_lookup=True, read_timeout=0.5).lookup(query("k")).state == "unknown"


def test_a_refused_signature_is_unknown_and_hides_the_secret(sandbox, make_adapter):
    result = make_adapter("webhook", status_lookup=True,
                          secrets={"signing_secret": "the-wrong-secret"}).lookup(query("k"))
    assert (result.state, result.http_status) == ("unknown", 401)
    assert "the-wrong-secret" not in result.detail


def test_the_partner_refuses_an_unsigned_or_badly_signed_look_up(sandbox, make_adapter):
    make_adapter("webhook", status_lookup=True).publish(Payload(text="x"), idempotency_key="k1")
    url = sandbox.config_for("webhook")[0]["url"] + "/k1"
    assert httpx.get(url).status_code == 401
    stamp = int(time.time())
    signed_other = sign(secret=SECRET, body=b"something", timestamp=stamp)
    assert httpx.get(url, headers={"X-Engage-Timestamp": str(stamp),
                                   "X-Engage-Signature": signed_other}).status_code == 401
    good = sign(secret=SECRET, body=b"", timestamp=stamp)
    assert httpx.get(url, headers={"X-Engage-Timestamp": str(stamp), "X-Engage-Signature": good}).status_code == 200


def test_without_the_option_the_adapter_does_not_ask(sandbox, make_adapter):
    result = make_adapter("webhook").lookup(query("k"))
    assert result.state == "unknown"
    assert lookups(sandbox) == []
