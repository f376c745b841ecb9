"""Backup and a tested restore (issue 21, section 4), on whichever database the suite runs on.

The drill: seed, back up, publish some more, restore into a fresh database (``manage.py restore``
in a child process pointed at it), then check that every table's rows match the backup, the media
files' checksums match, publishing is paused, and nothing is posted twice after resuming. The
refusals: a damaged file (named), a key that cannot read the encrypted fields, a backup from a
newer schema, a database that is not empty."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from campaigns import publishing
from campaigns.models import Delivery, DeliveryStatus
from campaigns.publishing import deliveries_claim_due, delivery_send
from campaigns.services.channels import channel_create
from engage.models import AnswerKind, AnswerStatus, ReplyAnswer
from tests.engage.inbound_helpers import make_reply
from tests.factories import make_approved, member
from tests.publishing_harness import ROOT, database_env

pytestmark = pytest.mark.django_db(transaction=True)

# Rows the restore itself adds (after the backup's last id) and columns it changes, and only there.
APPENDED = {"accounts_auditevent", "accounts_notification", "campaigns_publishingpause", "campaigns_restorereport"}
CHANGED = {"campaigns_delivery": {"status", "claim_token", "claimed_at", "in_flight_since", "last_error"},
           "campaigns_message": {"status", "published_at"},
           "engage_replyanswer": {"status", "claimed_at", "last_error"},
           # the restore's own audit rows (the pause) move the chain's head on
           "accounts_auditchainhead": {"last_id", "last_hash", "prev_hash"}}

BODIES = {
    "before": "Roads near the stadium are busy. Please use the train. #DerbyDay",
    "in_flight": "The north gate opens at one. Please bring your ticket. #DerbyDay",
    "due": "The park is closed today. Please use the west gate instead. #DerbyDay",
    "later": "The match ends at five. Trains run late tonight. #DerbyDay",
    "after": "Thank you for travelling safely today. Roads are open again. #DerbyDay",
}


@pytest.fixture(autouse=True)
def _reset(sandbox):
    sandbox.reset()


def _telegram(tw, sandbox):
    config, secrets = sandbox.config_for("telegram")
    return channel_create(actor=tw.admin, team=tw.team, kind="telegram", name=f"Telegram {tw.team.slug}",
                          config={**config, **secrets, "read_timeout": 1.0})


def _schedule(tw, channel, key: str, at=None):
    message = make_approved(tw, channels=[channel], body=BODIES[key])
    return publishing.message_schedule(actor=tw.officer, message=message, scheduled_at=at)


def _send_due() -> list[str]:
    return [delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due()]


@pytest.fixture
def fresh(tmp_path):
    """A fresh, empty database (and media folder) for the restore, and a child process's environment
    pointing at it; ``open`` gives a DB-API connection to it."""
    media = tmp_path / "restored-media"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "engage.settings", "SECRET_KEY": settings.SECRET_KEY,
           "ENGAGE_FIELD_ENCRYPTION_KEY": settings.ENGAGE_FIELD_ENCRYPTION_KEY, "ENGAGE_MEDIA_ROOT": str(media),
           "ENGAGE_VAR_DIR": str(tmp_path / "var"), "PYTHONUNBUFFERED": "1"}
    if connection.vendor == "postgresql":
        import psycopg

        name = f"{connection.settings_dict['NAME']}_restore"[:63]
        url = database_env()["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}"
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = url
        yield {"env": env, "media": media, "open": lambda: psycopg.connect(url)}
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path / "restored.sqlite3"
        env.update({"DATABASE_URL": "", "ENGAGE_SQLITE_PATH": str(path)})
        yield {"env": env, "media": media, "open": lambda: sqlite3.connect(path)}


def _source():
    if connection.vendor == "postgresql":
        import psycopg

        return psycopg.connect(database_env()["DATABASE_URL"])
    return sqlite3.connect(connection.settings_dict["NAME"])


def _all_rows(db) -> dict[str, dict[object, tuple]]:
    """Every table's rows by their first column (the primary key), read with the driver itself."""
    with closing(db.cursor()) as cursor:
        if isinstance(db, sqlite3.Connection):
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        else:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = sorted(r[0] for r in cursor.fetchall())
        rows = {}
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608
            columns = [c[0] for c in cursor.description]
            rows[table] = {r[0]: dict(zip(columns, r, strict=True)) for r in cursor.fetchall()}
    return rows


