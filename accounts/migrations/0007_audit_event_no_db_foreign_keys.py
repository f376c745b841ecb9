"""Audit rows keep the acting user's and the team's ids without database foreign keys: their checks
at commit would lock those rows while the transaction holds the audit chain head (a deadlock with a
transaction that holds them and waits for the head). The ORM still refuses to delete a user or team
an audit row names (PROTECT). On SQLite the table is rebuilt, which drops its append-only trigger: it
is created again."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from accounts.migrations._append_only import restore_sqlite_trigger


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_audit_head_publication'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditevent',
            name='actor',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='team',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.team'),
        ),
        migrations.RunPython(restore_sqlite_trigger, restore_sqlite_trigger),
    ]
