"""Every audit row carries its chain hashes (the database refuses one that does not)."""

from django.db import migrations, models

SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS accounts_auditevent_no_update
BEFORE UPDATE ON accounts_auditevent
BEGIN
    SELECT RAISE(ABORT, 'The audit trail is append-only (UPDATE refused)');
END;
"""


def restore_sqlite_trigger(apps, schema_editor):
    """Adding a constraint rebuilds the table on SQLite, which drops its trigger: create it again."""
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_audit_hash_chain")]

    operations = [
        migrations.AlterModelOptions(name="auditevent",
                                     options={"base_manager_name": "objects", "ordering": ["-at", "-id"]}),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(condition=models.Q(("prev_hash", ""), _negated=True)
                                              & models.Q(("chain_hash", ""), _negated=True),
                                              name="audit_row_chained"),
        ),
        migrations.RunPython(restore_sqlite_trigger, restore_sqlite_trigger),
    ]
