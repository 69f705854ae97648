"""The ledger: a hashed, append-only record of the rows that say who may read what and who
read it (people, cases, the contact each case holds, documents and their categories, consents,
exchanges, the read log).

Each write of such a row appends, in the row's own transaction, a record of its key and of
the SHA-256 of its canonical content, chained to the previous record of its chain. A change
of a row (a consent revoked, a contact replaced) is a new record for the same key. The audit
(``ledger_audit``) then finds a row changed, deleted or inserted behind the ledger's back,
and the signed checkpoints (``checkpoints``) a ledger rewritten before them.

There are ``CHAINS`` chains; a row's case, or its person, chooses one, so that a use case
appends to one chain only (opening a case records its person and itself on the person's).
A record takes the number after its chain's last committed one; two writers of one chain on
PostgreSQL meet on the primary key: the second waits for the first to commit, inserts
nothing (``ON CONFLICT DO NOTHING``) and takes the next number; after a second lost race
it queues behind the chain's advisory lock, so that many writers of one busy chain do not
all retry at each commit. Committed records are thus always numbered without gaps, in
commit order; writers of different chains never wait for each other, and an uncontended
append costs two statements, no lock. SQLite serialises every writer anyway.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Select, Table, select

from . import fastsql
from .tables import (
    case_t,
    checkpoint_t,
    consent_t,
    contact_t,
    document_t,
    exchange_t,
    ledger_t,
    person_t,
    read_t,
)

CHAINS = 64  # two busy cases share a chain seldom; a checkpoint signs 64 heads
TRIES = 100  # a chain's number taken this often in a row by others: something is wrong
LOCK_BASE = 0x52454C00  # PostgreSQL advisory lock keys: LOCK_BASE + chain

# What is recorded of each table (the key is ``id``). Fixed lists, not "every column": a
# column added later must not change the digest of rows recorded before it; covering a new
# column is a migration that records every row again. A case's record holds what never
# changes (its events and checkpoints guard the rest); a document's, everything but its bytes
# (the event that attached it names their SHA-256, which the audit checks).
COVERED: dict[str, tuple[Table, tuple[str, ...]]] = {
    "person": (person_t, ("id", "avs", "official_name", "first_name", "birth_date", "sex",
                          "nationality", "email", "phone", "address")),
    "case": (case_t, ("id", "person_id", "route_id", "opened_at")),
    "case_document": (document_t, ("id", "case_id", "seq", "key", "name", "kind",
                                   "institution", "category", "title", "media_type", "sha256",
                                   "created_at")),
    "consent": (consent_t, ("id", "person_id", "grantor", "recipients", "categories",
                            "purpose", "valid_from", "valid_until", "revoked_on",
                            "recorded_by", "recorded_at", "case_id",
                            "recorded_by_institution")),
    "case_contact": (contact_t, ("id", "case_id", "email", "phone", "address", "changed_at",
                                 "changed_by")),
    "data_exchange": (exchange_t, ("id", "case_id", "recipient", "category", "legal_basis",
                                   "at", "inform_person", "informed_on")),
    "case_read": (read_t, ("id", "case_id", "user", "institution", "at", "what")),
    "audit_checkpoint": (checkpoint_t, ("id", "at", "body", "signature")),
}


# -- hashing ----------------------------------------------------------------------------------

def canonical(value: Any) -> Any:
    """A value as it reads back from either database: datetimes in UTC, naive ones taken as
    UTC (SQLite's storage), dates in ISO form; JSON and plain values as they are."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def digest(values: Mapping[Any, Any], columns: Iterable[str]) -> str:
    text = json.dumps([canonical(values[c]) for c in columns], sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def chain_of(kind: str, values: Mapping[Any, Any]) -> int:
    """A row's chain: its case's, else its person's, else its key's. Always the same for one
    key, so that the key's records follow each other in one chain."""
    scope = values.get("case_id") if kind != "case" else None
    if scope is None:
        person = values["id"] if kind == "person" else values.get("person_id")
        scope = f"person:{person}" if person is not None else f"{kind}:{values['id']}"
    return zlib.crc32(str(scope).encode()) % CHAINS


def record_hash(chain: int, n: int, kind: str, ref: str, case_id: str | None, content: str,
                prev: str) -> str:
    line = f"{chain}|{n}|{kind}|{ref}|{case_id or ''}|{content}|{prev}"
    return hashlib.sha256(line.encode()).hexdigest()


# -- appending ------------------------------------------------------------------------------

def append(conn: Connection, kind: str, values: Mapping[Any, Any],
           columns: tuple[str, ...] | None = None, *, head_read: bool = False,
           head: dict[str, Any] | None = None) -> None:
    """Record ``values`` (a row of ``kind``'s table, with its ``id``: the values just
    written) in the caller's transaction; call it after the row's own write. Where the
    caller does not hold the whole row (an update), ``record`` reads it back. With
    ``head_read``, ``head`` is the chain's last record as the caller read it (None: none)."""
    ref = str(values["id"])
    case_id = values["id"] if kind == "case" else values.get("case_id")
    content = digest(values, columns or COVERED[kind][1])
    chain = chain_of(kind, values)
    sql = fastsql.statements(conn.dialect.name)
    for attempt in range(TRIES):
        if attempt == 2 and conn.dialect.name == "postgresql":
            fastsql.run(conn, "SELECT pg_advisory_xact_lock(%(k)s)", {"k": LOCK_BASE + chain})
        if attempt > 0 or not head_read:
            head = fastsql.fetch_one(conn, sql.ledger_head(), {"chain": chain})
        n, prev = (head["n"] + 1, head["hash"]) if head else (1, "")
        row = {"chain": chain, "n": n, "kind": kind, "ref": ref, "case_id": case_id,
               "digest": content, "prev_hash": prev,
               "hash": record_hash(chain, n, kind, ref, case_id, content, prev)}
        if fastsql.run(conn, sql.ledger_insert(), row).fetchall():  # all: the statement ends
            return
    raise RuntimeError(f"ledger chain {chain}: no free number after {TRIES} tries")


def append_all(conn: Connection, kind: str, rows: list[Mapping[Any, Any]]) -> None:
    """Record several rows of ``kind`` (``append`` for each). On SQLite, rows of one chain
    (a case's documents) cost one read of its head and one INSERT of all their records: the
    writer holds the database's write lock, so the head cannot move meanwhile. Elsewhere,
    or across chains, one ``append`` each, which knows how to lose a race."""
    chains = {chain_of(kind, values) for values in rows}
    if conn.dialect.name != "sqlite" or len(chains) != 1 or len(rows) < 2:
        for values in rows:
            append(conn, kind, values)
        return
    (chain,) = chains
    head = fastsql.fetch_one(conn, fastsql.statements("sqlite").ledger_head(), {"chain": chain})
    n, prev = (head["n"], head["hash"]) if head else (0, "")
    records = []
    for values in rows:
        ref = str(values["id"])
        case_id = values["id"] if kind == "case" else values.get("case_id")
        content = digest(values, COVERED[kind][1])
        n, hashed = n + 1, record_hash(chain, n + 1, kind, ref, case_id, content, prev)
        records.append({"chain": chain, "n": n, "kind": kind, "ref": ref, "case_id": case_id,
                        "digest": content, "prev_hash": prev, "hash": hashed})
        prev = hashed
    conn.execute(ledger_t.insert().values(records))


def record(conn: Connection, table: Table, **where: Any) -> None:
    """Record the rows of ``table`` that match ``where`` as they now stand (read back in the
    caller's transaction): the one call a write site adds after its write."""
    kind = table.name
    query = recorded(kind, COVERED[kind][1])
    for name, value in where.items():
        query = query.where(table.c[name] == value)
    for r in conn.execute(query.order_by(table.c.id)).mappings().all():
        append(conn, kind, r)


def recorded(kind: str, columns: tuple[str, ...]) -> Select[Any]:
    """What a record of ``kind`` is made of: its columns, and the case a row belongs to."""
    table = COVERED[kind][0]
    wanted = [table.c[c] for c in columns]
    if "case_id" in table.c and "case_id" not in columns:
        wanted.append(table.c.case_id)
    return select(*wanted)


def insert(conn: Connection, table: Table, row: dict[str, Any]) -> None:
    """The read log's path: insert ``row`` on the driver and record it, without reading it
    back (its key comes from ``RETURNING``). On PostgreSQL the chain's head comes back with
    the key, in the same statement: one round trip fewer on every read."""
    sql = fastsql.statements(conn.dialect.name)
    params = fastsql.to_db(conn, table, row)
    if conn.dialect.name != "postgresql":
        made = fastsql.run(conn, sql.insert(table, row) + " RETURNING id", params).fetchall()
        append(conn, table.name, {**row, "id": made[0][0]})
        return
    chain = chain_of(table.name, row)
    got = fastsql.fetch_one(conn, sql.insert_and_head(table, tuple(row)),
                            {**params, "ledger_chain": chain})
    assert got is not None
    head = {"n": got["head_n"], "hash": got["head_hash"]} if got["head_n"] else None
    append(conn, table.name, {**row, "id": got["id"]}, head_read=True, head=head)


def backfill(conn: Connection, covered: Mapping[str, tuple[str, ...]]) -> int:
    """Record every row already there (the migration that brings the ledger in), with the
    column lists of that migration. The chains' heads are kept here: one pass, no lookups."""
    heads = {r.chain: (r.n, r.hash) for r in conn.execute(
        select(ledger_t.c.chain, ledger_t.c.n, ledger_t.c.hash).order_by(ledger_t.c.n))}
    batch: list[dict[str, Any]] = []
    count = 0
    for kind, columns in covered.items():
        table = COVERED[kind][0]
        for values in conn.execute(recorded(kind, columns).order_by(table.c.id)).mappings().all():
            ref = str(values["id"])
            case_id = values["id"] if kind == "case" else values.get("case_id")
            chain = chain_of(kind, values)
            n, prev = heads.get(chain, (0, ""))
            content = digest(values, columns)
            hashed = record_hash(chain, n + 1, kind, ref, case_id, content, prev)
            batch.append({"chain": chain, "n": n + 1, "kind": kind, "ref": ref,
                          "case_id": case_id, "digest": content, "prev_hash": prev,
                          "hash": hashed})
            heads[chain] = (n + 1, hashed)
            if len(batch) >= 1000:
                count += len(batch)
                conn.execute(ledger_t.insert(), batch)
                batch = []
    if batch:
        count += len(batch)
        conn.execute(ledger_t.insert(), batch)
    return count
