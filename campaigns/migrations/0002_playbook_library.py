from django.db import migrations


def load(apps, schema_editor):
    from campaigns.playbook_library import LIBRARY

    Template = apps.get_model("campaigns", "PlaybookTemplate")
    for item in LIBRARY:
        Template.objects.get_or_create(
            team=None, title=item["title"], language="en",
            defaults={"body": item["body"], "phase": item["phase"], "event_kind": item["event_kind"],
                      "purpose": item["purpose"],
                      "urgency": "emergency" if item["purpose"] == "emergency" else "routine"},
        )


def unload(apps, schema_editor):
    apps.get_model("campaigns", "PlaybookTemplate").objects.filter(team=None).delete()


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
