"""The audit trail cannot be rewritten unseen: a hash chain that ``manage.py audit_verify`` walks.

A database administrator can drop the append-only trigger; these tests do, as one would, and then
change, remove, reorder, insert or truncate rows. Each must be found, naming the first bad row.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from accounts import audit_chain
from accounts.audit import audit_record
from accounts.models import AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table
SQLITE_TRIGGER = """CREATE TRIGGER IF NOT EXISTS accounts_auditevent_no_update BEFORE UPDATE ON accounts_auditevent
BEGIN SELECT RAISE(ABORT, 'The audit trail is append-only (UPDATE refused)'); END;"""


def as_dba(*statements: tuple[str, list]) -> None:
    """Run raw SQL with the append-only trigger out of the way, as a database administrator could."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own rows: no pending foreign-key checks
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER accounts_auditevent_append_only")
        else:
            cursor.execute("DROP TRIGGER accounts_auditevent_no_update")
        for sql, params in statements:
            cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER accounts_auditevent_append_only")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            cursor.execute(SQLITE_TRIGGER)


def verify_command(*heads: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    args = [arg for head in heads for arg in ("--head", head)]
    try:
        call_command("audit_verify", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return 1, out.getvalue(), err.getvalue() + str(exc)
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def trail(world) -> list[AuditEvent]:
    """Ten more audit rows after the world's own, of different shapes."""
    rows = [audit_record(actor=world.a.officer if i % 2 else None, verb=f"test.step{i}", target=world.a.event,
                         summary={"n": i, "nested": {"ok": True, "ratio": 0.5, "list": [1, 2.0]}, "label": "ünï"})
            for i in range(10)]
    assert verify_command()[0] == 0
    return rows


def _rehash_from(first_id: int) -> list[tuple[str, list]]:
    """The statements a careful forger would run after rewriting: recompute every hash from ``first_id``
    on, and fix the head record, so that the chain verifies on its own."""
    previous = AuditEvent.objects.filter(id__lt=first_id).order_by("-id").values_list("chain_hash", flat=True).first()
    prev_hash = previous or audit_chain.GENESIS
    statements, last_id = [], 0
    columns = ("id", *audit_chain.CONTENT_FIELDS)
    for row in AuditEvent.objects.filter(id__gte=first_id).order_by("id").values(*columns):
        chain_hash = audit_chain.link_hash(prev_hash, row["id"], audit_chain.content_digest(row))
        statements.append((f"UPDATE {TABLE} SET prev_hash = %s, chain_hash = %s WHERE id = %s",  # noqa: S608
                           [prev_hash, chain_hash, row["id"]]))
        prev_hash, last_id = chain_hash, row["id"]
    statements.append(("UPDATE accounts_auditchainhead SET last_id = %s, last_hash = %s WHERE id = 1",
                       [last_id, prev_hash]))
    return statements


def test_an_untouched_trail_verifies_and_the_last_line_is_the_head(trail):
    code, out, _ = verify_command()
    assert code == 0
    head = audit_chain.chain_head()
    assert head == (trail[-1].pk, trail[-1].chain_hash)
    assert out.strip().splitlines()[-1] == f"{head[0]}:{head[1]}"
    assert AuditChainHead.objects.get().last_id == head[0]
    # ids follow the chain: each row points at the one before it
    rows = list(AuditEvent.objects.order_by("id").values_list("id", "prev_hash", "chain_hash"))
    assert rows[0][1] == audit_chain.GENESIS
    assert all(b[1] == a[2] for a, b in zip(rows, rows[1:], strict=False))


def test_a_changed_row_is_named(trail):
    victim = trail[4]
    summary = json.dumps({**victim.summary, "n": 99})
    as_dba((f"UPDATE {TABLE} SET summary = %s WHERE id = %s", [summary, victim.pk]))  # noqa: S608
    code, _, err = verify_command()
    assert code == 1
    assert f"first bad row {victim.pk}" in err and "was changed" in err


def test_a_changed_row_with_its_own_hash_recomputed_breaks_the_next_link(trail):
    victim = trail[4]
    as_dba((f"UPDATE {TABLE} SET verb = %s WHERE id = %s", ["test.innocent", victim.pk]))  # noqa: S608
    as_dba(*_rehash_from(victim.pk)[:1])  # only the rewritten row's own hash: the next row still points at the old
    code, _, err = verify_command()
    assert code == 1
    assert f"first bad row {trail[5].pk}" in err and f"after row {victim.pk}" in err


def test_a_removed_row_is_found(trail):
    victim = trail[3]
    as_dba((f"DELETE FROM {TABLE} WHERE id = %s", [victim.pk]))  # noqa: S608
    code, _, err = verify_command()
    assert code == 1
    assert f"first bad row {trail[4].pk}" in err
    assert f"ids {victim.pk}..{victim.pk} are missing" in err


def test_swapped_rows_are_found(trail):
    """Two rows exchange places (ids): the chain order is the id order, so the first of them is named."""
    first, second = trail[2], trail[3]
    park = 10**9
    as_dba(
        (f"UPDATE {TABLE} SET id = %s WHERE id = %s", [park, first.pk]),  # noqa: S608
        (f"UPDATE {TABLE} SET id = %s WHERE id = %s", [first.pk, second.pk]),  # noqa: S608
        (f"UPDATE {TABLE} SET id = %s WHERE id = %s", [second.pk, park]),  # noqa: S608
    )
    code, _, err = verify_command()
    assert code == 1
    assert f"first bad row {first.pk}" in err


def test_a_row_inserted_out_of_order_is_found(trail):
    """A forged row slipped in at the end, claiming to follow an earlier row, with a hash of its own."""
    forged_id = trail[-1].pk + 1
    template = AuditEvent.objects.filter(pk=trail[5].pk).values(*audit_chain.CONTENT_FIELDS).get()
    prev_hash = trail[5].chain_hash
    chain_hash = audit_chain.link_hash(prev_hash, forged_id, audit_chain.content_digest(template))
    as_dba((f"INSERT INTO {TABLE} (id, at, actor_id, actor_label, verb, target_type, target_id, team_id, summary, "  # noqa: S608
            "ip_address, prev_hash, chain_hash) SELECT %s, at, actor_id, actor_label, verb, target_type, target_id, "
            f"team_id, summary, ip_address, %s, %s FROM {TABLE} WHERE id = %s",
            [forged_id, prev_hash, chain_hash, trail[5].pk]))
    code, _, err = verify_command()
    assert code == 1
    assert f"first bad row {forged_id}" in err


def test_a_rewritten_tail_with_every_hash_recomputed_is_found_only_with_a_published_head(trail):
    published = audit_chain.chain_head()
    as_dba((f"UPDATE {TABLE} SET verb = %s WHERE id = %s", ["test.innocent", trail[6].pk]))  # noqa: S608
    as_dba(*_rehash_from(trail[6].pk))
    assert verify_command()[0] == 0  # consistent on its own: this is what publishing the head is for
    code, _, err = verify_command(f"{published[0]}:{published[1]}")
    assert code == 1
    assert f"first bad row {published[0]}" in err and "differs from the published head" in err


def test_a_truncation_behind_a_published_head_is_found(trail):
    published = audit_chain.chain_head()
    cut = trail[7].pk
    # the forger removes the last rows and points the head record at the new last row
    last = AuditEvent.objects.filter(id__lt=cut).order_by("-id").values_list("id", "chain_hash").first()
    as_dba((f"DELETE FROM {TABLE} WHERE id >= %s", [cut]),  # noqa: S608
           ("UPDATE accounts_auditchainhead SET last_id = %s, last_hash = %s WHERE id = 1", list(last)))
    assert verify_command()[0] == 0
    code, _, err = verify_command(f"{published[0]}:{published[1]}")
    assert code == 1
    assert f"published head {published[0]}: no such row" in err and "truncated" in err
    # an older published head, before the cut, still verifies
    earlier = trail[3]
    assert verify_command(f"{earlier.pk}:{earlier.chain_hash}")[0] == 0


def test_a_truncated_tail_without_fixing_the_head_record_is_found(trail):
    as_dba((f"DELETE FROM {TABLE} WHERE id >= %s", [trail[8].pk]))  # noqa: S608
    code, _, err = verify_command()
    assert code == 1
    assert f"names row {trail[-1].pk} but the last row is {trail[7].pk}" in err


def test_a_malformed_head_is_a_clear_error(trail):
    code, _, err = verify_command("12:not-a-hash")
    assert code == 1 and "expected ID:HASH" in err


def test_rows_written_in_bulk_and_in_one_statement_are_links_too(world):
    AuditEvent.objects.bulk_create([AuditEvent(actor_label="system", verb="test.bulk", summary={"i": i})
                                    for i in range(3)])
    with pytest.raises(PermissionError):
        AuditEvent.objects.bulk_create([AuditEvent(id=10**6, actor_label="system", verb="test.chosen_id")])
    with pytest.raises(PermissionError):
        AuditEvent(id=10**6, actor_label="system", verb="test.chosen_id").save(force_insert=True)
    assert verify_command()[0] == 0


def test_the_database_refuses_a_row_without_its_chain_hashes(world):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} (at, actor_label, verb, target_type, target_id, summary, prev_hash, "  # noqa: S608
                       "chain_hash) VALUES (CURRENT_TIMESTAMP, 'system', 'test.raw', '', '', '{}', '', '')")


def test_the_head_record_is_rebuilt_from_the_trail_when_missing(trail):
    """After a restore without it (or the test runner's flush), the chain continues from the last row."""
    AuditChainHead.objects.all().delete()
    event = audit_record(actor=None, verb="test.after_loss")
    assert event.prev_hash == trail[-1].chain_hash and event.pk == trail[-1].pk + 1
    assert verify_command()[0] == 0
