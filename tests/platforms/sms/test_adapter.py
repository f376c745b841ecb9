from __future__ import annotations

import base64
from dataclasses import replace
from decimal import Decimal

import pytest

from platforms.base import (
    AuthExpiredError,
    PartialDeliveryError,
    Payload,
    PermanentError,
    TransientError,
    UnconfirmedError,
)
from tests.platforms.conftest import image

SID = "AC5a1dbeef5a1dbeef5a1dbeef5a1dbeef"
TOKEN = "sandbox-twilio-auth-token"
R1, R2, R3 = "+447700900001", "+447700900002", "+447700900003"


def test_estimate_before_sending(make_adapter):
    adapter = make_adapter("sms", price_per_segment="0.04")
    estimate = adapter.estimate(Payload(text="a" * 200))
    assert (estimate.segments, estimate.encoding, estimate.recipients) == (2, "GSM-7", 2)
    assert estimate.cost == Decimal("0.16")
    assert estimate.currency == "GBP"
    unicode = adapter.estimate(Payload(text="Stay safe 😀", recipients=(R1,)))
    assert (unicode.segments, unicode.encoding, unicode.recipients) == (1, "UCS-2", 1)


def test_one_form_request_per_recipient_with_basic_auth(sandbox, make_adapter):
    result = make_adapter("sms").publish(Payload(text="Roads reopen 9pm."), idempotency_key="k")
    posts = sandbox.posts("sms")
    assert [p.fields for p in posts] == [
        {"To": R1, "Body": "Roads reopen 9pm.", "From": "+15005550006"},
        {"To": "+447700900002", "Body": "Roads reopen 9pm.", "From": "+15005550006"},
    ]
    for post in posts:
        assert post.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
        assert post.headers["content-type"] == "application/x-www-form-urlencoded"
        scheme, _, encoded = post.headers["authorization"].partition(" ")
        assert (scheme, base64.b64decode(encoded).decode()) == ("Basic", f"{SID}:{TOKEN}")
    assert result.external_id == ",".join(p.id for p in posts)
    assert "2 recipients, 1 segment(s) GSM-7" in result.detail


def test_payload_recipients_replace_the_channel_list_and_duplicates_are_dropped(sandbox, make_adapter):
    make_adapter("sms").publish(Payload(text="Answer", recipients=(R3, R3)), idempotency_key="k")
    assert [p.fields["To"] for p in sandbox.posts("sms")] == [R3]


def test_images_are_not_sent_and_the_result_says_so(sandbox, make_adapter):
    result = make_adapter("sms").publish(Payload(text="Map online", media=(image(),)), idempotency_key="k")
    assert "images not sent" in result.detail


def test_over_the_segment_limit_is_refused_before_sending(sandbox, make_adapter):
    with pytest.raises(PermanentError, match="segments"):
        make_adapter("sms", max_segments=2).publish(Payload(text="a" * 400), idempotency_key="k")
    with pytest.raises(PermanentError, match="cost"):
        make_adapter("sms", max_cost="0.05").publish(Payload(text="a" * 200), idempotency_key="k")
    assert sandbox.requests("sms") == []


def test_drop_mid_batch_never_resends_to_anyone(sandbox, make_adapter):
    sandbox.set_behaviour("sms", after=1, drop=1)
    adapter = make_adapter("sms", recipients=[R1, R2, R3])
    payload = Payload(text="Evacuate the east stand calmly.")
    with pytest.raises(PartialDeliveryError) as caught:
        adapter.publish(payload, idempotency_key="k")
    error = caught.value
    assert isinstance(error, UnconfirmedError)
    assert list(error.accepted) == [R1]
    assert error.unconfirmed == (R2,)
    assert error.unsent == (R3,)
    assert error.result.external_id == error.accepted[R1]
    assert len(sandbox.posts("sms")) == 2  # R1 and the dropped R2 were both accepted by the gateway

    adapter.publish(replace(payload, recipients=error.unsent), idempotency_key="k-rest")
    assert [p.fields["To"] for p in sandbox.posts("sms")] == [R1, R2, R3]  # nobody twice


def test_a_server_error_mid_batch_leaves_the_rest_unsent(sandbox, make_adapter):
    sandbox.set_behaviour("sms", after=1, fail=1)
    with pytest.raises(PartialDeliveryError) as caught:
        make_adapter("sms", recipients=[R1, R2, R3]).publish(Payload(text="Hi"), idempotency_key="k")
    assert (list(caught.value.accepted), caught.value.unconfirmed, caught.value.unsent) == (
        [R1],
        (),
        (R2, R3),
    )


def test_an_invalid_number_is_rejected_and_the_others_still_sent(sandbox, make_adapter):
    with pytest.raises(PartialDeliveryError) as caught:
        make_adapter("sms", recipients=[R1, "+15005550001", R3]).publish(
            Payload(text="Hi"), idempotency_key="k"
        )
    error = caught.value
    assert list(error.accepted) == [R1, R3]
    assert list(error.rejected) == ["+15005550001"]
    assert "21211" in error.rejected["+15005550001"]
    assert (error.unconfirmed, error.unsent) == ((), ())


