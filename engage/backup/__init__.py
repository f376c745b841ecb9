"""Backup and restore for the embedded default, small forces and moving between machines.

``manage.py backup DIR`` writes a consistent copy of the database (``pg_dump`` in one snapshot on
PostgreSQL, the online backup API on SQLite), the media files and ``manifest.json``: a SHA-256
sum of every file, the applied migrations, the app version, the time, the row count of every
table and the audit trail's head. It never holds the field-encryption key, SECRET_KEY or the
signed-in sessions: only an encrypted *canary*, so that a restore can tell, before it touches the
database, whether the configured key reads the backup's encrypted fields.

``manage.py restore DIR`` checks all of that, loads the backup into an empty database, and brings
the system up paused (``campaigns.services.restore``). docs/operations.md is the operator's guide.
"""


class BackupError(Exception):
    """A backup or restore that cannot go on, with a message for the operator."""
