"""Every audit row carries its chain hashes (the database refuses one that does not)."""

from django.db import migrations, models

from accounts.migrations._append_only import restore_sqlite_trigger


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