def test_every_recipient_rejected_is_permanent(sandbox, make_adapter):
    with pytest.raises(PermanentError, match="21610"):
        make_adapter("sms", recipients=["+15005550004"]).publish(Payload(text="Hi"), idempotency_key="k")


def test_errors_before_anything_was_sent_are_raised_as_they_are(sandbox, make_adapter):
    sandbox.set_behaviour("sms", rate_limit=1)
    with pytest.raises(TransientError) as caught:
        make_adapter("sms").publish(Payload(text="Hi"), idempotency_key="k")
    assert not isinstance(caught.value, PartialDeliveryError)
    assert caught.value.http_status == 429
    assert "20429" in str(caught.value)

    sandbox.set_behaviour("sms", fail=1)
    with pytest.raises(TransientError):
        make_adapter("sms").publish(Payload(text="Hi"), idempotency_key="k")
    assert sandbox.posts("sms") == []


def test_hang_on_the_only_recipient_is_unconfirmed(sandbox, make_adapter):
    sandbox.set_behaviour("sms", hang=1, hang_seconds=2)
    with pytest.raises(UnconfirmedError):
        make_adapter("sms", read_timeout=0.5, recipients=[R1]).publish(
            Payload(text="Hi"), idempotency_key="k"
        )
    assert len(sandbox.posts("sms")) == 1


def test_connection_refused_is_transient(make_adapter, dead_url):
    with pytest.raises(TransientError) as caught:
        make_adapter("sms", api_base=dead_url).publish(Payload(text="Hi"), idempotency_key="k")
    assert TOKEN not in str(caught.value)


def test_wrong_credentials_are_auth_expired(sandbox, make_adapter):
    with pytest.raises(AuthExpiredError) as caught:
        make_adapter("sms", secrets={"auth_token": "wrong-twilio-token"}).publish(
            Payload(text="Hi"), idempotency_key="k"
        )
    assert "wrong-twilio-token" not in str(caught.value)
    assert "20003" in str(caught.value)


def test_no_recipients_is_permanent(make_adapter):
    with pytest.raises(PermanentError, match="no recipients"):
        make_adapter("sms", recipients=[]).publish(Payload(text="Hi"), idempotency_key="k")


def test_no_withdraw(make_adapter):
    adapter = make_adapter("sms")
    assert adapter.supports_withdraw is False
    with pytest.raises(NotImplementedError):
        adapter.withdraw("SM123")


def test_check(sandbox, make_adapter):
    adapter = make_adapter("sms")
    assert (adapter.check().state, adapter.check().detail) == ("ok", "the account is active")
    sandbox.set_behaviour("sms", auth_expired=True)
    assert adapter.check().state == "auth_expired"


def test_from_number_is_required(sandbox):
    from platforms import get_adapter

    config, secrets = sandbox.config_for("sms")
    config.pop("from_number")
    with pytest.raises(PermanentError, match="from_number"):
        get_adapter("sms", config=config, secrets=secrets)


def test_counting_is_in_septets_within_max_segments(make_adapter):
    adapter = make_adapter("sms", max_segments=3)
    assert adapter.limit == 153 * 3
    assert adapter.count("€uro") == 5  # the euro sign is an extension character: two septets


# --- Twilio's Body limit (twilio-oai spec/json/twilio_api_v2010.json, CreateMessage Body) -------------
def test_a_channel_saved_with_more_than_10_segments_sends_at_most_10(sandbox, make_adapter):
    """A channel saved before the cap (max_segments 11 or more) would have sent 11 GSM-7
    segments, up to 1,683 characters, which Twilio refuses (21617). The adapter and the checker
    both count at most 10 (1,530 characters)."""
    adapter = make_adapter("sms", max_segments=15)
    assert adapter.limit == 153 * 10
    with pytest.raises(PermanentError, match="11 segments, over the channel's limit of 10"):
        adapter.publish(Payload(text="a" * 1560), idempotency_key="k")
    assert sandbox.requests("sms") == []
    adapter.publish(Payload(text="a" * 1530), idempotency_key="k")  # 10 segments: the most
    assert [len(p.fields["Body"]) for p in sandbox.posts("sms")] == [1530, 1530]


def test_a_body_over_1600_characters_is_never_sent(sandbox, make_adapter):
    with pytest.raises(PermanentError, match="1650 characters, over Twilio's limit of 1,600"):
        make_adapter("sms", max_segments=15).publish(Payload(text="a" * 1650), idempotency_key="k")
    assert sandbox.requests("sms") == []


@pytest.mark.contract_exempt  # posts straight to the sandbox
def test_the_sandbox_refuses_a_body_over_1600_characters_like_twilio(sandbox):
    import httpx

    url = f"{sandbox.url}/2010-04-01/Accounts/{SID}/Messages.json"
    form = {"To": R1, "From": "+15005550006", "Body": "a" * 1601}
    answer = httpx.post(url, data=form, auth=(SID, TOKEN), timeout=5)
    assert answer.status_code == 400
    assert answer.json() == {
        "code": 21617,
        "message": "The concatenated message body exceeds the 1600 character limit.",
        "more_info": "https://www.twilio.com/docs/errors/21617",
        "status": 400,
    }
    assert httpx.post(url, data={**form, "Body": "a" * 1600}, auth=(SID, TOKEN), timeout=5).status_code == 201
