"""Copying the database out and in: the sqlite3 online backup API, and pg_dump / pg_restore."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess  # noqa: S404 - pg_dump and pg_restore, with argument lists
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from django.db import connection, connections, transaction

from engage.backup import BackupError
from engage.backup.manifest import EXCLUDED_TABLE_DATA, applied_migrations, audit_head, table_counts

SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"


def vendor() -> str:
    return connection.vendor


# --- SQLite ----------------------------------------------------------------------------------

def _sqlite_path() -> Path:
    return Path(connection.settings_dict["NAME"])


def sqlite_backup(target: Path) -> dict[str, Any]:
    """A consistent copy of the live database (the online backup API copies one snapshot, even
    while the web server and workers write), without the sessions; and what that copy holds."""
    source = sqlite3.connect(f"file:{_sqlite_path()}?mode=ro", uri=True, timeout=30)
    with closing(source), closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
        copy.execute("PRAGMA secure_delete = ON")  # the deleted rows' bytes are overwritten, not left
        for table in EXCLUDED_TABLE_DATA:
            copy.execute(f'DELETE FROM "{table}"')  # noqa: S608 - our own constant
        copy.commit()
        copy.execute("VACUUM")
        cursor = copy.cursor()
        return {"engine": "sqlite", "file": SQLITE_FILE, "sqlite_version": sqlite3.sqlite_version,
                "migrations": applied_migrations(cursor), "audit_head": audit_head(cursor),
                "tables": table_counts(cursor, "sqlite")}


def sqlite_is_empty() -> tuple[bool, list[str]]:
    path = _sqlite_path()
    if not path.exists() or path.stat().st_size == 0:
        return True, []
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                           "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return not tables, tables


def sqlite_samples(backup_file: Path, table: str, column: str, limit: int) -> list[str]:
    with closing(sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)) as db:
        rows = db.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" <> \'\' '  # noqa: S608
                          f'ORDER BY rowid LIMIT ?', [limit]).fetchall()
    return [r[0] for r in rows]


def sqlite_restore(backup_file: Path, expected_counts: dict[str, int]) -> None:
    """Copy the backup into a new file beside the configured one, check every table's row count,
    and only then move it into place: a failed restore leaves nothing half-loaded."""
    target = _sqlite_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(target.name + ".restoring")
    staging.unlink(missing_ok=True)
    with closing(sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)) as source, \
            closing(sqlite3.connect(staging)) as copy:
        source.backup(copy)
        counts = table_counts(copy.cursor(), "sqlite")
    if counts != expected_counts:
        staging.unlink(missing_ok=True)
        diff = _count_diff(counts, expected_counts)
        raise BackupError(f"The restored copy's row counts differ from the manifest's: {diff}. Nothing was changed.")
    connections.close_all()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(staging, target)


def _count_diff(got: dict[str, int], want: dict[str, int]) -> str:
    diffs = [f"{t}: {got.get(t)} instead of {want.get(t)}" for t in sorted(set(got) | set(want))
             if got.get(t) != want.get(t)]
    return "; ".join(diffs[:5])


# --- PostgreSQL ------------------------------------------------------------------------------

def _pg_env() -> dict[str, str]:
    """libpq's environment for the configured database: the password never on a command line."""
    db = connection.settings_dict
    env = {**os.environ, "PGDATABASE": str(db["NAME"]), "PGCONNECT_TIMEOUT": "10"}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    if (db.get("OPTIONS") or {}).get("sslmode"):
        env["PGSSLMODE"] = str(db["OPTIONS"]["sslmode"])
    return env


def _pg_tool(name: str) -> tuple[str, int]:
    """The tool's path (ENGAGE_PG_BIN, else PATH) and major version."""
    folder = os.environ.get("ENGAGE_PG_BIN", "")
    path = str(Path(folder) / name) if folder else shutil.which(name)
    if not path or not Path(path).exists():
        raise BackupError(f"{name} is not installed (install the PostgreSQL client tools, or set ENGAGE_PG_BIN "
                          f"to the folder that holds them).")
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout  # noqa: S603
    match = re.search(r"(\d+)(?:\.(\d+))?", out)
    if not match:
        raise BackupError(f"Cannot tell {name}'s version from {out.strip()!r}.")
    return path, int(match.group(1))


