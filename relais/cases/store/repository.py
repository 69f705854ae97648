"""Reading and writing cases in one transaction per event, with optimistic concurrency.

Every write of an event goes through ``fastsql`` (the driver's cursor): the event rows, the
case row (``WHERE version = expected``), its deadline and handoff rows, and the outbox.
Reads that are not on that path (history, due deadlines) use SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, false, or_, select, tuple_

from relais.cases.correlation import current_request
from relais.cases.domain.case import CaseState
from relais.cases.domain.errors import StaleVersion
from relais.cases.domain.events import Event
from relais.cases.domain.search import Match

from . import fastsql, ledger
from .codec import aware, case_from, case_values, event_from, event_values
from .derived import StayClock, enters_state
from .tables import (
    case_t,
    deadline_t,
    event_t,
    handoff_t,
    outbox_t,
)

DueKey = tuple[datetime, str]  # (due_at, case_id): where a page of due deadlines ends


_STATUS_BY_KIND = {"handoff_accepted": "accepted", "handoff_refused": "refused",
                   "handoff_expired": "expired", "handoff_withdrawn": "withdrawn"}


class CaseRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sql = fastsql.statements(conn.dialect.name)
        self._entered_at: dict[str, str | None] = {}  # case id -> as its row read it

    # -- the driver-level writes -------------------------------------------------------------

    def _insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if len(rows) == 1:  # executemany costs more than execute for a single row
            fastsql.run(self.conn, self.sql.insert(table, rows[0]),
                        fastsql.to_db(self.conn, table, rows[0]))
        elif rows:
            fastsql.run(self.conn, self.sql.insert(table, rows[0]),
                        [fastsql.to_db(self.conn, table, r) for r in rows])

    def _update(self, table: Table, where: dict[str, Any], values: dict[str, Any]) -> Any:
        """The cursor: its ``rowcount`` is known once the batch it is in has been sent."""
        params = {**values, **{f"w_{k}": v for k, v in where.items()}}
        return fastsql.run(self.conn, self.sql.update(table, where, values),
                           fastsql.to_db(self.conn, table, params))

    def _upsert(self, table: Table, key: tuple[str, ...], row: dict[str, Any]) -> None:
        fastsql.run(self.conn, self.sql.upsert(table, key, tuple(row)),
                    fastsql.to_db(self.conn, table, row))

    # -- reading ----------------------------------------------------------------------------

    def get(self, case_id: str) -> CaseState | None:
        row = fastsql.fetch_one(self.conn, self.sql.select(case_t, ["id"]), {"id": case_id})
        return self._case(row) if row else None

    def _case(self, row: dict[str, Any]) -> CaseState:
        values = fastsql.from_db(case_t, row)
        # when the case entered its state (derived, beside the aggregate): saves the probe
        # of its history when the next event ends that stay (see ``_entered``)
        self._entered_at[values["id"]] = values["memory"].get("entered_at")
        return case_from(_Row(values))

    def get_by_handoff(self, handoff_id: str) -> CaseState | None:
        """The case a handoff (pending or decided) belongs to, in one statement."""
        row = fastsql.fetch_one(self.conn, self.sql.case_by_handoff(), {"id": handoff_id})
        return self._case(row) if row else None

    def history(self, case_id: str) -> list[Event]:
        rows = self.conn.execute(select(event_t).where(event_t.c.case_id == case_id)
                                 .order_by(event_t.c.seq))
        return [event_from(r) for r in rows]

    def kinds_since(self, case_id: str, version: int) -> list[str]:
        """The kinds of the events recorded after ``version``, in order."""
        rows = self.conn.execute(select(event_t.c.kind).where(
            event_t.c.case_id == case_id, event_t.c.seq > version).order_by(event_t.c.seq))
        return [r[0] for r in rows]

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

    def page(self, after: tuple[datetime, str] | None, limit: int,
             match: Match | None = None, **equal: Any) -> list[CaseState]:
        """Up to ``limit`` cases in (opened_at, id) order after ``after``, each column named
        in ``equal`` equal to its value (None: IS NULL), and those ``match`` finds."""
        query = select(case_t).order_by(case_t.c.opened_at, case_t.c.id).limit(limit)
        if match is not None:
            found = [case_t.c.person_id.in_(match.people)] if match.people else []
            if match.case_prefix:  # folded: hex digits and dashes, nothing LIKE reads
                found.append(case_t.c.id.like(f"{match.case_prefix}%"))
            query = query.where(or_(*found) if found else false())
        for column, value in equal.items():
            query = query.where(case_t.c[column] == value)
        if after is not None:
            query = query.where(tuple_(case_t.c.opened_at, case_t.c.id) > after)
        return [case_from(r) for r in self.conn.execute(query)]

    def escalated(self, limit: int) -> list[CaseState]:
        """Open cases escalated to the coordination, oldest first."""
        return self._flagged(limit, case_t.c.escalation_level >= 2,
                             case_t.c.closed_at.is_(None))

    def revolving(self, limit: int) -> list[CaseState]:
        """Cases flagged as revolving door, oldest first."""
        return self._flagged(limit, case_t.c.revolving_door.is_not(None))

    def _flagged(self, limit: int, *where: ColumnElement[bool]) -> list[CaseState]:
        query = (select(case_t).where(*where).order_by(case_t.c.opened_at, case_t.c.id)
                 .limit(limit))
        return [case_from(row) for row in self.conn.execute(query)]

    def open_deadlines_before(self, before: datetime
                              ) -> Iterator[tuple[CaseState, str, datetime]]:
        """(case, kind, due at) of every open deadline due before ``before``, soonest first,
        read as the caller goes (inside its unit)."""
        query = (select(deadline_t, case_t).join(case_t, case_t.c.id == deadline_t.c.case_id)
                 .where(deadline_t.c.status == "open", deadline_t.c.due_at < before)
                 .order_by(deadline_t.c.due_at))
        for row in self.conn.execute(query):
            yield case_from(row), row.kind, aware(row.due_at)

    def open_in_states(self, route_id: str, version: int, states: list[str]
                       ) -> list[CaseState]:
        """The open cases of a route version standing in one of ``states``."""
        return [case_from(r) for r in self.conn.execute(select(case_t).where(
            case_t.c.route_id == route_id, case_t.c.route_version == version,
            case_t.c.state.in_(states), case_t.c.closed_at.is_(None)))]

    def open_ids(self, route_id: str, version: int) -> list[str]:
        """The ids of the open cases of a route version."""
        return [r[0] for r in self.conn.execute(
            select(case_t.c.id).where(case_t.c.route_id == route_id,
                                      case_t.c.route_version == version,
                                      case_t.c.closed_at.is_(None)))]

    # -- writing ----------------------------------------------------------------------------

    def save(self, before: CaseState | None, after: CaseState, events: list[Event]) -> None:
        """Write ``events`` and what they made of the case; StaleVersion if someone was first.

        The writes go in one batch: on PostgreSQL one round trip (psycopg's pipeline) for
        the case row, the events, the deadline and handoff rows and the outbox."""
        clock = StayClock(self._entered(before, events))
        event_rows = [{**event_values(e), **clock.columns(
            e.kind, e.from_state, e.to_state, e.at, e.data)} for e in events]
        values = case_values(after)
        entered = clock.entered.isoformat() if clock.entered else None
        values["memory"]["entered_at"] = entered
        if before is None:
            self._insert(case_t, [values])
            ledger.append(self.conn, "case", values)  # reads its chain's head: not batched
        else:
            # SET only what changed: the key never (with foreign keys on, SQLite would check
            # every table that points at cases), and an indexed column (lead, person,
            # closed_at) only when it moves, since SQLite rewrites the index of every column
            # named in the SET; unchanged JSON is not encoded again either
            old = case_values(before)
            old["memory"]["entered_at"] = self._entered_at.get(before.id)
            values = {k: v for k, v in values.items() if v != old[k]}
        try:
            with fastsql.batch(self.conn):
                moved = (self._update(case_t, {"id": after.id, "version": before.version},
                                      values) if before is not None else None)
                self._insert(event_t, event_rows)
                self._deadline(before, after)
                self._handoff(before, after, events)
                self._insert(outbox_t, [_outbox(e, action) for e in events
                                        for action in e.data.get("actions", ())])
        except self.conn.dialect.loaded_dbapi.IntegrityError:
            # the event's number taken by a concurrent writer that committed first
            raise StaleVersion("le cas a changé entre-temps / the case changed meanwhile",
                               version=before.version if before else 0) from None
        if moved is not None and moved.rowcount != 1:
            assert before is not None
            raise StaleVersion("le cas a changé entre-temps ; recharger / the case changed "
                               "meanwhile; reload", version=before.version)
        self._entered_at[after.id] = entered

    def _entered(self, before: CaseState | None, events: list[Event]) -> datetime | None:
        """When the case entered the state it is in: as its row says (``memory.entered_at``,
        written with every event since it exists), else, if ``events`` end that stay, its
        last move into a state, through ``ix_case_event_moves`` (one probe, for a case last
        written before the row said it)."""
        if before is None:
            return None
        known = self._entered_at.get(before.id)
        if known:
            return datetime.fromisoformat(known)
        if not any(enters_state(e.kind, e.from_state, e.to_state) for e in events):
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
            self._upsert(deadline_t, ("case_id", "kind"),
                         {**where, "due_at": new.due_at, "status": "open", "level": 0})


class _Row:
    """Attribute access over a converted row, as the codec expects from SQLAlchemy rows."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _outbox(e: Event, action: str) -> dict[str, Any]:
    payload: dict[str, Any] = {"kind": e.kind, "event": e.event}
    request = current_request()
    if request is not None:  # the request that queued it: its worker logs under the same id
        payload["request"] = request
    return {"idempotency_key": f"{e.case_id}:{e.seq}:{action}", "case_id": e.case_id,
            "seq": e.seq, "action": action, "payload": payload,
            "status": "pending", "created_at": e.at, "attempts": 0}
