"""The audit trail's hash chain: tampering with a row, removing one or inserting one out of order shows.

Each row stores ``prev_hash`` (the ``chain_hash`` of the row before it in id order, or
:data:`GENESIS` for the first) and its own ``chain_hash``::

    chain_hash = sha256_hex(f"{prev_hash}:{id}:{content_digest}")
    content_digest = sha256_hex(canonical JSON of ["v1", at, actor_id, actor_label, verb,
                                                   target_type, target_id, team_id, summary, ip_address])

so a row's hash covers its content, its id and, through ``prev_hash``, every row before it. The
canonical form is frozen (version ``v1``): a new audit field needs a new version, never a change to
this one, or the existing chain stops verifying.

The chain head (the last row's id and hash) lives in a one-row table, ``AuditChainHead``. Every
writer advances it with one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` that takes the head
row's lock, allocates the next id (``last_id + 1``) and computes the new hash in the database, in the
same transaction as the audit row it precedes. The lock is held until that transaction ends, so
writers are serialised at the head and ids follow the chain order; on PostgreSQL, ``ON CONFLICT DO
UPDATE`` always applies to the latest committed head, even when another writer committed after the
statement began (READ COMMITTED). On SQLite the statement is a write, so it runs under the database's
write lock (the project's transactions are IMMEDIATE anyway). The same statement, with the delivery's
conditional update in front of it, is how ``accounts.onestatement`` writes an audit row in one
PostgreSQL statement.

:func:`verify` walks the chain; ``manage.py audit_verify`` is its command line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, models
from django.utils import timezone

GENESIS = "0" * 64
VERSION = "v1"
# The fields of a row that its hash covers, in canonical order (besides its id and the previous hash).
CONTENT_FIELDS = ("at", "actor_id", "actor_label", "verb", "target_type", "target_id", "team_id", "summary",
                  "ip_address")
_HEAD_ID = 1


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _json_value(value: Any) -> Any:
    """A JSON value as the database gives it back: integral floats as ints (PostgreSQL's jsonb keeps
    ``1e20`` as the number 100000000000000000000), keys as strings, tuples as lists."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return value


def _canonical_at(value: dt.datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)  # as Django stores a naive datetime (with a warning)
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _canonical_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return ipaddress.ip_address(str(value).split("/")[0]).compressed
    except ValueError:
        return str(value)


def canonical_content(values: Mapping[str, Any]) -> str:
    """The canonical text of a row's content (``values`` maps :data:`CONTENT_FIELDS` to the values of
    the row, as saved or as read back from either database: both give the same text)."""
    summary = values.get("summary")
    if isinstance(summary, str):  # a JSON column read raw
        summary = json.loads(summary)
    content = [
        VERSION,
        _canonical_at(values.get("at")),
        values.get("actor_id"),
        str(values.get("actor_label") or ""),
        str(values.get("verb") or ""),
        str(values.get("target_type") or ""),
        str(values.get("target_id") if values.get("target_id") is not None else ""),
        values.get("team_id"),
        _json_value(json.loads(json.dumps(summary if summary is not None else {}))),
        _canonical_ip(values.get("ip_address")),
    ]
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=True)


def content_digest(values: Mapping[str, Any]) -> str:
    return _sha256_hex(canonical_content(values))


def link_hash(prev_hash: str, row_id: int, digest: str) -> str:
    """The chain hash of row ``row_id`` with content digest ``digest`` after a row hashed ``prev_hash``."""
    return _sha256_hex(f"{prev_hash}:{row_id}:{digest}")


def event_values(event: models.Model) -> dict[str, Any]:
    """An unsaved audit row's content, as :func:`canonical_content` takes it."""
    values = {name: getattr(event, name) for name in CONTENT_FIELDS}
    encoder = event._meta.get_field("summary").encoder
    values["summary"] = json.loads(json.dumps(values["summary"] if values["summary"] is not None else {}, cls=encoder))
    return values


# --- advancing the head ---------------------------------------------------------------------------

def _hash_sql(vendor: str, prev: str, row_id: str) -> str:
    """SQL for :func:`link_hash` of the column expressions ``prev`` and ``row_id`` and a %s digest."""
    text = f"{prev} || ':' || CAST({row_id} AS TEXT) || ':' || %s"
    if vendor == "postgresql":
        return f"encode(sha256(convert_to({text}, 'UTF8')), 'hex')"
    return f"SHA256({text})"  # Django registers SHA256() on its SQLite connections (Python's hashlib)


def head_advance_sql(connection: Any, *, source: str = "") -> str:
    """The statement that moves the chain head on by one row and returns ``(id, prev_hash, chain_hash)``
    for it (as ``last_id, prev_hash, last_hash``). Two ``%s`` parameters, both the new row's
    :func:`content_digest`. ``source`` is an extra FROM item (a CTE's name) that must yield one row
    for the head to move: with none, nothing moves and nothing is returned."""
    from accounts.models import AuditChainHead, AuditEvent

    quote = connection.ops.quote_name
    head, events = quote(AuditChainHead._meta.db_table), quote(AuditEvent._meta.db_table)
    vendor = connection.vendor
    extra = f"{source}, " if source else ""
    # When the head row is missing (a fresh database, or after the test runner's flush), start it
    # from the last row of the trail, or from the genesis hash on an empty trail.
    bootstrap = (f"(SELECT COALESCE(MAX(e.id), 0) AS last_id, COALESCE((SELECT e2.chain_hash FROM {events} e2 "  # noqa: S608
                 f"ORDER BY e2.id DESC LIMIT 1), '{GENESIS}') AS last_hash FROM {events} e) b")
    # Only quoted names from the models' metadata and constants go into the text; the digest is a parameter.
    return (
        f"INSERT INTO {head} AS h (id, last_id, prev_hash, last_hash) "  # noqa: S608
        f"SELECT {_HEAD_ID}, b.last_id + 1, b.last_hash, {_hash_sql(vendor, 'b.last_hash', 'b.last_id + 1')} "
        f"FROM {extra}{bootstrap} WHERE true "
        f"ON CONFLICT (id) DO UPDATE SET last_id = h.last_id + 1, prev_hash = h.last_hash, "
        f"last_hash = {_hash_sql(vendor, 'h.last_hash', 'h.last_id + 1')} "
        f"RETURNING last_id, prev_hash, last_hash"
    )


