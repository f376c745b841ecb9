"""A conditional update and the rows that record it, in one PostgreSQL statement.

The send path records each outcome as three writes that must stand or fall together: the
conditional UPDATE of the delivery (which only one worker can win), its attempt row and its
audit row. In a transaction that is five round trips (BEGIN, three statements, COMMIT); on
PostgreSQL, data-modifying CTEs make it one statement, atomic on its own:

    WITH done AS (UPDATE ... WHERE <guard> RETURNING id),
         ins0 AS (INSERT INTO ... SELECT <values> FROM done),
         ins1 AS (INSERT INTO ... SELECT <values> FROM done)
    SELECT count(*) FROM done

The rows are inserted once per updated row, so only when the guard matched. The UPDATE is the
one Django compiles for ``queryset.update(**values)``; the inserted values are those Django
would save for the unsaved instances given (each field's ``pre_save`` and database preparation,
cast to its column type). ``post_save`` is sent for each inserted instance, as ``save()``
would, after the statement (listeners such as the public page cache see the audit rows);
``pre_save`` is not, and a model's own ``save()`` is not called.

An audit row is a link of the audit hash chain (``accounts.audit_chain``): one more CTE moves the
chain head on, only when the guard matched, and the audit row takes its id and hashes from it. At
most one audit row goes in the statement; more go in a transaction, as below.

Other databases (SQLite, the embedded default) get the same writes in a transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, models, transaction
from django.db.models.signals import post_save
from django.db.models.sql import UpdateQuery


def update_and_insert(queryset: models.QuerySet, values: dict, rows: Sequence[models.Model]) -> int:
    """``queryset.update(**values)``, and save ``rows`` if and only if it updated a row. The queryset
    must match at most one row (filter it by primary key); each of ``rows`` must have an automatic
    primary key. Returns the number of rows updated, 0 or 1."""
    from accounts.models import AuditEvent

    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or sum(isinstance(obj, AuditEvent) for obj in rows) > 1:
        with transaction.atomic(using=queryset.db):
            n = queryset.update(**values)
            if n == 1:
                for obj in rows:  # as save() would, but announced only once all of it is written
                    type(obj)._base_manager.using(queryset.db).bulk_create([obj])
    else:
        n = _in_one_statement(connection, queryset, values, rows)
    if n == 1:
        for obj in rows:
            post_save.send(sender=type(obj), instance=obj, created=True, update_fields=None, raw=False,
                           using=queryset.db)
    return n


def _cast_type(field: models.Field, connection) -> str:
    """The column's type for the CAST, without a varchar length: CAST to varchar(n) would cut a
    long value silently, where an INSERT refuses it (as save() would see)."""
    db_type = field.db_type(connection)
    return "varchar" if db_type.startswith("varchar(") else db_type


def _in_one_statement(connection, queryset: models.QuerySet, values: dict, rows: Sequence[models.Model]) -> int:
    from accounts import audit_chain
    from accounts.models import AuditEvent

    quote = connection.ops.quote_name
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    update_sql, params = query.get_compiler(queryset.db).as_sql()
    params = list(params)
    sql = [f"WITH done AS ({update_sql} RETURNING {quote(queryset.model._meta.pk.column)})"]
    for i, obj in enumerate(rows):
        fields = [f for f in obj._meta.concrete_fields if not f.primary_key]
        source, given = "done", ""
        if isinstance(obj, AuditEvent):
            # The chain head moves on (in the database, under its row lock) only if the guard matched;
            # the audit row takes its id and hashes from it.
            digest = audit_chain.content_digest(audit_chain.event_values(obj))
            sql.append(f", head AS ({audit_chain.head_advance_sql(connection, source='done')})")
            params.extend([digest, digest])
            fields = [f for f in fields if f.attname not in ("prev_hash", "chain_hash")]
            source, given = "head", "head.last_id, head.prev_hash, head.last_hash, "
            columns = ", ".join(quote(c) for c in (obj._meta.pk.column, "prev_hash", "chain_hash"))
            columns += ", " + ", ".join(quote(f.column) for f in fields)
        else:
            columns = ", ".join(quote(f.column) for f in fields)
        selected = given + ", ".join(f"CAST(%s AS {_cast_type(f, connection)})" for f in fields)
        # Only quoted names from the models' metadata go into the text; every value is a parameter.
        sql.append(f", ins{i} AS (INSERT INTO {quote(obj._meta.db_table)} ({columns}) "  # noqa: S608
                   f"SELECT {selected} FROM {source} RETURNING {quote(obj._meta.pk.column)})")
        params.extend(f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields)
    sql.append(" SELECT (SELECT count(*) FROM done)")
    sql.extend(f", (SELECT {quote(obj._meta.pk.column)} FROM ins{i})"  # noqa: S608 - names only, quoted
               for i, obj in enumerate(rows))
    if any(isinstance(obj, AuditEvent) for obj in rows):
        sql.append(", (SELECT prev_hash FROM head), (SELECT last_hash FROM head)")
    with connection.cursor() as cursor:
        cursor.execute("".join(sql), params)
        n, *ids = cursor.fetchone()
    if n == 1:
        chained = ids[len(rows):]
        for obj, pk in zip(rows, ids[:len(rows)], strict=True):
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = queryset.db
            if isinstance(obj, AuditEvent):
                obj.prev_hash, obj.chain_hash = chained
    return n
