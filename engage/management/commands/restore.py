"""``manage.py restore DIR``: load a backup into an empty database; the system comes up paused."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from engage.backup import BackupError
from engage.backup.restore import hold_after_recovery, restore_backup


class Command(BaseCommand):
    help = ("Restore the backup in DIR into the configured database, which must be empty. Every checksum, the "
            "schema and the encryption key are checked first. Every force comes up with publishing paused and "
            "a restore report for a supervisor to read before resuming.")
    requires_system_checks: list[str] = []  # the database is empty until this has run

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, nargs="?")
        parser.add_argument("--recovered-to", type=datetime.fromisoformat, metavar="TIME",
                            help="No backup to load: the configured database was recovered to TIME by other means "
                                 "(point-in-time recovery). Pause every force and mark what may have gone out "
                                 "since as unconfirmed, as after a restore.")

    def handle(self, *args: Any, directory: Path | None, recovered_to: datetime | None, **options: Any) -> None:
        if (directory is None) == (recovered_to is None):
            raise CommandError("Give either a backup directory or --recovered-to TIME.")
        try:
            if recovered_to is not None:
                done = hold_after_recovery(recovered_to)
                self.stdout.write(
                    f"Publishing is paused for all {done['forces_paused']} forces. "
                    f"{done['deliveries_unconfirmed']} deliveries and {done['answers_unconfirmed']} answers may "
                    f"have gone out after {recovered_to.isoformat()} and are unconfirmed. A supervisor reads the "
                    f"restore report on the Publishing page before resuming.")
                return
            done = restore_backup(directory)  # type: ignore[arg-type]
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Restored the backup taken {done['backup_taken_at']}: {done['rows']} rows in {done['tables']} tables, "
            f"{done['media_files']} media files, {done['encrypted_values_checked']} encrypted values read, audit head {done['audit_head']['id']}"
            f"{' (then migrated to this version)' if done['migrated'] else ''}.")
        self.stdout.write(
            f"Publishing is paused for all {done['forces_paused']} forces. {done['deliveries_unconfirmed']} "
            f"deliveries and {done['answers_unconfirmed']} answers may have gone out after the backup and are "
            f"unconfirmed. A supervisor reads the restore report on the Publishing page before resuming.")
