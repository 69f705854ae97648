"""Reading and writing cases in one transaction per event, with optimistic concurrency.

Every write of an event goes through ``fastsql`` (the driver's cursor): the event rows, the
case row (``WHERE version = expected``), its deadline and handoff rows, and the outbox.
Reads that are not on that path (history, due deadlines) use SQLAlchemy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, select, tuple_

from cases.domain.case import CaseState
from cases.domain.errors import StaleVersion
from cases.domain.events import Event

from . import fastsql, ledger
from .codec import case_from, case_values, event_from, event_values
from .derived import StayClock, enters_state
from .tables import CaseEventRow, CaseRow, DeadlineRow, HandoffRow, OutboxRow, PersonRow

DueKey = tuple[datetime, str]  # (due_at, case_id): where a page of due deadlines ends

case_t = CaseRow.__table__  # type: ignore[attr-defined]
event_t = CaseEventRow.__table__  # type: ignore[attr-defined]
deadline_t = DeadlineRow.__table__  # type: ignore[attr-defined]
handoff_t = HandoffRow.__table__  # type: ignore[attr-defined]
outbox_t = OutboxRow.__table__  # type: ignore[attr-defined]
person_t = PersonRow.__table__  # type: ignore[attr-defined]

_STATUS_BY_KIND = {"handoff_accepted": "accepted", "handoff_refused": "refused",
                   "handoff_expired": "expired", "handoff_withdrawn": "withdrawn"}


class CaseRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sql = fastsql.statements(conn.dialect.name)

    # -- the driver-level writes -------------------------------------------------------------

    def _insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if rows:
            fastsql.run(self.conn, self.sql.insert(table, rows[0]),
                        [fastsql.to_db(self.conn, table, r) for r in rows])

    def _update(self, table: Table, where: dict[str, Any], values: dict[str, Any]) -> int:
        params = {**values, **{f"w_{k}": v for k, v in where.items()}}
        cursor = fastsql.run(self.conn, self.sql.update(table, where, values),
                             fastsql.to_db(self.conn, table, params))
        return int(cursor.rowcount)

    # -- reading ----------------------------------------------------------------------------

    def get(self, case_id: str) -> CaseState | None:
        row = fastsql.fetch_one(self.conn, self.sql.select(case_t, ["id"]), {"id": case_id})
        return case_from(_Row(fastsql.from_db(case_t, row))) if row else None

    def case_of_handoff(self, handoff_id: str) -> str | None:
        return self.conn.execute(select(handoff_t.c.case_id)
                                 .where(handoff_t.c.id == handoff_id)).scalar()

    def history(self, case_id: str) -> list[Event]:
        rows = self.conn.execute(select(event_t).where(event_t.c.case_id == case_id)
                                 .order_by(event_t.c.seq))
        return [event_from(r) for r in rows]

    def due(self, now: datetime, limit: int, after: DueKey | None = None
            ) -> tuple[list[CaseState], DueKey | None]:
        """Cases with a deadline due, read in the same query (the sweep then reads no case
        on its own), ``limit`` deadlines after ``after`` in (due_at, case_id) order, and the
        key to read the next page from (None: nothing more is due)."""
        query = (select(case_t, deadline_t.c.due_at.label("deadline_due_at"))
                 .join(deadline_t, deadline_t.c.case_id == case_t.c.id)
                 .where(deadline_t.c.status == "open", deadline_t.c.due_at <= now))
        if after is not None:
            query = query.where(tuple_(deadline_t.c.due_at, deadline_t.c.case_id) > after)
        rows = self.conn.execute(query.order_by(deadline_t.c.due_at, deadline_t.c.case_id)
                                 .limit(limit)).all()
        cases: dict[str, CaseState] = {}
        for r in rows:  # a case with two deadlines due comes twice
            if r.id not in cases:
                cases[r.id] = case_from(r)
        last = (rows[-1].deadline_due_at, rows[-1].id) if len(rows) == limit else None
        return list(cases.values()), last

    # -- writing ----------------------------------------------------------------------------

    def save(self, before: CaseState | None, after: CaseState, events: list[Event]) -> None:
        """Write ``events`` and what they made of the case; StaleVersion if someone was first."""
        values = case_values(after)
        if before is None:
            self._insert(case_t, [values])
            ledger.append(self.conn, "case", values)
        else:
            # never SET the key: with foreign keys on, SQLite would then check every table
            # that points at cases (a scan of the outbox per event)
            del values["id"]
            if self._update(case_t, {"id": after.id, "version": before.version}, values) != 1:
                raise StaleVersion("le cas a changé entre-temps ; recharger / the case changed "
                                   "meanwhile; reload", version=before.version)
        clock = StayClock(self._entered(before, events))
        self._insert(event_t, [{**event_values(e), **clock.columns(
            e.kind, e.from_state, e.to_state, e.at, e.data)} for e in events])
        self._deadline(before, after)
        self._handoff(before, after, events)
        self._insert(outbox_t, [_outbox(e, action) for e in events
                                for action in e.data.get("actions", ())])

    def _entered(self, before: CaseState | None, events: list[Event]) -> Any:
        """When the case entered the state it is in, if ``events`` end that stay: the case's
        last move into a state, through ``ix_case_event_moves`` (one probe, only for a batch
        whose first move is not the opening)."""
        first = next((e for e in events if enters_state(e.kind, e.from_state, e.to_state)),
                     None)
        if before is None or first is None:
            return None
        row = fastsql.fetch_one(self.conn, self.sql.last_entry(), {"case_id": before.id})
        return fastsql.from_db(event_t, row)["at"] if row else None

    def _deadline(self, before: CaseState | None, after: CaseState) -> None:
        d = after.deadline
        row = {"due_at": d.due_at, "status": d.status if after.is_open else "done",
               "level": d.level}
        if before is None:
            self._insert(deadline_t, [{"case_id": after.id, "kind": "state", **row}])
        elif (before.deadline, before.is_open) != (d, after.is_open):
            self._update(deadline_t, {"case_id": after.id, "kind": "state"}, row)

    def _handoff(self, before: CaseState | None, after: CaseState, events: list[Event]) -> None:
        old = before.handoff if before else None
        new = after.handoff
        if old == new:
            return
        where = {"case_id": after.id, "kind": "handoff"}
        if old is not None:
            status, reason = next((_STATUS_BY_KIND[e.kind], e.reason) for e in events
                                  if e.data.get("handoff_id") == old.id)
            self._update(deadline_t, where, {"status": "done"})
            self._update(handoff_t, {"id": old.id}, {"status": status, "reason": reason})
        if new is not None:
            self._insert(handoff_t, [{
                "id": new.id, "case_id": after.id, "sender": new.sender,
                "receiver": new.receiver, "event": new.event, "to_state": new.to_state,
                "proposed_at": new.proposed_at, "due_at": new.due_at, "status": "proposed",
                "reason": None, "outcome": new.outcome}])
            row = {"due_at": new.due_at, "status": "open", "level": 0}
            if self._update(deadline_t, where, row) == 0:
                self._insert(deadline_t, [{**where, **row}])


class _Row:
    """Attribute access over a converted row, as the codec expects from SQLAlchemy rows."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _outbox(e: Event, action: str) -> dict[str, Any]:
    return {"idempotency_key": f"{e.case_id}:{e.seq}:{action}", "case_id": e.case_id,
            "seq": e.seq, "action": action, "payload": {"kind": e.kind, "event": e.event},
            "status": "pending", "created_at": e.at, "attempts": 0}