def _server_major() -> int:
    connection.ensure_connection()
    return int(connection.pg_version) // 10000


def pg_backup(target: Path) -> dict[str, Any]:
    """pg_dump in the snapshot of one REPEATABLE READ transaction, which also reads the schema
    version, the audit head and the row counts: all of them describe the same instant."""
    tool, major = _pg_tool("pg_dump")
    server = _server_major()
    if major < server:
        raise BackupError(f"pg_dump {major} cannot dump a PostgreSQL {server} server: install the client tools "
                          f"of version {server} or later (or point ENGAGE_PG_BIN at them).")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        cmd = [tool, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
               f"--file={target}", *[f"--exclude-table-data={t}" for t in EXCLUDED_TABLE_DATA]]
        done = subprocess.run(cmd, env=_pg_env(), capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()[-800:]}")
        counts = table_counts(cursor, "postgresql")
        for table in EXCLUDED_TABLE_DATA:
            if table in counts:
                counts[table] = 0
        return {"engine": "postgresql", "file": PG_FILE, "server_major": server, "pg_dump_major": major,
                "migrations": applied_migrations(cursor), "audit_head": audit_head(cursor), "tables": counts}


def pg_is_empty() -> tuple[bool, list[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%' "
            "AND n.nspname NOT LIKE 'pg_temp%%' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
            "ORDER BY 1 LIMIT 5")
        names = [r[0] for r in cursor.fetchall()]
    return not names, names


def _copy_rows(tool: str, dump: Path, table: str) -> Iterator[dict[str, str | None]]:
    """One table's rows from the dump, as pg_restore writes them (COPY text format)."""
    proc = subprocess.Popen([tool, "--data-only", f"--table={table}", "--file=-", str(dump)],  # noqa: S603
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if proc.stdout is None:
        raise BackupError("pg_restore gave no output.")
    try:
        columns: list[str] | None = None
        for line in proc.stdout:
            line = line.rstrip("\n")
            if columns is None:
                head = re.match(r"COPY \S+ \((.*)\) FROM stdin;$", line)
                if head:
                    columns = [c.strip().strip('"') for c in head.group(1).split(",")]
                continue
            if line == "\\.":
                break
            yield {c: (None if v == "\\N" else v) for c, v in zip(columns, line.split("\t"), strict=False)}
    finally:
        proc.kill()
        proc.wait()


def pg_samples(dump: Path, table: str, column: str, limit: int) -> list[str]:
    tool, _ = _pg_tool("pg_restore")
    values: list[str] = []
    for row in _copy_rows(tool, dump, table):
        if row.get(column):
            values.append(str(row[column]))
            if len(values) >= limit:
                break
    return values


def pg_restore(dump: Path, *, dump_major: int, expected_counts: dict[str, int]) -> None:
    """pg_restore in one transaction: it loads everything or nothing."""
    tool, major = _pg_tool("pg_restore")
    if major < dump_major:
        raise BackupError(f"This backup was made with pg_dump {dump_major}; pg_restore {major} cannot read it. "
                          f"Install the client tools of version {dump_major} or later. Nothing was changed.")
    connections.close_all()
    cmd = [tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
           f"--dbname={connection.settings_dict['NAME']}", str(dump)]
    done = subprocess.run(cmd, env=_pg_env(), capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed, and loaded nothing: {done.stderr.strip()[-800:]}")
    with connection.cursor() as cursor:
        counts = table_counts(cursor, "postgresql")
    if counts != expected_counts:
        raise BackupError(f"The restored database's row counts differ from the manifest's: "
                          f"{_count_diff(counts, expected_counts)}. Drop this database before trying again.")
