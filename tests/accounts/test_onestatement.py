"""accounts.onestatement: a conditional update and the rows recording it stand or fall together,
on PostgreSQL in one statement and elsewhere in a transaction, and the rows are what save() writes."""

from __future__ import annotations

import pytest
from django.db import DataError, IntegrityError, connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import audit_chain
from accounts.audit import audit_event
from accounts.models import AuditEvent, Notification
from accounts.onestatement import update_and_insert
from campaigns.models import DeliveryAttempt


def _columns(obj) -> dict:
    """What the caller gave (an audit row's chain hashes are the chain's to give)."""
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields
            if not f.primary_key and f.attname not in ("prev_hash", "chain_hash")}


@pytest.fixture
def announced():
    seen: list = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((sender, instance.pk, created))

    post_save.connect(receiver, sender=AuditEvent, dispatch_uid="test-onestatement")
    yield seen
    post_save.disconnect(dispatch_uid="test-onestatement", sender=AuditEvent)


@pytest.mark.django_db
def test_the_guard_matching_updates_and_inserts_what_save_would(world, announced):
    alert = Notification.objects.create(user=world.a.officer, kind="delivery_failed", text="Delivery failed")
    read_at = timezone.now()
    event = audit_event(actor=world.a.officer, verb="notification.read", target=alert, team=world.a.team,
                        summary={"text": "ünïcode \u202e and 'quotes'", "n": 3, "nested": {"ok": True}})
    note = Notification(user=world.a.supervisor, kind="fyi", text="Officer read it", url="/x?a=1&b='2'")
    expected = [_columns(event), _columns(note)]
    with CaptureQueriesContext(connection) as captured:
        n = update_and_insert(Notification.objects.filter(pk=alert.pk, read_at__isnull=True),
                              {"read_at": read_at}, [event, note])
    assert n == 1
    writes = [q["sql"] for q in captured if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    # elsewhere: the update, the audit chain head's move, and the two rows
    assert len(writes) == (1 if connection.vendor == "postgresql" else 4), writes
    alert.refresh_from_db()
    assert alert.read_at == read_at
    assert event.pk and note.pk and not event._state.adding
    assert [_columns(AuditEvent.objects.get(pk=event.pk)), _columns(Notification.objects.get(pk=note.pk))] == expected
    assert announced == [(AuditEvent, event.pk, True)]
    # the audit row is the chain's next link, with the hashes the caller's instance now carries
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.prev_hash, stored.chain_hash) == (event.prev_hash, event.chain_hash)
    assert audit_chain.chain_head() == (event.pk, event.chain_hash)
    assert audit_chain.verify().ok


@pytest.mark.django_db
def test_the_guard_missing_writes_nothing(world, announced):
    alert = Notification.objects.create(user=world.a.officer, kind="x", text="t", read_at=timezone.now())
    before = AuditEvent.objects.count(), Notification.objects.count()
    event = audit_event(actor=None, verb="notification.read", target=alert)
    n = update_and_insert(Notification.objects.filter(pk=alert.pk, read_at__isnull=True),
                          {"read_at": timezone.now()}, [event, Notification(user=world.a.officer, kind="y", text="t")])
    assert n == 0 and event.pk is None
    assert (AuditEvent.objects.count(), Notification.objects.count()) == before
    assert announced == []


def _refused_rows(world) -> list[list]:
    """Rows the database refuses: an attempt with no delivery and a negative HTTP status (NOT NULL
    and CHECK constraints), and on PostgreSQL a kind longer than its column (the CAST must not cut it)."""
    cases = [[DeliveryAttempt(delivery_id=None, outcome="sent", http_status=-1)]]
    if connection.vendor == "postgresql":
        cases.append([Notification(user=world.a.officer, kind="k" * 41, text="t")])
    return cases


@pytest.mark.django_db(transaction=True)
def test_a_refused_row_undoes_the_update_and_the_other_rows(world, announced):
    """No transaction around the call (autocommit, as in a worker)."""
    alert = Notification.objects.create(user=world.a.officer, kind="x", text="t")
    events, notes = AuditEvent.objects.count(), Notification.objects.count()
    for refused in _refused_rows(world):
        with pytest.raises((IntegrityError, DataError)):
            update_and_insert(Notification.objects.filter(pk=alert.pk), {"read_at": timezone.now()},
                              [audit_event(actor=None, verb="notification.read", target=alert), *refused])
        alert.refresh_from_db()
        assert alert.read_at is None
        assert (AuditEvent.objects.count(), Notification.objects.count()) == (events, notes)
    assert announced == []
