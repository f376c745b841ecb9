"""Migration accounts 0004 links the rows that were already there into the chain, in id order."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts import audit_chain

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("accounts", "0003_api_token_grant_session_generation")]


def _latest() -> list[tuple[str, str]]:
    """Every app's latest migration, not only accounts': going back to ``BEFORE`` also unapplies the
    other apps' migrations that depend on a later accounts one (engage 0015 and 0016 do), and the
    database must be left as migrated as it was found, for the tests after this one (the backup
    drill compares django_migrations row by row)."""
    executor = MigrationExecutor(connection)
    return list(executor.loader.graph.leaf_nodes())


def test_existing_rows_are_chained_in_id_order_and_the_chain_goes_on():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    with connection.cursor() as cursor:
        for verb, summary, ip in [("old.one", '{"x": 1.0, "big": 1e20, "s": "\\u00e9"}', "::ffff:1.2.3.4"),
                                  ("old.two", "{}", None), ("old.three", '{"ids": [3, 2, 1]}', "10.0.0.1")]:
            cursor.execute("INSERT INTO accounts_auditevent (at, actor_label, verb, target_type, target_id, summary, "
                           "ip_address) VALUES (CURRENT_TIMESTAMP, 'system', %s, '', '', %s, %s)", [verb, summary, ip])
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(_latest())
    result = audit_chain.verify()
    assert result.ok and result.rows == 3, result.problems
    from accounts.audit import audit_record

    event = audit_record(actor=None, verb="test.after_migration")
    assert event.prev_hash == result.head[1] and event.pk == result.head[0] + 1
    assert audit_chain.verify().ok
    executor = MigrationExecutor(connection)
    assert not executor.migration_plan(executor.loader.graph.leaf_nodes()), "a migration was left unapplied"
