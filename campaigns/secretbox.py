"""Encryption at rest for channel secrets (Fernet: AES-128-CBC with HMAC-SHA256).

The key comes from ENGAGE_FIELD_ENCRYPTION_KEY (or SECRET_KEY), stretched with HKDF.
Several comma-separated keys allow rotation: the first encrypts, all decrypt.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _derive(secret: str) -> bytes:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"engage-channel-secrets", info=b"fernet").derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(key)


@lru_cache(maxsize=4)
def _box(material: str) -> MultiFernet:
    keys = [k for k in material.split(",") if k.strip()]
    return MultiFernet([Fernet(_derive(k.strip())) for k in keys])


def encrypt(plaintext: str) -> str:
    return _box(settings.ENGAGE_FIELD_ENCRYPTION_KEY).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _box(settings.ENGAGE_FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("Channel secrets cannot be decrypted with the configured key.") from exc


@lru_cache(maxsize=4)
def _digest_key(material: str) -> bytes:
    first = next((k.strip() for k in material.split(",") if k.strip()), "")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"engage-field-digest", info=b"hmac").derive(
        first.encode()
    )


def digest(value: str) -> str:
    """A keyed digest (HMAC-SHA256) of ``value``: finds an encrypted field's row by its value
    (duplicates, opt-outs, subject access) without storing the value in the clear. It is keyed
    with the first field-encryption key; rotating that key means re-digesting the rows."""
    import hmac

    return hmac.new(_digest_key(settings.ENGAGE_FIELD_ENCRYPTION_KEY), value.encode(), "sha256").hexdigest()
