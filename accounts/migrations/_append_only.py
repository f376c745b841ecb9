"""The audit table's SQLite append-only trigger, for the migrations that rebuild that table.

SQLite rebuilds a table to add a column or a constraint or to alter a foreign key, and a rebuild
drops the table's triggers: each such migration creates this one again. The loader skips modules
whose names start with ``_``, so this is shared code, not a migration. Never change what it
creates: migrations already applied ran it as it is.
"""

SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS accounts_auditevent_no_update
BEFORE UPDATE ON accounts_auditevent
BEGIN
    SELECT RAISE(ABORT, 'The audit trail is append-only (UPDATE refused)');
END;
"""


def restore_sqlite_trigger(apps, schema_editor):
    """Create the trigger again on SQLite (a no-op elsewhere: PostgreSQL keeps its trigger)."""
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)
