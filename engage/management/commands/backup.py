"""``manage.py backup DIR``: a consistent backup of the database and media, with a manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from engage.backup import BackupError
from engage.backup.backup import backup_create


class Command(BaseCommand):
    help = ("Write a backup into DIR (new or empty): the database (pg_dump on PostgreSQL, SQLite's online "
            "backup otherwise), the media files and manifest.json. Never the encryption key or SECRET_KEY.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)

    def handle(self, *args: Any, directory: Path, **options: Any) -> None:
        try:
            content = backup_create(directory)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        head = content["audit_head"]
        self.stdout.write(f"Backed up {sum(content['tables'].values())} rows in {len(content['tables'])} tables "
                          f"and {content['media_count']} media files to {directory.resolve()} "
                          f"(audit head {head['id']}).")
