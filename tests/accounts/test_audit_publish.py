"""The audit chain head is published once a day, signed (Ed25519), on the transparency page and at
stable URLs, so that anyone can keep copies and later check them with ``audit_verify --head``."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from accounts import audit_chain, audit_publish
from accounts.audit import audit_record
from accounts.models import AuditEvent, AuditHeadPublication
from accounts.tasks import publish_audit_head
from engage.schedule import PERIODIC_TASKS

pytestmark = pytest.mark.django_db


@pytest.fixture
def key_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.ENGAGE_AUDIT_SIGNING_KEY = ""
    return tmp_path


def _trail(world, n: int = 3) -> None:
    for i in range(n):
        audit_record(actor=world.a.officer, verb="test.step", target=world.a.event, summary={"i": i})


def test_nothing_is_published_for_an_empty_trail(db, key_dir, client):
    assert AuditEvent.objects.count() == 0
    assert audit_publish.audit_head_publish() is None
    response = client.get("/transparency/audit-head.json")
    assert response.status_code == 404 and response.json()["code"] == "not_published"
    assert client.get("/transparency/audit-key.pem").status_code == 404
    assert client.get("/transparency/audit-heads.json").json() == {"audit_heads": []}


def test_the_daily_task_publishes_a_signed_head_anyone_can_check(world, key_dir, client):
    _trail(world)
    head = audit_chain.chain_head()
    assert publish_audit_head() == head[0]
    publication = AuditHeadPublication.objects.get()
    assert (publication.last_id, publication.last_hash) == head
    # the publication is itself audited, after the head it publishes
    assert AuditEvent.objects.order_by("-id").first().verb == "audit.head_published"

    document = client.get("/transparency/audit-head.json").json()
    assert document["audit_head"]["id"] == head[0] and document["audit_head"]["hash"] == head[1]
    assert document["signature"]["algorithm"] == "Ed25519"
    key_response = client.get("/transparency/audit-key.pem")
    assert key_response.status_code == 200
    pem = key_response.content.decode()
    assert pem == document["public_key"]
    # checked with the cryptography package directly, as a reader would, not with our own helper
    public_key = serialization.load_pem_public_key(pem.encode())
    signed = json.dumps(document["audit_head"], sort_keys=True, separators=(",", ":")).encode()
    public_key.verify(base64.b64decode(document["signature"]["value"]), signed)
    assert audit_publish.verify_document(document, pem)
    forged = {**document, "audit_head": {**document["audit_head"], "id": head[0] - 1}}
    assert not audit_publish.verify_document(forged, pem)

    # and the head, as published, proves the trail up to it
    out = io.StringIO()
    call_command("audit_verify", "--head", f"{document['audit_head']['id']}:{document['audit_head']['hash']}",
                 stdout=out)
    assert out.getvalue().strip().splitlines()[-1] == ":".join(map(str, audit_chain.chain_head()))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl on this machine")
def test_the_documented_openssl_check_accepts_the_signature(world, key_dir, client, tmp_path):
    _trail(world, 1)
    audit_publish.audit_head_publish()
    document = client.get("/transparency/audit-head.json").json()
    (tmp_path / "key.pem").write_bytes(client.get("/transparency/audit-key.pem").content)
    (tmp_path / "payload").write_text(json.dumps(document["audit_head"], sort_keys=True, separators=(",", ":")))
    (tmp_path / "sig").write_bytes(base64.b64decode(document["signature"]["value"]))
    result = subprocess.run(  # noqa: S603 - fixed arguments
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "key.pem", "-rawin", "-in", "payload", "-sigfile", "sig"],  # noqa: S607
        cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "Signature Verified Successfully" in result.stdout, result.stderr


def test_history_is_kept_and_shown_on_the_transparency_page(world, key_dir, client):
    _trail(world)
    first = audit_publish.audit_head_publish()
    _trail(world, 2)
    second = audit_publish.audit_head_publish()
    assert second.last_id > first.last_id
    history = client.get("/transparency/audit-heads.json").json()["audit_heads"]
    assert [h["audit_head"]["id"] for h in history] == [second.last_id, first.last_id]
    assert all(audit_publish.verify_document(h, second.public_key) for h in history)
    page = client.get("/transparency/").content.decode()
    assert second.last_hash in page and first.last_hash in page
    assert "/transparency/audit-head.json" in page and "/transparency/audit-key.pem" in page


def test_the_embedded_key_is_made_once_and_kept(world, key_dir):
    _trail(world, 1)
    first = audit_publish.audit_head_publish()
    assert (key_dir / audit_publish.KEY_FILE).stat().st_mode & 0o777 == 0o600
    audit_publish._signing_key.cache_clear()
    second = audit_publish.audit_head_publish()
    assert first.key_id == second.key_id


def test_a_configured_key_signs_in_pem_or_base64(world, key_dir, settings):
    _trail(world, 1)
    key = Ed25519PrivateKey.generate()
    expected = audit_publish.key_id(key.public_key())
    settings.ENGAGE_AUDIT_SIGNING_KEY = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    assert audit_publish.audit_head_publish().key_id == expected
    settings.ENGAGE_AUDIT_SIGNING_KEY = base64.b64encode(key.private_bytes_raw()).decode()
    assert audit_publish.audit_head_publish().key_id == expected
    assert not (key_dir / audit_publish.KEY_FILE).exists()


def test_a_bad_configured_key_is_refused_clearly(world, key_dir, settings):
    _trail(world, 1)
    settings.ENGAGE_AUDIT_SIGNING_KEY = "not a key"
    with pytest.raises(ImproperlyConfigured, match="ENGAGE_AUDIT_SIGNING_KEY"):
        audit_publish.audit_head_publish()
    assert not AuditHeadPublication.objects.exists()


def test_the_beat_publishes_it_daily():
    entry = next(item for item in PERIODIC_TASKS if item["task"] == "accounts.publish_audit_head")
    assert entry["every"] == 86400.0
