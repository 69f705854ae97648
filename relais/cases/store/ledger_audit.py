"""Checking the ledger: its chains recompute, and the rows are what it recorded.

Every current row's content hash equals its key's latest record (a change behind the ledger's
back shows); every key in the ledger still has its row (a deletion shows); every row has a
record (an insertion behind its back shows).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from relais.cases.store.tables import ledger_t

from .audit_words import Finding, row_name
from .ledger import COVERED, digest, record_hash, recorded

STREAM = {"stream_results": True, "yield_per": 5000}


@dataclass(frozen=True)
class Latest:
    digest: str
    chain: int
    n: int
    case_id: str | None


def check(conn: Connection) -> list[Finding]:
    found, latest = _chains(conn)
    for kind, (_, columns) in COVERED.items():
        mine = latest.get(kind, {})
        rows = conn.execute(recorded(kind, columns).execution_options(**STREAM))
        for values in rows.mappings():
            ref = str(values["id"])
            case_id = values["id"] if kind == "case" else values.get("case_id")
            last = mine.pop(ref, None)
            if last is None:
                found.append(Finding("row_unrecorded", {"what": row_name(kind, ref, case_id)}))
            elif last.digest != digest(values, columns):
                found.append(Finding("row_changed", {"what": row_name(kind, ref, case_id),
                                                     "chain": last.chain, "n": last.n}))
        for ref, last in mine.items():
            found.append(Finding("row_deleted", {"what": row_name(kind, ref, last.case_id),
                                                 "chain": last.chain, "n": last.n}))
    return found


def _chains(conn: Connection) -> tuple[list[Finding], dict[str, dict[str, Latest]]]:
    """Walk every chain in order; keep each key's latest record."""
    found: list[Finding] = []
    latest: dict[str, dict[str, Latest]] = {}
    chain, n, prev = -1, 0, ""
    rows = conn.execute(select(ledger_t).order_by(ledger_t.c.chain, ledger_t.c.n)
                        .execution_options(**STREAM))
    for r in rows:
        if r.chain != chain:
            chain, n, prev = r.chain, 0, ""
        if r.n != n + 1:
            found.append(Finding("ledger_gap", {"chain": chain, "n": r.n, "expected": n + 1}))
        elif r.prev_hash != prev:
            found.append(Finding("ledger_link", {"chain": chain, "n": r.n}))
        if record_hash(r.chain, r.n, r.kind, r.ref, r.case_id, r.digest, r.prev_hash) != r.hash:
            found.append(Finding("ledger_hash", {"chain": chain, "n": r.n}))
        n, prev = r.n, r.hash
        latest.setdefault(r.kind, {})[r.ref] = Latest(r.digest, r.chain, r.n, r.case_id)
    return found, latest
