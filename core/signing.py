"""HMAC signatures for webhooks, outbound and inbound.

The signature covers the timestamp and the exact body bytes::

    X-Engage-Timestamp: 1767225600
    X-Engage-Signature: sha256=<hex HMAC-SHA256 of b"1767225600." + body>

A receiver recomputes it with the shared secret, compares in constant time, and refuses
timestamps older than ``window`` seconds (replays) or more than ``FUTURE_SKEW`` seconds in
the future (a forged or badly skewed clock). During a secret rotation the header may carry
several signatures separated by commas; one valid signature is enough.

No Django imports: the platform sandbox uses this module without settings.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SCHEME = "sha256"
FUTURE_SKEW = 60  # seconds a sender's clock may run ahead of ours


class SignatureError(Exception):
    """``code`` is one of: missing_timestamp, bad_timestamp, stale_timestamp,
    future_timestamp, missing_signature, bad_signature."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _key(secret: bytes | str) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if not key:
        raise ValueError("the signing secret is empty")
    return key


MAX_TIMESTAMP_DIGITS = 12  # unix seconds until the year 33658


def _digest(secret: bytes | str, body: bytes, timestamp: int) -> str:
    if not 0 <= int(timestamp) < 10**MAX_TIMESTAMP_DIGITS:
        raise ValueError("the timestamp must be unix seconds")
    signed = str(int(timestamp)).encode("ascii") + b"." + body
    return hmac.new(_key(secret), signed, hashlib.sha256).hexdigest()


def sign(*, secret: bytes | str, body: bytes, timestamp: int) -> str:
    """The ``X-Engage-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"{SCHEME}={_digest(secret, body, timestamp)}"


def verify(
    *,
    secret: bytes | str,
    body: bytes,
    timestamp: str,
    signature: str,
    now: float | None = None,
    window: int = 300,
) -> None:
    """Return if the signature is valid and fresh; raise :class:`SignatureError` otherwise."""
    if not timestamp:
        raise SignatureError("missing_timestamp", "The timestamp header is missing.")
    stamp = timestamp.strip()
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > MAX_TIMESTAMP_DIGITS:
        raise SignatureError("bad_timestamp", "The timestamp is not a whole number of unix seconds.")
    sent_at = int(stamp)
    current = time.time() if now is None else now
    if current - sent_at > window:
        raise SignatureError("stale_timestamp", f"The timestamp is more than {window} seconds old.")
    if sent_at - current > FUTURE_SKEW:
        raise SignatureError("future_timestamp", "The timestamp is in the future.")
    if not signature or not signature.strip():
        raise SignatureError("missing_signature", "The signature header is missing.")
    expected = _digest(secret, body, sent_at).encode("ascii")
    valid = False
    for candidate in signature.split(","):
        scheme, _, value = candidate.strip().partition("=")
        if scheme != SCHEME or not value:
            continue
        # compare_digest on bytes of equal type; keep looping so timing does not reveal which matched.
        valid |= hmac.compare_digest(expected, value.strip().lower().encode("ascii", "replace"))
    if not valid:
        raise SignatureError("bad_signature", "The signature does not match.")