def link(event: models.Model, using: str) -> None:
    """Give an unsaved audit row its place in the chain: its id, ``prev_hash`` and ``chain_hash``.
    The caller must be in a transaction on ``using`` and insert the row in it; the head stays locked
    until that transaction ends."""
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("An audit row is linked into the chain inside the transaction that inserts it.")
    digest = content_digest(event_values(event))
    with connection.cursor() as cursor:
        cursor.execute(head_advance_sql(connection), [digest, digest])
        row_id, prev_hash, chain_hash = cursor.fetchone()
    if chain_hash != link_hash(prev_hash, row_id, digest):  # the database's hash must be the verifier's
        raise RuntimeError("The database computed a different audit chain hash than Python.")
    event.pk, event.prev_hash, event.chain_hash = row_id, prev_hash, chain_hash


def chain_head(using: str = "default") -> tuple[int, str] | None:
    """``(id, chain_hash)`` of the last audit row, or None when the trail is empty."""
    from accounts.models import AuditEvent

    row = AuditEvent.objects.using(using).order_by("-id").values_list("id", "chain_hash").first()
    return (row[0], row[1]) if row else None


# --- verifying ------------------------------------------------------------------------------------

@dataclass
class Verification:
    """What :func:`verify` found. ``ok`` is False from the first bad row on; ``bad_id`` names it."""

    ok: bool = True
    rows: int = 0
    head: tuple[int, str] | None = None
    bad_id: int | None = None
    problems: list[str] = field(default_factory=list)

    def fail(self, row_id: int | None, text: str) -> None:
        if self.ok:
            self.ok, self.bad_id = False, row_id
        self.problems.append(text)

    @property
    def head_text(self) -> str:
        return f"{self.head[0]}:{self.head[1]}" if self.head else f"0:{GENESIS}"


def parse_head(text: str) -> tuple[int, str]:
    """``ID:HASH`` as published; ValueError with a readable message otherwise."""
    row_id, sep, chain_hash = text.strip().partition(":")
    chain_hash = chain_hash.lower()
    if not sep or not row_id.isdigit() or len(chain_hash) != 64 or any(c not in "0123456789abcdef" for c in chain_hash):
        raise ValueError(f"{text!r} is not a published head: expected ID:HASH (a row id and 64 hex digits).")
    return int(row_id), chain_hash


def _rows(using: str, chunk: int) -> Iterator[dict[str, Any]]:
    from accounts.models import AuditEvent

    columns = ("id", "prev_hash", "chain_hash", *CONTENT_FIELDS)
    yield from AuditEvent.objects.using(using).order_by("id").values(*columns).iterator(chunk_size=chunk)


def verify(*, using: str = "default", heads: Iterable[tuple[int, str]] = (), chunk: int = 2000) -> Verification:
    """Walk the chain from the genesis hash in id order. Every row must follow the one before it
    (``prev_hash``) and match its own content (``chain_hash``); each published head in ``heads``
    must still be in the chain with the same hash; the head record must name the last row."""
    from accounts.models import AuditChainHead

    result = Verification()
    wanted = dict(heads)
    prev_id, prev_hash = None, GENESIS
    for row in _rows(using, chunk):
        row_id = row["id"]
        result.rows += 1
        if row["prev_hash"] != prev_hash:
            where = f"after row {prev_id}" if prev_id is not None else "at the start of the trail"
            gap = f" (ids {prev_id + 1}..{row_id - 1} are missing)" if prev_id is not None and row_id > prev_id + 1 else ""
            result.fail(row_id, f"row {row_id}: does not follow the row before it: the chain is broken {where}{gap}; "
                                "a row was removed, inserted or reordered there, or the row before was rewritten")
        expected = link_hash(row["prev_hash"], row_id, content_digest(row))
        if row["chain_hash"] != expected:
            result.fail(row_id, f"row {row_id}: its content or id does not match its hash: the row was changed")
        if row_id in wanted and wanted.pop(row_id) != row["chain_hash"]:
            result.fail(row_id, f"row {row_id}: its hash differs from the published head: the trail up to it was "
                                "rewritten")
        prev_id, prev_hash = row_id, row["chain_hash"]
    result.head = (prev_id, prev_hash) if prev_id is not None else None
    for row_id in sorted(wanted):
        beyond = result.head is None or row_id > result.head[0]
        result.fail(row_id, f"published head {row_id}: no such row"
                            + (": the trail was truncated behind a published head" if beyond
                               else ": the row was removed"))
    recorded = AuditChainHead.objects.using(using).filter(pk=_HEAD_ID).values_list("last_id", "last_hash").first()
    if recorded is not None and result.head is not None and tuple(recorded) != result.head:
        result.fail(recorded[0], f"the chain head record names row {recorded[0]} but the last row is {result.head[0]}: "
                                 "rows at the end were removed or rewritten")
    elif recorded is not None and result.head is None and recorded[0] > 0:
        result.fail(recorded[0], f"the chain head record names row {recorded[0]} but the trail is empty: it was "
                                 "truncated")
    return result
