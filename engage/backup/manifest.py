"""The backup's manifest: what is in it, and the checks a restore makes before it loads anything."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings

from engage.backup import BackupError

FORMAT = "engage-backup/1"
MANIFEST = "manifest.json"
# Rows never written to a backup: a session key is as good as a password while it lives.
EXCLUDED_TABLE_DATA = ("django_session",)


def app_version() -> str:
    """The version in pyproject.toml (the installed distribution's, if Engage is installed)."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("engage")
    except PackageNotFoundError:
        pass
    try:
        with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- what the snapshot holds (read through a DB-API cursor inside the snapshot) ---------------

def table_names(cursor: Any, vendor: str) -> list[str]:
    if vendor == "postgresql":
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
    else:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                       "ORDER BY name")
    return [row[0] for row in cursor.fetchall()]


def table_counts(cursor: Any, vendor: str) -> dict[str, int]:
    counts = {}
    for table in table_names(cursor, vendor):
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - names from the catalogue
        counts[table] = int(cursor.fetchone()[0])
    return counts


def applied_migrations(cursor: Any) -> dict[str, list[str]]:
    """The schema version: the migrations applied, per app."""
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    applied: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        applied.setdefault(app, []).append(name)
    return applied


def audit_head(cursor: Any) -> dict[str, Any]:
    """The audit trail's last row: its id and its chain hash (``accounts.audit_chain``).

    Read through ``cursor``, inside the backup's own snapshot, so that the head recorded is the
    one in the copy (``accounts.audit_chain.chain_head()`` would read outside that snapshot).
    ``restore`` checks it, and ``audit_verify --head ID:HASH`` with it proves the copy whole."""
    cursor.execute("SELECT * FROM accounts_auditevent ORDER BY id DESC LIMIT 1")
    row = cursor.fetchone()
    if row is None:
        return {"id": None, "chain_hash": None}
    columns = [col[0] for col in cursor.description]
    values = dict(zip(columns, row, strict=True))
    chain_hash = values.get("chain_hash")
    return {"id": int(values["id"]), "chain_hash": chain_hash if chain_hash else None}


# --- the key canary ----------------------------------------------------------------------------

def make_canary() -> dict[str, str]:
    """A random value encrypted with the configured field-encryption key, and its keyed digest.
    Neither gives the key away; a restore decrypts it to learn whether its own key fits."""
    from campaigns.secretbox import digest, encrypt

    nonce = secrets.token_hex(16)
    return {"nonce": nonce, "token": encrypt(nonce), "digest": digest(nonce)}


def check_canary(canary: dict[str, str]) -> None:
    from campaigns.secretbox import decrypt, digest

    try:
        readable = decrypt(canary["token"]) == canary["nonce"]
    except (ValueError, KeyError, TypeError):
        readable = False
    if not readable:
        raise BackupError(
            "The configured ENGAGE_FIELD_ENCRYPTION_KEY cannot read this backup's encrypted fields (channel "
            "secrets, list recipients' addresses). Set it to the key the backed-up system used (on an embedded "
            "system without that setting: the old machine's var/secret_key or its SECRET_KEY), then restore "
            "again. Nothing was changed.")
    if digest(canary["nonce"]) != canary.get("digest"):
        raise BackupError(
            "The configured ENGAGE_FIELD_ENCRYPTION_KEY can decrypt this backup, but its first key is not the one "
            "the backup's look-up digests were made with, so opt-outs and duplicates would not be found. Put the "
            "backed-up system's first key first (older keys after it, comma-separated), then restore again. "
            "Nothing was changed.")


# --- writing and reading ----------------------------------------------------------------------

def write(directory: Path, manifest: dict[str, Any]) -> Path:
    """Written last, through a rename: a backup without its manifest is unfinished, and refused."""
    path = directory / MANIFEST
    tmp = directory / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def _safe_relative(name: str) -> PurePosixPath:
    rel = PurePosixPath(name)
    if rel.is_absolute() or not rel.parts or any(part in ("", ".", "..") for part in rel.parts):
        raise BackupError(f"The manifest names a file outside the backup ({name!r}): refusing this backup.")
    return rel


def read_and_verify(directory: Path) -> dict[str, Any]:
    """The manifest, once every file it lists is present with its size and SHA-256 sum."""
    path = directory / MANIFEST
    if not directory.is_dir():
        raise BackupError(f"{directory} is not a directory.")
    if not path.is_file():
        raise BackupError(f"{directory} has no {MANIFEST}: it is not a finished Engage backup.")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path} cannot be read as JSON ({exc}).") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not an Engage backup manifest of format {FORMAT}.")
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise BackupError(f"{path} lists no files.")
    for name, expected in sorted(files.items()):
        file = directory / _safe_relative(name)
        if not file.is_file() or file.is_symlink():
            raise BackupError(f"The backup is incomplete: {name} is missing.")
        if file.stat().st_size != expected.get("bytes") or sha256_file(file) != expected.get("sha256"):
            raise BackupError(f"The backup is damaged: {name} does not match its SHA-256 sum in the manifest.")
    return manifest
