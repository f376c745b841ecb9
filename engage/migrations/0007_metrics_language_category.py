# The metrics summary gains rows per language and category (dimension "x"), so language filters
# read the summary. Summaries built before hold none, so the summary is emptied and its state
# reset: the next refresh rebuilds it from scratch; until then dashboards are computed live.

from django.db import migrations


def empty_the_summary(apps, schema_editor):
    apps.get_model("engage", "MetricsRollup").objects.all().delete()
    apps.get_model("engage", "MetricsRollupState").objects.update(watermark=None, rows=0, running_since=None)


class Migration(migrations.Migration):

    dependencies = [
        ('engage', '0006_metrics_segment_rollup'),
    ]

    operations = [
        migrations.RunPython(empty_the_summary, migrations.RunPython.noop),
    ]
