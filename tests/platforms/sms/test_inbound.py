"""Verifying and reading what Twilio sends us for an SMS (platforms.sms.inbound)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from platforms.inbound import MAX_TEXT_CHARS, InboundItem, WebhookRejected
from platforms.sms.inbound import parse_twilio_sms, twilio_signature, verify_twilio

# -- Twilio -----------------------------------------------------------------------------------------

# The worked example from Twilio's "Validating requests" documentation.
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
TWILIO_TOKEN = "12345"
TWILIO_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_twilio_documented_example_verifies() -> None:
    assert twilio_signature(url=TWILIO_URL, params=TWILIO_PARAMS, auth_token=TWILIO_TOKEN) == TWILIO_SIGNATURE
    verify_twilio(url=TWILIO_URL, params=TWILIO_PARAMS, signature=TWILIO_SIGNATURE, auth_token=TWILIO_TOKEN)


def _one_byte_off(value: str) -> str:
    return value[:5] + ("A" if value[5] != "A" else "B") + value[6:]


def test_twilio_signature_one_byte_off_fails() -> None:
    with pytest.raises(WebhookRejected) as caught:
        verify_twilio(
            url=TWILIO_URL, params=TWILIO_PARAMS, signature=_one_byte_off(TWILIO_SIGNATURE), auth_token=TWILIO_TOKEN
        )
    assert (caught.value.status, caught.value.code) == (403, "auth.invalid")


def test_twilio_tampered_params_fail() -> None:
    tampered = {**TWILIO_PARAMS, "Digits": "1235"}
    with pytest.raises(WebhookRejected) as caught:
        verify_twilio(url=TWILIO_URL, params=tampered, signature=TWILIO_SIGNATURE, auth_token=TWILIO_TOKEN)
    assert caught.value.status == 403


def test_twilio_missing_signature_or_token() -> None:
    with pytest.raises(WebhookRejected) as missing:
        verify_twilio(url=TWILIO_URL, params=TWILIO_PARAMS, signature="", auth_token=TWILIO_TOKEN)
    assert (missing.value.status, missing.value.code) == (401, "auth.missing")
    with pytest.raises(WebhookRejected) as unconfigured:
        verify_twilio(url=TWILIO_URL, params=TWILIO_PARAMS, signature=TWILIO_SIGNATURE, auth_token="")
    assert (unconfigured.value.status, unconfigured.value.code) == (403, "auth.not_configured")


def test_twilio_default_port_is_accepted_either_way() -> None:
    verify_twilio(
        url="https://mycompany.com:443/myapp.php?foo=1&bar=2",
        params=TWILIO_PARAMS,
        signature=TWILIO_SIGNATURE,
        auth_token=TWILIO_TOKEN,
    )


def test_parse_twilio_sms() -> None:
    when = datetime(2026, 6, 1, 18, 30, tzinfo=UTC)
    [item] = parse_twilio_sms(
        {"MessageSid": "SM0123456789abcdef", "From": "+447700900123", "To": "+441234", "Body": "Where is gate B?"},
        received_at=when,
    )
    assert item == InboundItem(
        provider_id="SM0123456789abcdef",
        author_handle="+447700900123",
        author_name="",
        text="Where is gate B?",
        in_reply_to="",
        received_at=when,
        kind="sms",
    )


def test_parse_twilio_sms_rejects_missing_fields_and_ignores_empty_bodies() -> None:
    with pytest.raises(WebhookRejected) as caught:
        parse_twilio_sms({"MessageSid": "SM1", "Body": "hi"})
    assert caught.value.status == 400 and "From" in caught.value.message
    assert parse_twilio_sms({"MessageSid": "MM1", "From": "+447700900123", "Body": "", "NumMedia": "1"}) == []
    assert parse_twilio_sms({"MessageSid": "SM1", "From": "+447700900123"})[0:] == []


def test_parse_twilio_sms_too_long_is_413() -> None:
    with pytest.raises(WebhookRejected) as caught:
        parse_twilio_sms({"MessageSid": "SM1", "From": "+447700900123", "Body": "x" * (MAX_TEXT_CHARS + 1)})
    assert (caught.value.status, caught.value.code) == (413, "payload.too_large")
