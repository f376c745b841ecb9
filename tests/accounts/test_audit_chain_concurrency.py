"""Concurrent writers of the audit trail keep one unbroken chain.

Threads, each on its own database connection, write audit rows at the same moment through every
path: ``audit_record`` inside a service's transaction (with another write before it), the same in
autocommit, ``bulk_create``, and the send path's one-statement update (``accounts.onestatement``,
a single PostgreSQL statement). The chain head serialises them: the chain must verify, with ids in
chain order and no row lost.
"""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from accounts import audit_chain
from accounts.audit import audit_event, audit_record
from accounts.models import AuditEvent, Notification
from accounts.onestatement import update_and_insert
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 6
ROWS = 12


@pytest.fixture
def user(transactional_db):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("an in-memory SQLite database is not shared between threads' connections")
    return UserFactory()


def _writer(index: int, user_id: int) -> int:
    written = 0
    for i in range(ROWS):
        kind = (index + i) % 4
        if kind == 0:
            with transaction.atomic():
                Notification.objects.create(user_id=user_id, kind="test", text=f"{index}-{i}")
                audit_record(actor=None, verb="test.in_transaction", summary={"thread": index, "i": i})
        elif kind == 1:
            audit_record(actor=None, verb="test.autocommit", summary={"thread": index, "i": i})
        elif kind == 2:
            AuditEvent.objects.bulk_create([AuditEvent(actor_label="system", verb="test.bulk",
                                                       summary={"thread": index, "i": i, "j": j}) for j in range(2)])
            written += 1
        else:
            alert = Notification.objects.create(user_id=user_id, kind="test", text=f"{index}-{i}")
            n = update_and_insert(Notification.objects.filter(pk=alert.pk, read_at__isnull=True),
                                  {"read_at": timezone.now()},
                                  [audit_event(actor=None, verb="test.one_statement", target=alert,
                                               summary={"thread": index, "i": i})])
            assert n == 1
        written += 1
    return written


def test_concurrent_writers_keep_one_chain(user):
    barrier = threading.Barrier(THREADS)
    results: list[object] = [None] * THREADS

    def run(index: int) -> None:
        try:
            close_old_connections()
            barrier.wait(timeout=60)
            results[index] = _writer(index, user.pk)
        except Exception as exc:  # noqa: BLE001 - handed back to the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
        assert not thread.is_alive(), "a writer hung (deadlock?)"
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    expected = sum(results)  # type: ignore[arg-type]
    assert AuditEvent.objects.filter(verb__startswith="test.").count() == expected
    result = audit_chain.verify()
    assert result.ok, result.problems
    ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    assert ids == list(range(ids[0], ids[0] + len(ids)))  # the head hands out ids: none skipped, none twice
    assert result.head == audit_chain.chain_head()
