# The metrics summary keyed by the message's segments (issue 8): segment filters read the summary.
# The rows of the old layout (a separate "s" dimension) are dropped and the state reset, so the
# next refresh rebuilds the summary from scratch; until then dashboards are computed live.

from django.db import migrations, models


def empty_the_summary(apps, schema_editor):
    apps.get_model("engage", "MetricsRollup").objects.all().delete()
    apps.get_model("engage", "MetricsRollupState").objects.update(watermark=None, rows=0, running_since=None)


class Migration(migrations.Migration):

    # After 0006 (answer feedback), which was committed first on 0004: one leaf, whatever the numbers.
    dependencies = [
        ('engage', '0005_answer_feedback'),
    ]

    operations = [
        migrations.RunPython(empty_the_summary, migrations.RunPython.noop),
        migrations.AddField(
            model_name='metricsrollup',
            name='segments',
            field=models.TextField(blank=True, help_text='The message\'s segment ids, e.g. ",3,7,"; empty: none'),
        ),
    ]
