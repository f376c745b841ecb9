"""Link the audit trail into a hash chain (accounts.audit_chain), existing rows in id order.

The append-only trigger is lifted for the one UPDATE that fills in the hashes of the rows already
there, and put back in the same transaction (on SQLite, adding the columns rebuilt the table, which
dropped its trigger: it is created again).
"""

from django.db import migrations, models

from accounts.audit_chain import CONTENT_FIELDS, GENESIS, content_digest, link_hash
from accounts.migrations._append_only import SQLITE_TRIGGER, restore_sqlite_trigger

PG_TABLE = "accounts_auditevent"
PG_TRIGGER = "accounts_auditevent_append_only"


def chain_existing_rows(apps, schema_editor):
    connection = schema_editor.connection
    AuditEvent = apps.get_model("accounts", "AuditEvent")
    AuditChainHead = apps.get_model("accounts", "AuditChainHead")
    db = connection.alias
    if connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {PG_TABLE} DISABLE TRIGGER {PG_TRIGGER}")
    elif connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS accounts_auditevent_no_update")
    prev_id, prev_hash, batch = 0, GENESIS, []
    rows = AuditEvent.objects.using(db).order_by("id").values("id", *CONTENT_FIELDS).iterator(chunk_size=2000)
    with connection.cursor() as cursor:
        for row in rows:
            chain_hash = link_hash(prev_hash, row["id"], content_digest(row))
            batch.append((prev_hash, chain_hash, row["id"]))
            prev_id, prev_hash = row["id"], chain_hash
            if len(batch) >= 2000:
                cursor.executemany(f"UPDATE {PG_TABLE} SET prev_hash = %s, chain_hash = %s WHERE id = %s", batch)  # noqa: S608
                batch = []
        if batch:
            cursor.executemany(f"UPDATE {PG_TABLE} SET prev_hash = %s, chain_hash = %s WHERE id = %s", batch)  # noqa: S608
    AuditChainHead.objects.using(db).create(id=1, last_id=prev_id, prev_hash=GENESIS, last_hash=prev_hash)
    if connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {PG_TABLE} ENABLE TRIGGER {PG_TRIGGER}")
    elif connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_api_token_grant_session_generation")]

    operations = [
        migrations.AddField(
            model_name="auditevent", name="prev_hash",
            field=models.CharField(default="", editable=False, help_text="The chain hash of the row before.",
                                   max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent", name="chain_hash",
            field=models.CharField(default="", editable=False,
                                   help_text="SHA-256 of the previous hash, this row's id and its content.",
                                   max_length=64),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ("last_id", models.BigIntegerField()),
                ("prev_hash", models.CharField(max_length=64)),
                ("last_hash", models.CharField(max_length=64)),
            ],
        ),
        migrations.RunPython(chain_existing_rows, restore_sqlite_trigger),
    ]
