"""Publishing the audit chain head, signed, so that anyone can keep copies (as Certificate Transparency
publishes signed tree heads). A daily beat task calls :func:`audit_head_publish`; the public pages
serve :func:`head_document` at ``/transparency/audit-head.json``, the history at
``/transparency/audit-heads.json`` and the public key at ``/transparency/audit-key.pem``.

What is signed is the canonical JSON (sorted keys, no spaces, ASCII) of ``audit_head``::

    {"hash": "<64 hex>", "id": 1234, "published_at": "2026-12-04T03:00:00Z", "site": "https://..."}

with Ed25519. Anyone holding a copy can later run ``manage.py audit_verify --head ID:HASH`` (or ask
the force to) to prove nothing up to that row was rewritten or truncated.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from accounts import audit_chain
from accounts.audit import audit_record
from accounts.models import AuditHeadPublication

ALGORITHM = "Ed25519"
KEY_FILE = "audit_signing_key"


def _parse_key(text: str) -> Ed25519PrivateKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))
    except ValueError as exc:
        raise ImproperlyConfigured("ENGAGE_AUDIT_SIGNING_KEY is not an Ed25519 private key (PEM, or the base64 "
                                   "of 32 bytes).") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured("ENGAGE_AUDIT_SIGNING_KEY must be an Ed25519 key.")
    return key


@lru_cache(maxsize=4)
def _signing_key(configured: str, var_dir: str) -> Ed25519PrivateKey:
    if configured:
        return _parse_key(configured)
    path = Path(var_dir) / KEY_FILE
    if not path.exists():  # embedded: one key per installation, kept beside the SECRET_KEY file
        path.write_text(base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode())
        path.chmod(0o600)
    return _parse_key(path.read_text())


def signing_key() -> Ed25519PrivateKey:
    return _signing_key(settings.ENGAGE_AUDIT_SIGNING_KEY, str(settings.VAR_DIR))


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def key_id(key: Ed25519PublicKey) -> str:
    """``sha256:`` and the hex SHA-256 of the raw 32-byte public key: a short name to pin."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def canonical(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


@transaction.atomic
def audit_head_publish() -> AuditHeadPublication | None:
    """Sign and keep today's chain head (the last audit row's id and hash); None on an empty trail.
    The publication itself is audited, after the head it publishes."""
    head = audit_chain.chain_head()
    if head is None:
        return None
    now = timezone.now().replace(microsecond=0)
    payload = canonical({"id": head[0], "hash": head[1], "published_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "site": settings.ENGAGE_SITE_URL})
    key = signing_key()
    publication = AuditHeadPublication.objects.create(
        published_at=now, last_id=head[0], last_hash=head[1], payload=payload,
        signature=base64.b64encode(key.sign(payload.encode())).decode(),
        key_id=key_id(key.public_key()), public_key=public_key_pem(key.public_key()),
    )
    audit_record(actor=None, verb="audit.head_published", target=publication,
                 summary={"head_id": head[0], "key_id": publication.key_id})
    return publication


def publication_document(publication: AuditHeadPublication) -> dict[str, Any]:
    """One publication as served: the signed head, and how to check the signature."""
    return {
        "audit_head": json.loads(publication.payload),
        "signature": {"algorithm": ALGORITHM, "key_id": publication.key_id, "value": publication.signature,
                      "signed": "the canonical JSON of audit_head: sorted keys, no spaces, ASCII"},
    }


def verify_document(document: dict[str, Any], public_key_pem_text: str) -> bool:
    """True when ``document`` (as :func:`publication_document` gives it) is signed by that key."""
    key = serialization.load_pem_public_key(public_key_pem_text.encode())
    if not isinstance(key, Ed25519PublicKey):
        return False
    try:
        key.verify(base64.b64decode(document["signature"]["value"]), canonical(document["audit_head"]).encode())
    except Exception:  # noqa: BLE001 - cryptography raises InvalidSignature; a malformed document is just as false
        return False
    return True
