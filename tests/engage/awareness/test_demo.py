"""The demo's derby has an approved watch with counts, a rumour candidate and a spike alert."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from campaigns.models import Event
from engage.awareness.models import Bucket, RumourCandidate, SpikeAlert, Watch, WatchStatus

pytestmark = pytest.mark.django_db


def test_the_demo_derby_has_a_working_watch():
    call_command("seed_demo", verbosity=0)
    derby = Event.objects.get(name="Northshire v Eastport derby")
    watch = Watch.objects.get(event=derby)
    assert watch.status == WatchStatus.APPROVED and watch.approved_by_id != watch.created_by_id
    assert Bucket.objects.filter(watch=watch).count() >= 24
    candidate = RumourCandidate.objects.get(watch=watch)
    assert "bomb" in candidate.claim.lower() and candidate.count >= 4 and "07700" not in candidate.claim
    assert set(SpikeAlert.objects.filter(watch=watch).values_list("kind", flat=True)) == {"volume", "danger"}
    call_command("seed_demo", verbosity=0)  # safe to repeat
    assert Watch.objects.filter(event=derby).count() == 1