def _media_sums(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _child(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=300, check=False)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


AFTER_RESTORE = """
import json
from django.utils import timezone
from accounts.models import User
from campaigns.models import Delivery, PublishingPause, RestoreReport
from campaigns import publishing
from campaigns.publishing import deliveries_claim_due
from campaigns.publishing import delivery_send
from core.errors import WrongState
chief = User.objects.get(email="chief@engage.test")
force = chief.memberships.get().team_id
out = {"paused": list(PublishingPause.objects.filter(resumed_at__isnull=True).values_list("team_id", flat=True)),
       "reports": [r.details for r in RestoreReport.objects.all()],
       "claimed_while_paused": len(deliveries_claim_due())}
try:
    publishing.publishing_resume(actor=chief, reason="Resuming", team=force)
except WrongState as exc:
    out["refused"] = str(exc)
publishing.publishing_resume(actor=chief, reason="Read the report", team=force, restore_report_seen=True)
Delivery.objects.filter(status="pending").update(due_at=timezone.now())
out["sent"] = [delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due()]
out["statuses"] = {str(k): v for k, v in Delivery.objects.values_list("pk", "status")}
print("RESULT " + json.dumps(out))
"""


def test_restore_drill(world, sandbox, tmp_path, fresh):
    chief = member(world.force, Role.SUPERVISOR, email="chief@engage.test")
    telegram = _telegram(world.a, sandbox)
    # Seed: one message out, one claimed by a worker, one due, one for later; media; a live session.
    before = _schedule(world.a, telegram, "before")
    assert _send_due() == ["sent"]
    in_flight = _schedule(world.a, telegram, "in_flight")
    [(claimed_id, token, _)] = deliveries_claim_due()
    due = _schedule(world.a, telegram, "due")
    later = _schedule(world.a, telegram, "later", at=timezone.now() + timedelta(hours=3))
    media_root = Path(settings.MEDIA_ROOT)
    (media_root / "uploads" / "2026").mkdir(parents=True)
    (media_root / "uploads" / "2026" / "cordon.jpg").write_bytes(os.urandom(4096))
    (media_root / "alt.txt").write_text("Map of the road closures")
    # An answer to a citizen queued when the backup was taken (it goes out on the old system after).
    answer = ReplyAnswer.objects.create(reply=make_reply(world.a), kind=AnswerKind.TEMPLATE, body="Gates open at one.",
                                        status=AnswerStatus.PENDING, idempotency_key="engage-test-answer-1")
    session = Client()
    session.force_login(chief)
    session_key = session.session.session_key

    backup = tmp_path / "backup"
    call_command("backup", str(backup))
    with closing(_source()) as db:
        at_backup = _all_rows(db)
    media_at_backup = _media_sums(media_root)
    content = json.loads((backup / "manifest.json").read_text())
    assert content["tables"] == {t: (0 if t == "django_session" else len(rows)) for t, rows in at_backup.items()}
    assert set(content["files"]) == {content["database"]["file"], "media/uploads/2026/cordon.jpg", "media/alt.txt"}
    # No secret in any file of the backup: not the keys, not a live session.
    dump = backup / content["database"]["file"]
    if connection.vendor == "postgresql":
        readable = subprocess.run(["pg_restore", "--file=-", str(dump)], capture_output=True,  # noqa: S603, S607
                                  check=True).stdout
    else:
        readable = dump.read_bytes()
    readable += (backup / "manifest.json").read_bytes()
    for secret in [settings.SECRET_KEY, *settings.ENGAGE_FIELD_ENCRYPTION_KEY.split(","), session_key]:
        assert secret.encode() not in readable

    # Publish some more on the old system after the backup: the claimed one and the due one go out,
    # and a new message the backup never saw.
    assert delivery_send(delivery_id=claimed_id, token=token) == "sent"
    assert _send_due() == ["sent"]
    _schedule(world.a, telegram, "after")
    assert _send_due() == ["sent"]

    done = _child(fresh["env"], "restore", str(backup))
    assert "Publishing is paused for all 1 forces" in done.stdout
    with closing(fresh["open"]()) as db:
        restored = _all_rows(db)

    # Every table and row is the backup's, but for what the restore adds and marks.
    assert set(restored) == set(at_backup)
    changed: dict[str, set] = {}
    for table, rows in at_backup.items():
        got = restored[table]
        if table == "django_session":
            assert got == {}
            continue
        if table in APPENDED:
            assert {k: got.get(k) for k in rows} == rows, table
            assert all(k > max(rows, default=0) for k in set(got) - set(rows)), table
            continue
        assert set(got) == set(rows), table
        for key, row in rows.items():
            differs = {c for c in row if row[c] != got[key][c]}
            assert differs <= CHANGED.get(table, set()), (table, key, differs)
            if differs:
                changed.setdefault(table, set()).add(key)
    unconfirmed = {Delivery.objects.get(message=in_flight).pk, Delivery.objects.get(message=due).pk}
    assert changed.get("campaigns_delivery") == unconfirmed
    assert changed.get("engage_replyanswer") == {answer.pk}
    assert restored["engage_replyanswer"][answer.pk]["status"] == "unconfirmed"
    assert {restored["campaigns_delivery"][k]["status"] for k in unconfirmed} == {DeliveryStatus.UNCONFIRMED}
    assert len(restored["campaigns_restorereport"]) == 1
    assert _media_sums(fresh["media"]) == media_at_backup
    # The restored trail verifies, and through the head the backup recorded: nothing before it lost.
    head = content["audit_head"]
    _child(fresh["env"], "audit_verify", "--head", f"{head['id']}:{head['chain_hash']}")

    # The restored system is paused; it resumes only with the report read; nothing goes out twice.
    result = _child(fresh["env"], "shell", "-c", AFTER_RESTORE)
    out = json.loads(result.stdout.split("RESULT ", 1)[1])
    assert out["paused"] == [world.force.pk]
    assert out["claimed_while_paused"] == 0
    assert "restore report" in out["refused"]
    [report] = out["reports"]
    assert sorted(report["deliveries_unconfirmed"]) == sorted(unconfirmed)
    assert report["deliveries_waiting"] == [Delivery.objects.get(message=later).pk]
    assert report["answers_unconfirmed"] == [answer.pk]
    assert report["audit_head"] == content["audit_head"]
    assert out["sent"] == ["sent"]  # only the one for later
    texts = [json.dumps(post.fields) for post in sandbox.posts("telegram")]
    for key, body in BODIES.items():
        assert sum(body in text for text in texts) == 1, key
    assert Delivery.objects.get(message=before).status == DeliveryStatus.SENT


def _backup(tmp_path) -> tuple[Path, dict]:
    directory = tmp_path / "backup"
    call_command("backup", str(directory))
    return directory, json.loads((directory / "manifest.json").read_text())


def test_backup_goes_only_into_a_new_or_empty_directory(world, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.txt").write_text("x")
    with pytest.raises(CommandError, match="not an empty directory"):
        call_command("backup", str(tmp_path / "full"))


def test_restore_refuses_what_it_cannot_trust_before_touching_anything(world, sandbox, tmp_path, settings):
    (Path(settings.MEDIA_ROOT) / "photo.jpg").parent.mkdir(parents=True, exist_ok=True)
    (Path(settings.MEDIA_ROOT) / "photo.jpg").write_bytes(b"\xff\xd8 a photo")
    old_key = settings.ENGAGE_FIELD_ENCRYPTION_KEY
    # A channel whose secret is under a key the restoring system no longer lists.
    settings.ENGAGE_FIELD_ENCRYPTION_KEY = "an-older-key-of-at-least-32-characters-x"
    _telegram(world.a, sandbox)
    settings.ENGAGE_FIELD_ENCRYPTION_KEY = f"the-current-key-of-at-least-32-characters,an-older-key-of-at-least-32-" \
                                           f"characters-x,{old_key}"
    directory, content = _backup(tmp_path)

    copy = directory / "media" / "photo.jpg"
    good = copy.read_bytes()
    copy.write_bytes(b"\xff\xd8 another photo")
    with pytest.raises(CommandError, match="media/photo.jpg does not match its SHA-256"):
        call_command("restore", str(directory))
    copy.write_bytes(good)

    settings.ENGAGE_FIELD_ENCRYPTION_KEY = "a-wrong-key-of-at-least-32-characters-long"
    with pytest.raises(CommandError, match="cannot read this backup's encrypted fields"):
        call_command("restore", str(directory))
    settings.ENGAGE_FIELD_ENCRYPTION_KEY = f"{old_key},the-current-key-of-at-least-32-characters"
    with pytest.raises(CommandError, match="first key is not the one"):
        call_command("restore", str(directory))
    settings.ENGAGE_FIELD_ENCRYPTION_KEY = f"the-current-key-of-at-least-32-characters,{old_key}"
    with pytest.raises(CommandError, match=r"cannot read campaigns_channel\.secrets_encrypted"):
        call_command("restore", str(directory))

    settings.ENGAGE_FIELD_ENCRYPTION_KEY = f"the-current-key-of-at-least-32-characters,an-older-key-of-at-least-32-" \
                                           f"characters-x,{old_key}"
    manifest = directory / "manifest.json"
    newer = {**content, "migrations": {**content["migrations"], "campaigns": [*content["migrations"]["campaigns"],
                                                                              "9999_from_the_future"]}}
    manifest.write_text(json.dumps(newer))
    with pytest.raises(CommandError, match="newer Engage: its schema has migration campaigns.9999_from_the_future"):
        call_command("restore", str(directory))
    manifest.write_text(json.dumps(content))
    with pytest.raises(CommandError, match="is not empty"):  # the test database holds the world
        call_command("restore", str(directory))
    manifest.unlink()
    with pytest.raises(CommandError, match="no manifest.json"):
        call_command("restore", str(directory))


def test_a_database_recovered_to_a_point_in_time_comes_up_paused_too(world, sandbox):
    telegram = _telegram(world.a, sandbox)
    due = _schedule(world.a, telegram, "due")
    with pytest.raises(CommandError, match="with its offset"):
        call_command("restore", "--recovered-to=2026-12-04T10:15:00")
    call_command("restore", "--recovered-to=2026-12-04T10:15:00Z")
    assert publishing.is_paused_for(due)
    delivery = Delivery.objects.get(message=due)
    assert delivery.status == DeliveryStatus.UNCONFIRMED
    assert "2026-12-04 10:15 UTC" in delivery.last_error
    assert _send_due() == [] and sandbox.posts("telegram") == []
