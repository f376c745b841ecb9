"""Bulk loading for the benchmarks: PostgreSQL COPY from rows generated in Python, in chunks.

Used by bench/inbox.py and bench/metrics.py to fill engage_reply with millions of rows. The rows
are produced by a generator of tab-separated lines (COPY's text format) and written a chunk at a
time, so memory stays bounded whatever the number of rows. While loading, the table's secondary
indexes are dropped and rebuilt afterwards (one sort per index instead of ten million insertions
into each) and foreign-key triggers are skipped (``session_replication_role = replica``; the
generators only use ids they created). Never point it at real data.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from datetime import datetime

CHUNK = 20_000


def ts(value: datetime | None) -> str:
    """A time in COPY's text format; ``\\N`` is NULL."""
    return "\\N" if value is None else value.isoformat()


def secondary_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of every index on ``table`` apart from its primary key."""
    cursor.execute(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.tablename = %s AND i.indexname NOT IN (
               SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p')
           ORDER BY i.indexname""",
        [table, table],
    )
    return list(cursor.fetchall())


def copy_lines(
    cursor, table: str, columns: Iterable[str], lines: Iterator[str], *, total: int, label: str = "rows"
) -> float:
    """COPY ``lines`` (each a tab-separated row ending in a newline) into ``table``; returns seconds.

    ``cursor`` is Django's cursor on a PostgreSQL (psycopg 3) connection.
    """
    from django.db import transaction

    with transaction.atomic():  # a failed load leaves the table (and its indexes) as it was
        return _copy_lines(cursor, table, columns, lines, total=total, label=label)


def _copy_lines(
    cursor, table: str, columns: Iterable[str], lines: Iterator[str], *, total: int, label: str
) -> float:
    raw = cursor.cursor  # the psycopg cursor under Django's wrapper
    started = time.perf_counter()
    indexes = secondary_indexes(cursor, table)
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    cursor.execute("SET session_replication_role = replica")  # no foreign-key triggers while loading
    written = 0
    last_report = started
    with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= CHUNK:
                copy.write("".join(chunk))
                written += len(chunk)
                chunk.clear()
                if time.perf_counter() - last_report > 30:
                    last_report = time.perf_counter()
                    print(f"  {written:,} / {total:,} {label} in {last_report - started:.0f} s", flush=True)
        if chunk:
            copy.write("".join(chunk))
            written += len(chunk)
    cursor.execute("SET session_replication_role = DEFAULT")
    copied = time.perf_counter()
    print(f"  COPY of {written:,} {label}: {copied - started:.0f} s", flush=True)
    cursor.execute("SET maintenance_work_mem = '512MB'")
    for _name, definition in indexes:
        cursor.execute(definition)
    print(f"  {len(indexes)} indexes rebuilt in {time.perf_counter() - copied:.0f} s", flush=True)
    return time.perf_counter() - started
