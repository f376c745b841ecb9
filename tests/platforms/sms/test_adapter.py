from __future__ import annotations

import base64
from dataclasses import replace
from decimal import Decimal

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from platforms.base import (
    AuthExpiredError,
    PartialDeliveryError,
    Payload,
    PermanentError,
    TransientError,
    UnconfirmedError,
)
from tests.platforms.conftest import image
from tests.platforms.lookup_helpers import assert_safe, post_texts, query

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
    assert adapter.can_lookup is True and type(adapter).lookup_offered({}) is True
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


# --- look-up: the Messages list (ListMessage, filtered by To, From and DateSent>) -----------------------
def test_lookup_finds_every_recipient_s_message(sandbox, make_adapter):
    adapter = make_adapter("sms")
    payload = Payload(text="Roads reopen 9pm: https://example.police.uk/roads")
    published = adapter.publish(payload, idempotency_key="k")
    adapter.publish(Payload(text="Something else", recipients=(R1,)), idempotency_key="k2")
    result = adapter.lookup(query(payload))
    assert (result.state, result.external_id) == ("found", published.external_id)
    assert_safe(result, payload.text, R1, R2)
    listings = [r for r in sandbox.requests("sms") if r.op == "list_messages"]
    assert [r.fields["To"] for r in listings] == [R1, R2]
    assert all(r.fields["From"] == "+15005550006" and r.fields["DateSent>"].endswith("Z") for r in listings)


def test_lookup_answers_absent_when_no_recipient_has_it(sandbox, make_adapter):
    adapter = make_adapter("sms")
    adapter.publish(Payload(text="Another text"), idempotency_key="k")
    result = adapter.lookup(query(Payload(text="Never sent")))
    assert result.state == "absent"
    assert_safe(result, "Never sent", R1, R2)


def test_some_recipients_having_it_is_unknown(sandbox, make_adapter):
    adapter = make_adapter("sms")
    payload = Payload(text="Stay indoors", recipients=(R1, R2, R3, "+447700900004", "+447700900005"))
    adapter.publish(replace(payload, recipients=(R2, R3)), idempotency_key="k")
    result = adapter.lookup(query(payload))
    assert result.state == "unknown"
    assert result.detail == "2 of 5 recipients have it, 3 certainly do not, 0 could not be told."
    assert_safe(result, payload.text, *payload.recipients)


def test_two_identical_texts_to_one_recipient_are_unknown(sandbox, make_adapter):
    adapter = make_adapter("sms")
    payload = Payload(text="Same text", recipients=(R1,))
    adapter.publish(payload, idempotency_key="a")
    adapter.publish(payload, idempotency_key="b")
    result = adapter.lookup(query(payload))
    assert result.state == "unknown" and "2 matching" in result.detail


def test_another_sender_or_a_message_outside_the_window_is_not_matched(sandbox, make_adapter):
    sandbox.add_account("sms", account_sid=SID, auth_token=TOKEN, numbers=["+15005550009"])
    payload = Payload(text="Same words", recipients=(R1,))
    make_adapter("sms", from_number="+15005550009").publish(payload, idempotency_key="other-number")
    adapter = make_adapter("sms")
    assert adapter.lookup(query(payload)).state == "absent"
    published = adapter.publish(payload, idempotency_key="k")
    assert adapter.lookup(query(payload, after=600, before=900)).state == "absent"
    sandbox.age_post("sms", published.external_id, hours=2)
    assert adapter.lookup(query(payload)).state == "absent"  # the same text, sent before the window
    assert adapter.lookup(query(payload, after=-3 * 3600, before=-3600)).state == "found"


def test_a_messaging_service_is_matched_on_its_sid(sandbox, make_adapter):
    service = "MG" + "a" * 32
    adapter = make_adapter("sms", messaging_service_sid=service)
    payload = Payload(text="Through the service", recipients=(R1,))
    published = adapter.publish(payload, idempotency_key="k")
    assert adapter.lookup(query(payload)).external_id == published.external_id
    assert "From" not in next(r for r in sandbox.requests("sms") if r.op == "list_messages").fields
    assert make_adapter("sms", messaging_service_sid="MG" + "b" * 32).lookup(query(payload)).state == "absent"


def test_a_listing_that_is_not_complete_is_unknown(sandbox, make_adapter):
    payload = Payload(text="First", recipients=(R1,))
    make_adapter("sms").publish(payload, idempotency_key="k")
    for index in range(3):
        make_adapter("sms").publish(Payload(text=f"Later {index}", recipients=(R1,)), idempotency_key=str(index))
    make_adapter("sms").publish(Payload(text="First", recipients=(R2,)), idempotency_key="other")
    assert make_adapter("sms", lookup_page_size=2, lookup_max_pages=2).lookup(query(payload)).state == "found"
    pages = [r for r in sandbox.requests("sms") if r.op == "list_messages"]
    assert [(r.fields["To"], r.fields["PageSize"], r.fields.get("Page")) for r in pages] == [
        (R1, "2", None), (R1, "2", "1")]  # the second page keeps the filters
    result = make_adapter("sms", lookup_page_size=2, lookup_max_pages=1).lookup(query(payload))
    assert result.state == "unknown" and "without reaching the end" in result.detail


