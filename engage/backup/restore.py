"""``manage.py restore DIR``: check everything, load into an empty database, come up paused.

Every check that can be made before the database is touched is made first: the manifest and
every file's SHA-256 sum, the database engine, the schema (a backup from a newer Engage is
refused), the encryption-key canary and a sample of every encrypted column, and that the
database and the media folder are empty. Then the database is loaded (into a staging file that
is moved into place on SQLite; in one transaction by pg_restore on PostgreSQL), its row counts
and audit head compared with the manifest, newer migrations applied, the media copied, and every
force paused with a restore report (``campaigns.services.restore``).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader

from engage.backup import BackupError, database, manifest
from engage.backup.backup import MEDIA_DIR

SAMPLE_PER_COLUMN = 200


def encrypted_columns() -> list[tuple[str, str]]:
    """(table, column) of every field kept encrypted at rest (``*_encrypted``, campaigns.secretbox)."""
    return sorted((model._meta.db_table, field.column) for model in apps.get_models()
                  for field in model._meta.concrete_fields if field.name.endswith("_encrypted"))


def _check_schema(migrations: dict[str, list[str]], version: str) -> bool:
    """True when this code has migrations the backup lacks (they are applied after loading)."""
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    backed_up = {(app, name) for app, names in migrations.items() for name in names}
    unknown = sorted(backed_up - known)
    ours = {key for key in known if key[0] in {a.label for a in apps.get_app_configs()}}
    if unknown:
        app, name = unknown[0]
        raise BackupError(f"This backup was made by a newer Engage: its schema has migration {app}.{name}, which "
                          f"this version does not know. Restore it with Engage {version} or later. "
                          f"Nothing was changed.")
    return bool(ours - backed_up)


def _check_empty() -> None:
    empty, names = database.pg_is_empty() if database.vendor() == "postgresql" else database.sqlite_is_empty()
    if not empty:
        name = connection.settings_dict["NAME"]
        raise BackupError(f"The database {name} is not empty (it has {', '.join(names[:5])}...). A restore goes "
                          f"only into an empty database: create a new one (createdb, or a new ENGAGE_SQLITE_PATH) "
                          f"and point the settings at it. Nothing was changed.")
    media = Path(settings.MEDIA_ROOT)
    if media.is_dir() and any(p.is_file() for p in media.rglob("*")):
        raise BackupError(f"The media folder {media} already holds files. A restore goes only into an empty "
                          f"system: point ENGAGE_MEDIA_ROOT at an empty folder. Nothing was changed.")


def _check_encrypted_samples(directory: Path, db: dict[str, Any], tables: dict[str, int]) -> int:
    """Decrypt a sample of every encrypted column, from the backup itself, before loading it."""
    from campaigns.secretbox import decrypt

    checked = 0
    backup_file = directory / db["file"]
    for table, column in encrypted_columns():
        if not tables.get(table):
            continue
        if db["engine"] == "postgresql":
            values = database.pg_samples(backup_file, table, column, SAMPLE_PER_COLUMN)
        else:
            values = database.sqlite_samples(backup_file, table, column, SAMPLE_PER_COLUMN)
        for value in values:
            try:
                decrypt(value)
            except ValueError as exc:
                raise BackupError(f"The configured ENGAGE_FIELD_ENCRYPTION_KEY cannot read {table}.{column} in this "
                                  f"backup (an older key may be missing: list every key the backed-up system had, "
                                  f"comma-separated, the current one first). Nothing was changed.") from exc
            checked += 1
    return checked


def _copy_media(directory: Path, files: dict[str, Any]) -> int:
    root = Path(settings.MEDIA_ROOT)
    copied = 0
    for name in sorted(files):
        if not name.startswith(f"{MEDIA_DIR}/"):
            continue
        target = root / Path(name).relative_to(MEDIA_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(directory / name, target)
        if manifest.sha256_file(target) != files[name]["sha256"]:
            raise BackupError(f"Copying {name} into {root} changed it. The database is restored and paused, but "
                              f"its media are incomplete: check the disk, drop the database, empty {root} and "
                              f"restore again.")
        copied += 1
    return copied


def _hold(content: dict[str, Any]) -> list[Any]:
    """Every force paused, what may have gone out since the backup unconfirmed, a report each."""
    from campaigns.services.restore import publishing_hold_after_restore
    from engage.inbound.answers import answers_unconfirm_after_restore

    taken = datetime.fromisoformat(content["created_at"])
    details = {"backup_app_version": content.get("app_version"), "app_version": manifest.app_version(),
               "audit_head": content.get("audit_head"), "media_files": content.get("media_count", 0),
               "tables": len(content.get("tables", {}))}
    with transaction.atomic():
        answers = answers_unconfirm_after_restore(backup_taken=taken.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"))
        return publishing_hold_after_restore(backup_taken_at=taken, details=details, answers_by_team=answers)


def hold_after_recovery(recovered_to: datetime) -> dict[str, Any]:
    """For a database recovered some other way (point-in-time recovery with pgBackRest or WAL-G):
    the same hold as after a restore, for what may have gone out after ``recovered_to``."""
    if recovered_to.tzinfo is None:
        raise BackupError("Give the recovery time with its offset, e.g. 2026-12-04T10:15:00+00:00.")
    reports = _hold({"created_at": recovered_to.isoformat(), "app_version": manifest.app_version(),
                     "audit_head": None, "tables": {}})
    return {"forces_paused": len(reports),
            "deliveries_unconfirmed": sum(len(r.details.get("deliveries_unconfirmed", [])) for r in reports),
            "answers_unconfirmed": sum(len(r.details.get("answers_unconfirmed", [])) for r in reports)}


def restore_backup(directory: Path) -> dict[str, Any]:
    """Restore the backup in ``directory``; returns what was done. Raises BackupError, having
    changed nothing, for anything found wrong before loading."""
    directory = directory.resolve()
    content = manifest.read_and_verify(directory)
    db = content.get("database") or {}
    if db.get("engine") != database.vendor():
        raise BackupError(f"This is a {db.get('engine')} backup and the configured database is {database.vendor()}: "
                          f"restore it into a {db.get('engine')} database. Nothing was changed.")
    if db.get("file") not in content["files"]:
        raise BackupError("The manifest does not list the database file. Nothing was changed.")
    newer_code = _check_schema(content.get("migrations") or {}, str(content.get("app_version")))
    manifest.check_canary(content.get("encryption_canary") or {})
    tables = content.get("tables") or {}
    sampled = _check_encrypted_samples(directory, db, tables)
    _check_empty()
    if db["engine"] == "postgresql":
        database.pg_restore(directory / db["file"], dump_major=int(db.get("pg_dump_major") or 0),
                            expected_counts=tables)
    else:
        database.sqlite_restore(directory / db["file"], tables)
    with connection.cursor() as cursor:
        head = manifest.audit_head(cursor)
    if head != content.get("audit_head"):
        raise BackupError(f"The restored audit trail ends at {head}, the manifest says {content.get('audit_head')}. "
                          f"Drop this database before trying again.")
    if newer_code:
        call_command("migrate", interactive=False, verbosity=0)
    try:
        reports = _hold(content)
    except Exception as exc:
        raise BackupError(f"The database is loaded but could not be paused ({exc!r}). Do not start Engage on it: "
                          f"drop it and restore again.") from exc
    media = _copy_media(directory, content["files"])
    return {"backup_taken_at": content["created_at"], "tables": len(tables), "rows": sum(tables.values()),
            "media_files": media, "encrypted_values_checked": sampled, "migrated": newer_code,
            "audit_head": head, "forces_paused": len(reports),
            "deliveries_unconfirmed": sum(len(r.details.get("deliveries_unconfirmed", [])) for r in reports),
            "answers_unconfirmed": sum(len(r.details.get("answers_unconfirmed", [])) for r in reports)}
