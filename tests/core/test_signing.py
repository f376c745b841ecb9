from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.signing import SignatureError, sign, verify

SECRET = "partner-secret"
BODY = b'{"text":"Roads reopen at 9pm"}'
NOW = 1_767_225_600


def signed(body: bytes = BODY, timestamp: int = NOW, secret: str | bytes = SECRET) -> str:
    return sign(secret=secret, body=body, timestamp=timestamp)


def test_the_signature_is_an_hmac_of_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signed() == f"sha256={expected}"


def test_a_valid_signature_passes():
    verify(secret=SECRET, body=BODY, timestamp=str(NOW), signature=signed(), now=NOW + 10)


def test_a_signature_one_byte_off_is_rejected():
    good = signed()
    last = good[-1]
    bad = good[:-1] + ("0" if last != "0" else "1")
    with pytest.raises(SignatureError) as caught:
        verify(secret=SECRET, body=BODY, timestamp=str(NOW), signature=bad, now=NOW)
    assert caught.value.code == "bad_signature"


def test_a_body_one_byte_off_is_rejected():
    with pytest.raises(SignatureError, match="does not match"):
        verify(secret=SECRET, body=BODY[:-1] + b"!", timestamp=str(NOW), signature=signed(), now=NOW)


def test_the_wrong_secret_is_rejected():
    with pytest.raises(SignatureError):
        verify(secret="other", body=BODY, timestamp=str(NOW), signature=signed(), now=NOW)


def test_a_timestamp_six_minutes_old_is_stale():
    with pytest.raises(SignatureError) as caught:
        verify(secret=SECRET, body=BODY, timestamp=str(NOW), signature=signed(), now=NOW + 360)
    assert caught.value.code == "stale_timestamp"


def test_a_timestamp_in_the_future_is_rejected():
    future = NOW + 360
    with pytest.raises(SignatureError) as caught:
        verify(secret=SECRET, body=BODY, timestamp=str(future), signature=signed(timestamp=future), now=NOW)
    assert caught.value.code == "future_timestamp"


def test_a_little_clock_skew_is_tolerated():
    ahead = NOW + 30
    verify(secret=SECRET, body=BODY, timestamp=str(ahead), signature=signed(timestamp=ahead), now=NOW)


def test_the_timestamp_is_part_of_the_signature():
    with pytest.raises(SignatureError, match="does not match"):
        verify(secret=SECRET, body=BODY, timestamp=str(NOW + 1), signature=signed(), now=NOW)


@pytest.mark.parametrize(
    ("timestamp", "signature", "code"),
    [
        ("", "sha256=00", "missing_timestamp"),
        ("soon", "sha256=00", "bad_timestamp"),
        ("-5", "sha256=00", "bad_timestamp"),
        ("1.5", "sha256=00", "bad_timestamp"),
        (str(NOW), "", "missing_signature"),
        (str(NOW), "md5=abc", "bad_signature"),
        (str(NOW), "sha256=", "bad_signature"),
    ],
)
def test_malformed_headers(timestamp, signature, code):
    with pytest.raises(SignatureError) as caught:
        verify(secret=SECRET, body=BODY, timestamp=timestamp, signature=signature, now=NOW)
    assert caught.value.code == code


def test_several_signatures_during_a_secret_rotation():
    header = f"{signed(secret='old-secret')}, {signed()}"
    verify(secret=SECRET, body=BODY, timestamp=str(NOW), signature=header, now=NOW)


def test_an_empty_secret_or_impossible_timestamp_is_refused():
    with pytest.raises(ValueError, match="empty"):
        sign(secret="", body=BODY, timestamp=NOW)
    with pytest.raises(ValueError, match="unix seconds"):
        sign(secret=SECRET, body=BODY, timestamp=-1)


@given(
    body=st.binary(max_size=2048),
    secret=st.one_of(st.binary(min_size=1, max_size=64), st.text(min_size=1, max_size=64)),
    timestamp=st.integers(min_value=0, max_value=10**12 - 1),
)
def test_verify_accepts_every_fresh_signature(body, secret, timestamp):
    verify(
        secret=secret,
        body=body,
        timestamp=str(timestamp),
        signature=sign(secret=secret, body=body, timestamp=timestamp),
        now=timestamp,
    )
