"""``relais audit verify``: the history is intact and gives every case row back.

For each case: the hash chain holds (numbering, links, content), replaying the events gives
the case row exactly, the deadline and handoff rows agree with the case, and every stored
document is the one its event names (same name, same SHA-256 of its content). Then the
ledger (``ledger_audit``: people, documents, consents, exchanges, the read log), and, with
the audit key, the signed checkpoints (``checkpoints``): their signatures and order, the
ledger records they signed, and every case the newest of them lists.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select

from relais.cases.domain.events import replay
from relais.cases.domain.history import chain_faults
from relais.cases.store.tables import (
    case_t,
    checkpoint_t,
    deadline_t,
    document_t,
    event_t,
    handoff_t,
)

from . import checkpoints, ledger_audit
from .audit_words import Finding
from .codec import case_from, event_from


@dataclass
class AuditReport:
    cases: int = 0
    events: int = 0
    findings: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)  # said, but not a problem
    unchecked: int = 0  # checkpoints there, no key given to check them

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def problems(self) -> list[str]:
        return [f.message("en") for f in self.findings]


def verify(engine: Engine, batch: int = 500, *, key: bytes | None = None) -> AuditReport:
    """The whole audit; ``key`` checks the checkpoints (without it they are counted as
    ``unchecked``, which ``relais audit verify`` calls a problem)."""
    report = AuditReport()
    _cases(engine, batch, report)
    with engine.connect() as conn:
        report.findings += ledger_audit.check(conn)
        count = conn.execute(select(func.count()).select_from(checkpoint_t)).scalar_one()
        if not count and key is not None and report.cases:
            # a key exists (the first checkpoint made it, or it was given): with cases and
            # no checkpoint, they were deleted, or none was ever taken; either way, say so
            report.findings.append(Finding("cp_none", {"cases": report.cases}))
        elif not count:
            report.notes.append(Finding("no_checkpoint"))
        elif key is None:
            report.unchecked = count
            report.notes.append(Finding("no_key", {"count": count}))
        else:
            valid, found = checkpoints.load(conn, key)
            report.findings += found + checkpoints.positions(conn, valid)
            if valid:
                report.findings += checkpoints.since(conn, valid[-1])
                report.notes.append(Finding("since", {"id": valid[-1].id,
                                                      "at": valid[-1].at}))
    return report


def _cases(engine: Engine, batch: int, report: AuditReport) -> None:
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(select(case_t.c.id).order_by(case_t.c.id))]
        for start in range(0, len(ids), batch):
            chunk = ids[start:start + batch]
            rows = {r.id: r for r in conn.execute(select(case_t).where(case_t.c.id.in_(chunk)))}
            events: dict[str, list] = {cid: [] for cid in chunk}  # type: ignore[type-arg]
            for r in conn.execute(select(event_t).where(event_t.c.case_id.in_(chunk))
                                  .order_by(event_t.c.case_id, event_t.c.seq)):
                events[r.case_id].append(event_from(r))
            deadlines = {(r.case_id, r.kind): r for r in conn.execute(
                select(deadline_t).where(deadline_t.c.case_id.in_(chunk)))}
            pending = {r.case_id: r for r in conn.execute(
                select(handoff_t).where(handoff_t.c.case_id.in_(chunk),
                                        handoff_t.c.status == "proposed"))}
            documents: dict[str, list] = {cid: [] for cid in chunk}  # type: ignore[type-arg]
            for r in conn.execute(select(document_t.c.case_id, document_t.c.seq,
                                         document_t.c.name, document_t.c.content)
                                  .where(document_t.c.case_id.in_(chunk))):
                documents[r.case_id].append(r)
            for cid in chunk:
                report.cases += 1
                report.events += len(events[cid])
                report.findings += (_check(rows[cid], events[cid], deadlines, pending)
                                    + _documents(cid, events[cid], documents[cid]))


def _documents(case_id, events, stored) -> list[Finding]:  # type: ignore[no-untyped-def]
    """Each stored document is named, with its digest, by the event that attached it."""
    named = {(e.seq, ref["name"]): ref["sha256"] for e in events
             for ref in e.data.get("documents", [e.data["document"]] if "document" in e.data
                                   else [])}
    problems = []
    for d in stored:
        digest = named.get((d.seq, d.name))
        if digest is None:
            problems.append(Finding("doc_unnamed", {"case": case_id, "name": d.name}))
        elif hashlib.sha256(bytes(d.content)).hexdigest() != digest:
            problems.append(Finding("doc_differs", {"case": case_id, "name": d.name}))
    return problems


def _check(row, events, deadlines, pending) -> list[Finding]:  # type: ignore[no-untyped-def]
    case = {"case": row.id}
    problems = [Finding(code, {**case, "seq": seq, "expected": expected})
                for seq, code, expected in chain_faults(events)]
    stored = case_from(row)
    replayed = replay(events)
    if replayed != stored:
        diff = [k for k in stored.__dataclass_fields__
                if getattr(stored, k) != getattr(replayed, k, None)]
        problems.append(Finding("replay", {**case, "fields": ", ".join(diff)}))
    d = deadlines.get((row.id, "state"))
    expected_status = "done" if stored.closed_at else stored.deadline.status
    if d is None or d.status != expected_status or d.level != stored.deadline.level:
        problems.append(Finding("deadline_row", case))
    h = pending.get(row.id)
    if (h.id if h else None) != (stored.handoff.id if stored.handoff else None):
        problems.append(Finding("handoff_row", case))
    return problems
