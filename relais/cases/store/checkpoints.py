"""Signed checkpoints of every chain head: what a key kept outside the database vouches for.

The case histories and the ledger are chained with plain SHA-256: whoever can write the
database can recompute them. A checkpoint, taken hourly by the orchestration or by
``relais audit checkpoint``, signs with HMAC-SHA256 the head of each ledger chain and a
digest of every case's (id, version, last hash), and keeps those per-case heads beside it.
Later, a case deleted or rewound, a history rewritten, or a ledger rewritten before the
checkpoint no longer matches what was signed, and the audit says since which checkpoint.
Checkpoints follow each other (each signs its predecessor's signature) and each is itself
recorded in the ledger, so that deleting one shows too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, null, select, tuple_, update

from relais.cases.store.tables import case_t, checkpoint_t, event_t, ledger_t

from . import WRITE, fastsql, ledger
from .audit_words import Finding, local
from .codec import aware

KEEP_HEADS = 24  # per-case heads kept on the newest checkpoints; the older keep their digest
LOCK = 0x52454C43  # "RELC": PostgreSQL advisory lock key, one checkpoint at a time
BATCH = 500


@dataclass(frozen=True)
class Checkpoint:
    id: int
    body: dict[str, Any]
    signature: str
    heads: dict[str, list[Any]] | None

    @property
    def at(self) -> str:
        return local(datetime.fromisoformat(self.body["at"]))

    @property
    def number(self) -> int:
        return int(self.body["number"])


def sign(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def heads_digest(heads: Mapping[str, Sequence[Any]]) -> str:
    h = hashlib.sha256()
    for case_id in sorted(heads):
        version, last = heads[case_id]
        h.update(f"{case_id}|{version}|{last}\n".encode())
    return h.hexdigest()


def load(conn: Connection, key: bytes) -> tuple[list[Checkpoint], list[Finding]]:
    """The checkpoints whose signature holds, in order; a finding for each that does not,
    and for each that does not follow the valid one before it."""
    valid: list[Checkpoint] = []
    found: list[Finding] = []
    for r in conn.execute(select(checkpoint_t).order_by(checkpoint_t.c.id)):
        try:
            body = json.loads(r.body)
            cp = Checkpoint(r.id, body, r.signature, r.heads)
            cp_at = cp.at
        except (ValueError, TypeError, KeyError):
            cp, cp_at = None, local(aware(r.at))
        if cp is None or not hmac.compare_digest(sign(key, r.body), r.signature):
            found.append(Finding("cp_signature", {"id": r.id, "at": cp_at}))
            continue
        before = valid[-1] if valid else None
        if (cp.body.get("prev"), cp.number) != ((before.signature, before.number + 1)
                                                if before else ("", 1)):
            found.append(Finding("cp_sequence", {"id": r.id, "at": cp_at}))
        valid.append(cp)
    return valid, found


def positions(conn: Connection, checkpoints: Sequence[Checkpoint]) -> list[Finding]:
    """Each ledger chain still holds, where each checkpoint signed its head, that record;
    one finding a chain, at the oldest checkpoint it no longer matches."""
    signed = {(int(chain), n, h, cp.at) for cp in checkpoints
              for chain, (n, h) in cp.body["ledger"].items()}
    wanted = sorted({(c, n) for c, n, _, _ in signed})
    stored: dict[tuple[int, int], str] = {}
    for start in range(0, len(wanted), BATCH):
        stored.update({(r.chain, r.n): r.hash for r in conn.execute(
            select(ledger_t.c.chain, ledger_t.c.n, ledger_t.c.hash).where(
                tuple_(ledger_t.c.chain, ledger_t.c.n).in_(wanted[start:start + BATCH])))})
    broken: dict[int, Finding] = {}
    for cp in checkpoints:  # oldest first
        for chain, (n, h) in sorted(cp.body["ledger"].items(), key=lambda kv: int(kv[0])):
            c = int(chain)
            if c not in broken and stored.get((c, n)) != h:
                broken[c] = Finding("cp_ledger", {"chain": c, "n": n, "at": cp.at})
    return [broken[c] for c in sorted(broken)]


def since(conn: Connection, cp: Checkpoint) -> list[Finding]:
    """Every case the checkpoint lists still exists, at its version or later, with the
    event of that version still the one signed."""
    heads = cp.heads
    if not heads or len(heads) != cp.body["cases"] or heads_digest(heads) != cp.body["digest"]:
        return [Finding("cp_heads", {"id": cp.id, "at": cp.at})] if cp.body["cases"] else []
    current = {r.id: (r.version, r.last_hash) for r in conn.execute(
        select(case_t.c.id, case_t.c.version, case_t.c.last_hash))}
    found: list[Finding] = []
    later: dict[tuple[str, int], str] = {}
    for case_id, (version, last) in sorted(heads.items()):
        now = current.get(case_id)
        if now is None:
            found.append(Finding("cp_case_deleted", {"case": case_id, "at": cp.at}))
        elif now[0] < version:
            found.append(Finding("cp_case_rewound", {"case": case_id, "version": now[0],
                                                     "signed": version, "at": cp.at}))
        elif now[0] == version and now[1] != last:
            found.append(Finding("cp_case_rewritten", {"case": case_id, "seq": version,
                                                       "at": cp.at}))
        elif now[0] > version:
            later[(case_id, version)] = last
    keys = sorted(later)
    stored: dict[tuple[str, int], str] = {}
    for start in range(0, len(keys), BATCH):
        stored.update({(r.case_id, r.seq): r.hash for r in conn.execute(
            select(event_t.c.case_id, event_t.c.seq, event_t.c.hash).where(
                tuple_(event_t.c.case_id, event_t.c.seq).in_(keys[start:start + BATCH])))})
    found += [Finding("cp_case_rewritten", {"case": case_id, "seq": seq, "at": cp.at})
              for (case_id, seq), last in sorted(later.items())
              if stored.get((case_id, seq)) != last]
    return found


def take(engine: Engine, key: bytes, now: datetime) -> tuple[Checkpoint | None, list[Finding]]:
    """Sign every head as it now stands, unless what the newest checkpoint signed no longer
    holds: a checkpoint must not vouch for a tampered database (the findings say why)."""
    with engine.connect() as conn, conn.execution_options(**WRITE).begin():
        if conn.dialect.name == "postgresql":
            fastsql.run(conn, "SELECT pg_advisory_xact_lock(%(k)s)", {"k": LOCK})
        valid, found = load(conn, key)
        newest = valid[-1] if valid else None
        last = conn.execute(select(func.max(checkpoint_t.c.id))).scalar()
        if last is not None and (newest is None or newest.id != last):
            # forged, or signed with another key (a machine without RELAIS_AUDIT_KEY): going
            # on would fork the checkpoints; someone must look first
            return None, [f for f in found if f.params.get("id") == last]
        if newest is not None:
            problems = positions(conn, [newest]) + since(conn, newest)
            if problems:
                return None, problems
        heads = {r.id: [r.version, r.last_hash] for r in conn.execute(
            select(case_t.c.id, case_t.c.version, case_t.c.last_hash))}
        last = select(ledger_t.c.chain, func.max(ledger_t.c.n)).group_by(ledger_t.c.chain)
        chains = {str(r.chain): [r.n, r.hash] for r in conn.execute(
            select(ledger_t.c.chain, ledger_t.c.n, ledger_t.c.hash)
            .where(tuple_(ledger_t.c.chain, ledger_t.c.n).in_(last)))}
        body = json.dumps({"number": newest.number + 1 if newest else 1, "at": now.isoformat(),
                           "prev": newest.signature if newest else "", "ledger": chains,
                           "cases": len(heads), "digest": heads_digest(heads)},
                          sort_keys=True, separators=(",", ":"))
        signature = sign(key, body)
        made = int(conn.execute(insert(checkpoint_t).values(
            at=now, body=body, signature=signature, heads=heads))
            .inserted_primary_key[0])  # type: ignore[index]
        conn.execute(update(checkpoint_t).where(checkpoint_t.c.id <= made - KEEP_HEADS,
                                                checkpoint_t.c.heads.is_not(None))
                     .values(heads=null()))
        ledger.record(conn, checkpoint_t, id=made)
    return Checkpoint(made, json.loads(body), signature, heads), []