@pytest.mark.parametrize(("behaviour", "status"), [({"rate_limit": 1}, 429), ({"fail": 1}, 500)])
def test_a_rate_limit_or_server_error_is_unknown(sandbox, make_adapter, behaviour, status):
    adapter = make_adapter("sms")
    payload = Payload(text="Sent once")
    adapter.publish(payload, idempotency_key="k")
    sandbox.set_behaviour("sms", applies_to="all", **behaviour)
    result = adapter.lookup(query(payload))
    assert (result.state, result.http_status) == ("unknown", status)
    assert result.detail == "1 of 2 recipients have it, 0 certainly do not, 1 could not be told."
    assert adapter.lookup(query(payload)).state == "found"


@pytest.mark.contract_exempt  # sends what the schema refuses, and the description's YYYY-MM-DD
def test_the_sandbox_lists_messages_as_twilio_does(sandbox, make_adapter):
    make_adapter("sms").publish(Payload(text="Listed"), idempotency_key="k")
    url = f"{sandbox.url}/2010-04-01/Accounts/{SID}/Messages.json"
    page = httpx.get(url, params={"To": R1, "PageSize": "1", "Page": "0"}, auth=(SID, TOKEN), timeout=5).json()
    (message,) = page["messages"]
    assert (message["to"], message["status"], message["direction"]) == (R1, "sent", "outbound-api")
    assert message["date_sent"] == message["date_created"] and page["next_page_uri"] is None
    both = httpx.get(url, params={"PageSize": "1"}, auth=(SID, TOKEN), timeout=5).json()
    assert "Page=1&PageToken=PASM" in both["next_page_uri"] and both["next_page_uri"].startswith("/2010-04-01/")
    follow = httpx.get(f"{sandbox.url}{both['next_page_uri']}", auth=(SID, TOKEN), timeout=5).json()
    assert both["messages"][0]["to"] == R2  # newest first
    assert follow["messages"][0]["to"] == R1 and follow["next_page_uri"] is None
    assert httpx.get(url, params={"DateSent>": "2999-01-01"}, auth=(SID, TOKEN), timeout=5).json()["messages"] == []
    for params in ({"PageSize": "0"}, {"PageSize": "1001"}, {"DateSent>": "yesterday"}):
        refused = httpx.get(url, params=params, auth=(SID, TOKEN), timeout=5)
        assert (refused.status_code, refused.json()["code"]) == (400, 20001), params
    ignored = httpx.get(url, params={"Body": "Listed"}, auth=(SID, TOKEN), timeout=5)
    assert len(ignored.json()["messages"]) == 2 and ignored.headers["X-Sandbox-Ignored-Params"] == "Body"


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=post_texts(max_words=8))
def test_whatever_publish_sends_lookup_finds(sandbox, make_adapter, text):
    sandbox.reset()
    adapter = make_adapter("sms")
    published = adapter.publish(Payload(text=text), idempotency_key="k")
    result = adapter.lookup(query(Payload(text=text)))
    assert (result.state, result.external_id) == ("found", published.external_id), text


def test_a_next_page_on_another_host_is_never_followed():
    """Twilio's ``next_page_uri`` is relative to our API address; one that is not is refused, so the
    account's credentials never go to an address an answer names. (A stand-in for Twilio, since the
    sandbox never answers so.)"""
    from platforms import get_adapter

    seen = []

    def twilio(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"messages": [], "next_page_uri": "@evil.example/steal"})

    adapter = get_adapter("sms", config={"account_sid": SID, "from_number": "+15005550006"},
                          secrets={"auth_token": TOKEN}, http=httpx.Client(transport=httpx.MockTransport(twilio)))
    result = adapter.lookup(query(Payload(text="Hi", recipients=(R1,))))
    assert result.state == "unknown" and len(seen) == 1 and "evil" not in seen[0]


def test_many_recipients_are_looked_for_in_one_listing_of_the_window(sandbox, make_adapter):
    """Over 10 recipients, one listing of everything sent from our number in the window (PageSize
    1,000) instead of one listing each."""
    everyone = tuple(f"+4477009001{index:02d}" for index in range(12))
    payload = Payload(text="Flood warning", recipients=everyone)
    adapter = make_adapter("sms")
    assert adapter.lookup(query(payload)).state == "absent"
    adapter.publish(replace(payload, recipients=everyone[:4]), idempotency_key="part")
    partial = adapter.lookup(query(payload))
    assert partial.detail == "4 of 12 recipients have it, 8 certainly do not, 0 could not be told."
    assert_safe(partial, payload.text, *everyone)
    rest = adapter.publish(replace(payload, recipients=everyone[4:]), idempotency_key="rest")
    found = adapter.lookup(query(payload))
    assert found.state == "found"
    assert found.external_id.split(",")[4:] == rest.external_id.split(",")
    listings = [r for r in sandbox.requests("sms") if r.op == "list_messages"]
    assert len(listings) == 3 and all("To" not in r.fields and r.fields["PageSize"] == "1000" for r in listings)
    truncated = make_adapter("sms", lookup_page_size=5, lookup_max_pages=2).lookup(query(payload))
    assert truncated.detail == "0 of 12 recipients have it, 0 certainly do not, 12 could not be told."
