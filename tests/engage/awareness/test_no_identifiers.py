"""Nothing identifying reaches the database, whatever the platform sends: hostile statuses (account
objects, mentions, links, custom emoji names, the author's name spelt out in the text, personal data
in the account's note) are served by a local Mastodon instance; after the worker's runs every
text and JSON column of every awareness table, the alerts, the audit trail and a dump of the whole
database are searched for the authors' names, handles, ids, links and avatars."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models

from accounts.models import Membership
from engage.awareness import worker
from engage.awareness.models import Bucket, RumourCandidate, Signal, SpikeAlert, Watch
from tests.engage.awareness.conftest import HOSTILE_NAMES, approved_watch, hostile_status

pytestmark = pytest.mark.django_db

FORBIDDEN = (*HOSTILE_NAMES, "Quxdoe", "attacker.example", "other.example", "evil_author@", "@evil", "acacia",
             "109999000000000888", "headers/evil", "07700 900123")


def _columns(model: type[models.Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)]


def test_no_author_identifier_reaches_the_database(desk, instance):
    Membership.objects.filter(user=desk.liaison).update(on_duty=True)
    now = datetime.now(UTC)
    watch = approved_watch(desk, instances=[instance.url], start=now - timedelta(hours=2))
    texts = ["Crush near gate 3, people cannot breathe", "They say a bomb was found at the north stand",
             "Queues at the stadium are huge"]
    instance.statuses = [hostile_status(n, texts[n % 3], created=now - timedelta(seconds=60 - n))
                         for n in range(1, 40)]
    worker.watches_run(now=now)
    instance.statuses += [hostile_status(n, texts[n % 3], created=now + timedelta(seconds=n)) for n in range(40, 70)]
    worker.watches_run(now=now + timedelta(minutes=1, seconds=30))

    assert instance.requests[-1]["min_id"]  # the second run read forward from the cursor
    assert Signal.objects.count() == 69 and RumourCandidate.objects.count() >= 2 and SpikeAlert.objects.exists()
    assert sum(Bucket.objects.values_list("volume", flat=True)) == 69
    status_ids = {s["id"] for s in instance.statuses}
    found = []
    for model in apps.get_app_config("awareness").get_models():
        for row in model.objects.values(*_columns(model)):
            for column, value in row.items():
                text = str(value).lower()
                found += [(model.__name__, column, name) for name in FORBIDDEN if name.lower() in text]
                if not (model is Watch and column == "cursors"):  # the newest post id, where reading resumes
                    found += [(model.__name__, column, i) for i in status_ids if i in text]
    assert found == []

    dump = io.StringIO()
    call_command("dumpdata", "--natural-foreign", stdout=dump, exclude=["contenttypes", "auth.permission"])
    whole = dump.getvalue().lower()
    assert [name for name in FORBIDDEN if name.lower() in whole] == []
    assert "crush near gate 3" in whole  # the dump does hold the masked texts: the search is real
    assert Watch.objects.get(pk=watch.pk).cursors == {f"mastodon:{instance.url}#DerbyDay": max(status_ids, key=int)}
