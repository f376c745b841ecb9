"""Setting up a watch: purpose, window, retention and a second supervisor, or nothing is watched;
a force never sees another's watches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from core.errors import InvalidInput, NotAllowed, NotFound
from engage.awareness import services, worker
from engage.awareness.models import Watch, WatchStatus
from engage.awareness.selectors import watches_for
from tests.engage.awareness.conftest import approved_watch, make_desk

pytestmark = pytest.mark.django_db


def _setup(desk, **overrides):
    now = timezone.now()
    fields = {"actor": desk.supervisor, "event": desk.event, "purpose": "Spot crushes and rumours.",
              "window_start": now - timedelta(hours=1), "window_end": now + timedelta(days=2),
              "retention_hours": 72, "hashtags": ["#DerbyDay"], "instances": ["https://social.example"]}
    return services.watch_create(**{**fields, **overrides})


@pytest.mark.parametrize(("overrides", "field"), [
    ({"purpose": "   "}, "purpose"),
    ({"window_end": timezone.now() + timedelta(days=14)}, "window_end"),  # 14 days and an hour
    ({"retention_hours": 73}, "retention_hours"),
    ({"retention_hours": 0}, "retention_hours"),
    ({"hashtags": [], "instances": []}, "hashtags"),
    ({"hashtags": ["gate 3"]}, "hashtags"),
    ({"instances": ["ftp://social.example"]}, "instances"),
])
def test_a_watch_needs_purpose_window_retention_and_a_source(desk, overrides, field):
    with pytest.raises(InvalidInput) as refused:
        _setup(desk, **overrides)
    assert field in refused.value.fields
    assert not Watch.objects.exists()


def test_only_a_supervisor_sets_up_and_a_second_one_approves(desk):
    for person in (desk.officer, desk.liaison):
        with pytest.raises(NotAllowed):
            _setup(desk, actor=person)
    watch = _setup(desk)
    assert watch.status == WatchStatus.PENDING and watch.hashtags == ["DerbyDay"]
    with pytest.raises(NotAllowed, match="second supervisor"):
        services.watch_approve(actor=desk.supervisor, watch_id=watch.pk)
    with pytest.raises(NotAllowed):
        services.watch_approve(actor=desk.liaison, watch_id=watch.pk)
    approved = services.watch_approve(actor=desk.supervisor2, watch_id=watch.pk)
    assert approved.status == WatchStatus.APPROVED and approved.approved_by == desk.supervisor2
    verbs = list(AuditEvent.objects.filter(target_id=str(watch.pk), verb__startswith="awareness.watch")
                 .values_list("verb", flat=True))
    assert sorted(verbs) == ["awareness.watch.approved", "awareness.watch.created"]


def test_a_watch_without_approval_or_purpose_never_runs(desk, instance):
    read = []

    def reader(key, cursor):
        read.append(key)
        raise AssertionError("a source was read")

    pending = _setup(desk)
    assert worker.watches_run(reader=reader)["ran"] == 0
    # Even an approved row that lost its purpose, or whose approver is its author, is not read.
    approved = services.watch_approve(actor=desk.supervisor2, watch_id=pending.pk)
    Watch.objects.filter(pk=approved.pk).update(purpose=" ")
    assert worker.watches_run(reader=reader)["ran"] == 0
    assert read == []
    assert not approved.runs_at(timezone.now() - timedelta(days=1))  # before its window


def test_a_force_never_sees_another_forces_watches(desk):
    other = make_desk("C")
    ours = approved_watch(desk)
    theirs = approved_watch(other)
    assert list(watches_for(desk.supervisor)) == [ours]
    assert list(watches_for(other.liaison)) == [theirs]
    with pytest.raises(NotFound):
        services.watch_approve(actor=other.supervisor, watch_id=_setup(desk).pk)
    with pytest.raises(NotFound):
        services.watch_stop(actor=other.supervisor, watch_id=ours.pk)
    with pytest.raises(NotFound):
        services.watch_create(actor=other.supervisor, event=desk.event, purpose="x",
                              window_start=timezone.now(), window_end=timezone.now() + timedelta(days=1),
                              hashtags=["x"], instances=["https://social.example"])
