"""``manage.py backup DIR``: the database, the media files and the manifest."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from engage.backup import BackupError, database, manifest

MEDIA_DIR = "media"


def _prepare(directory: Path) -> None:
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BackupError(f"{directory} is not an empty directory: give a new one for each backup.")
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)  # the backup holds personal data


def _copy_media(directory: Path) -> list[Path]:
    """Every regular file under MEDIA_ROOT (links are not followed), by the same relative path."""
    root = Path(settings.MEDIA_ROOT)
    copied: list[Path] = []
    if not root.is_dir():
        return copied
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            source = Path(folder) / name
            if source.is_symlink() or not source.is_file():
                continue
            target = directory / MEDIA_DIR / source.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            os.chmod(target, 0o600)
            copied.append(target)
    return copied


def backup_create(directory: Path) -> dict[str, Any]:
    """Write a backup into ``directory`` (new or empty) and return its manifest."""
    directory = directory.resolve()
    _prepare(directory)
    started = timezone.now()
    if database.vendor() == "postgresql":
        db = database.pg_backup(directory / database.PG_FILE)
    elif database.vendor() == "sqlite":
        db = database.sqlite_backup(directory / database.SQLITE_FILE)
    else:
        raise BackupError(f"Backing up a {database.vendor()} database is not supported.")
    os.chmod(directory / db["file"], 0o600)
    media = _copy_media(directory)
    files = {}
    for path in [directory / db["file"], *media]:
        files[path.relative_to(directory).as_posix()] = {"sha256": manifest.sha256_file(path),
                                                         "bytes": path.stat().st_size}
    content = {
        "format": manifest.FORMAT,
        "created_at": started.isoformat(),
        "finished_at": timezone.now().isoformat(),
        "app_version": manifest.app_version(),
        "database": {key: value for key, value in db.items() if key not in ("migrations", "audit_head", "tables")},
        "migrations": db["migrations"],
        "audit_head": db["audit_head"],
        "tables": db["tables"],
        "excluded_table_data": list(manifest.EXCLUDED_TABLE_DATA),
        "media_count": len(media),
        "encryption_canary": manifest.make_canary(),
        "files": files,
    }
    manifest.write(directory, content)
    return content
