"""Reading and writing cases in one transaction per event, with optimistic concurrency.

Writes use SQLAlchemy Core on the connection of the unit of work: the event rows, the case
row (``WHERE version = expected``), its deadline and handoff rows, and the outbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from cases.domain.case import CaseState
from cases.domain.errors import StaleVersion
from cases.domain.events import Event

from . import fastsql
from .codec import case_from, case_values, event_from, event_values
from .tables import CaseEventRow, CaseRow, DeadlineRow, HandoffRow, OutboxRow, PersonRow

case_t = CaseRow.__table__  # type: ignore[attr-defined]
event_t = CaseEventRow.__table__  # type: ignore[attr-defined]
deadline_t = DeadlineRow.__table__  # type: ignore[attr-defined]
handoff_t = HandoffRow.__table__  # type: ignore[attr-defined]
outbox_t = OutboxRow.__table__  # type: ignore[attr-defined]
person_t = PersonRow.__table__  # type: ignore[attr-defined]

# The rarer statements, built once so SQLAlchemy reuses their compiled form; the hot path
# (every transition) goes straight to the driver through ``fastsql``.
_INSERT_CASE = insert(case_t)
_INSERT_DEADLINE = insert(deadline_t)
_UPDATE_DEADLINE = update(deadline_t).where(deadline_t.c.case_id == bindparam("b_case"),
                                            deadline_t.c.kind == bindparam("b_kind"))
_INSERT_HANDOFF = insert(handoff_t)
_UPDATE_HANDOFF = update(handoff_t).where(handoff_t.c.id == bindparam("b_id"))


class CaseRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, case_id: str) -> CaseState | None:
        sql = fastsql.statements(self.conn.dialect.name).select(case_t, ["id"])
        row = fastsql.fetch_one(self.conn, sql, {"id": case_id})
        return case_from(_Row(fastsql.from_db(case_t, row))) if row else None

    def case_of_handoff(self, handoff_id: str) -> str | None:
        return self.conn.execute(select(handoff_t.c.case_id)
                                 .where(handoff_t.c.id == handoff_id)).scalar()

    def history(self, case_id: str) -> list[Event]:
        rows = self.conn.execute(select(event_t).where(event_t.c.case_id == case_id)
                                 .order_by(event_t.c.seq))
        return [event_from(r) for r in rows]

    def save(self, before: CaseState | None, after: CaseState, events: list[Event]) -> None:
        """Write ``events`` and what they made of the case; StaleVersion if someone was first."""
        values = case_values(after)
        sql = fastsql.statements(self.conn.dialect.name)
        if before is None:
            self.conn.execute(_INSERT_CASE, values)
        else:
            # never SET the key: with foreign keys on, SQLite would check every table that
            # points at cases (a scan of the outbox per event)
            done = fastsql.run(
                self.conn, sql.update(case_t, ["id", "version"], [k for k in values if k != "id"]),
                fastsql.to_db(self.conn, case_t, {**{k: v for k, v in values.items()
                                                     if k != "id"},
                                                  "w_id": after.id,
                                                  "w_version": before.version}))
            if done.rowcount != 1:
                raise StaleVersion("le cas a changé entre-temps ; recharger / the case changed "
                                   "meanwhile; reload", version=before.version)
        rows = [fastsql.to_db(self.conn, event_t, event_values(e)) for e in events]
        fastsql.run(self.conn, sql.insert(event_t, rows[0]), rows)
        self._deadlines(before, after)
        self._handoffs(before, after, events)
        outbox = [_outbox(e, action) for e in events for action in e.data.get("actions", ())]
        if outbox:
            rows = [fastsql.to_db(self.conn, outbox_t, o) for o in outbox]
            fastsql.run(self.conn, sql.insert(outbox_t, rows[0]), rows)

    def _deadlines(self, before: CaseState | None, after: CaseState) -> None:
        d = after.deadline
        status = "done" if not after.is_open else d.status
        state_row = {"due_at": d.due_at, "status": status, "level": d.level}
        if before is None:
            self.conn.execute(_INSERT_DEADLINE, {"case_id": after.id, "kind": "state",
                                                 **state_row})
        elif (before.deadline, before.is_open) != (d, after.is_open):
            fastsql.run(
                self.conn, fastsql.statements(self.conn.dialect.name).update(
                    deadline_t, ["case_id", "kind"], ["due_at", "status", "level"]),
                fastsql.to_db(self.conn, deadline_t, {"w_case_id": after.id, "w_kind": "state",
                                                      **state_row}))

    def _handoffs(self, before: CaseState | None, after: CaseState, events: list[Event]) -> None:
        old = before.handoff if before else None
        new = after.handoff
        if old == new:
            return
        if old is not None:
            status, reason = next((_STATUS_BY_KIND[e.kind], e.reason) for e in events
                                  if e.data.get("handoff_id") == old.id)
            self.conn.execute(_UPDATE_DEADLINE, {"b_case": after.id, "b_kind": "handoff",
                                                 "status": "done"})
            self.conn.execute(_UPDATE_HANDOFF, {"b_id": old.id, "status": status,
                                                "reason": reason})
        if new is not None:
            self.conn.execute(_INSERT_HANDOFF, {
                "id": new.id, "case_id": after.id, "sender": new.sender,
                "receiver": new.receiver, "event": new.event, "to_state": new.to_state,
                "proposed_at": new.proposed_at, "due_at": new.due_at, "status": "proposed",
                "reason": None, "outcome": new.outcome})
            values = {"due_at": new.due_at, "status": "open", "level": 0}
            found = self.conn.execute(_UPDATE_DEADLINE, {"b_case": after.id,
                                                         "b_kind": "handoff", **values})
            if found.rowcount == 0:
                self.conn.execute(_INSERT_DEADLINE, {"case_id": after.id, "kind": "handoff",
                                                     **values})

    def due(self, now: datetime, limit: int) -> list[str]:
        """Cases with a deadline due: the indexed query on (status, due_at)."""
        rows = self.conn.execute(
            select(deadline_t.c.case_id).where(deadline_t.c.status == "open",
                                               deadline_t.c.due_at <= now)
            .order_by(deadline_t.c.due_at).limit(limit))
        return list(dict.fromkeys(r[0] for r in rows))


class _Row:
    """Attribute access over a converted row, as the codec expects from SQLAlchemy rows."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


_STATUS_BY_KIND = {"handoff_accepted": "accepted", "handoff_refused": "refused",
                   "handoff_expired": "expired", "handoff_withdrawn": "withdrawn"}


def _outbox(e: Event, action: str) -> dict[str, Any]:
    return {"idempotency_key": f"{e.case_id}:{e.seq}:{action}", "case_id": e.case_id,
            "seq": e.seq, "action": action, "payload": {"kind": e.kind, "event": e.event},
            "status": "pending", "created_at": e.at, "attempts": 0}
