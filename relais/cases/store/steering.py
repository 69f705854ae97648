"""The aggregates behind the steering figures: counts and stays over the event history, one
GROUP BY each, never a person.

Each method answers exact counts for a scope (a period ``[start, end)`` and optionally a
route); ``cases.steering.protect`` makes them publishable. The statements read the period's
events through ``ix_case_event_kind_at`` (kind, at, with the columns they group by included:
an index-only scan), or the indexes on the columns recorded for them (``ix_case_event_stays``
for the triage and the stays, ``ix_case_event_leads`` for the changes of lead); the case
table through ``ix_case_closed_at``, and a route's cases through ``ix_case_route_alive``;
never the whole history. The stays are in ``steering_stays``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from relais.cases.store.tables import case_t, deadline_t, event_t

from .derived import LEAD_CHANGES  # the latter when it names a lead
from .steering_stays import Stays, stays

# events that move a case from one state to another (``from_state`` is the state left)
MOVES = ("transitioned", "handoff_accepted", "route_migrated")

# PostgreSQL's expression index ix_case_route_alive: a case alive at or after a moment, as
# one range (an OR of "not closed" and "closed later" reads the table)
CLOSES = "coalesce(\"case\".closed_at, 'infinity'::timestamptz)"


@dataclass(frozen=True)
class Scope:
    """What a figure counts: the period ``[start, end)``, on one route or all."""

    start: datetime
    end: datetime
    route: str | None = None


def kind_in(table: Any, kinds: tuple[str, ...]) -> ColumnElement[bool]:
    """``kind IN (...)`` with the kinds written into the SQL, not bound: the plan is then the
    same on every execution (prepared or not), and PostgreSQL can match partial indexes."""
    kind: ColumnElement[str] = table.c.kind
    return kind.in_(bindparam("kinds", list(kinds), expanding=True, unique=True,
                              literal_execute=True))


@dataclass(frozen=True)
class _Sql:
    """A scope as the statements read it; ``postgres``: a route's cases then read from
    ix_case_route_alive."""

    scope: Scope
    postgres: bool

    def events(self, *columns: Any, kinds: tuple[str, ...]) -> Select[Any]:
        """SELECT columns FROM case_event in the period, of these kinds, on the route."""
        query = select(*columns).where(kind_in(event_t, kinds), event_t.c.at >= self.scope.start,
                                       event_t.c.at < self.scope.end)
        return self.on_route(query)

    def open_at(self, moment: datetime, *columns: Any) -> Any:
        """The route's cases open at ``moment``: two range scans of ``ix_case_closed_at``
        (closed later, not closed), so that the index answers alone (an OR reads the table)."""
        route = self.scope.route
        on_route = [] if route is None else [case_t.c.route_id == route]
        return union_all(
            select(*columns).where(case_t.c.closed_at >= moment, case_t.c.opened_at < moment,
                                   *on_route),
            select(*columns).where(case_t.c.closed_at.is_(None), case_t.c.opened_at < moment,
                                   *on_route))

    def on_route(self, query: Select[Any]) -> Select[Any]:
        """Only the events of the route's cases that were open during the period. One
        statement with an OR, not a union as in ``open_at``: the planner knows how many rows an OR
        gives, and hashes them; a union's count it guesses (200), and then probes each case."""
        start, end, route = self.scope.start, self.scope.end, self.scope.route
        if route is None:
            return query
        alive = (literal_column(CLOSES) >= start if self.postgres else
                 or_(case_t.c.closed_at.is_(None), case_t.c.closed_at >= start))
        return query.where(event_t.c.case_id.in_(select(case_t.c.id).where(
            case_t.c.route_id == route, case_t.c.opened_at < end, alive)))


class SteeringStore:
    """The network's aggregates, read in the unit's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"

    def _sql(self, scope: Scope) -> _Sql:
        return _Sql(scope, self.postgres)

    def snapshot(self) -> None:
        """Make the unit's transaction one snapshot, so that the figures of an answer agree
        with each other: first in a read unit, before any other statement. (SQLite's read
        transaction is one already.)"""
        if not self.postgres:
            return
        self.conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        # the stays sort in memory; compiling these one-off plans (JIT) costs more than it saves
        self.conn.execute(text("SET LOCAL work_mem = '64MB'"))
        self.conn.execute(text("SET LOCAL jit = off"))

    def referred(self, scope: Scope) -> Counter[str]:
        """Cases opened in the period, by the institution that referred them."""
        rows = self.conn.execute(self._sql(scope).events(
            event_t.c.institution, func.count(), kinds=("case_opened",))
            .group_by(event_t.c.institution))
        return Counter({inst: n for inst, n in rows})

    def by_state(self, scope: Scope, kinds: tuple[str, ...]
                 ) -> Counter[tuple[str, str | None, str | None]]:
        """Events of these kinds in the period by (kind, from_state, to_state)."""
        cols = (event_t.c.kind, event_t.c.from_state, event_t.c.to_state)
        rows = self.conn.execute(self._sql(scope).events(*cols, func.count(), kinds=kinds)
                                 .group_by(*cols))
        return Counter({(k, a, b): n for k, a, b, n in rows})

    def decisions(self, scope: Scope, states: frozenset[str], *, by_route: bool
                  ) -> Counter[tuple[str | None, int, str, str]]:
        """Moves out of these states into another (``transitioned``, ``handoff_accepted``) in
        the period by (route, version, from_state, to_state).
        Without ``by_route`` the route is None: the caller knows it from the state's name, and
        the statement need not look each case up."""
        if not states:
            return Counter()
        cols = [event_t.c.route_version, event_t.c.from_state, event_t.c.to_state]
        route = case_t.c.route_id if by_route else literal(None, String)
        # the moves into another state that left one of these: those that ended a stay there
        # (``entered_at`` recorded), read from ``ix_case_event_stays``, these states' ranges
        query = self._sql(scope).on_route(
            select(route, *cols, func.count())
            .where(event_t.c.entered_at.is_not(None),
                   event_t.c.from_state.in_(bindparam("checks", sorted(states), expanding=True,
                                                      literal_execute=True)),
                   event_t.c.at >= scope.start, event_t.c.at < scope.end,
                   event_t.c.to_state != event_t.c.from_state)
            .group_by(*cols))
        if by_route:
            query = (query.select_from(event_t.join(case_t, case_t.c.id == event_t.c.case_id))
                     .group_by(case_t.c.route_id))
        return Counter({(r, v, a, b): n for r, v, a, b, n in self.conn.execute(query)})

    def lead_changes(self, scope: Scope) -> tuple[Counter[tuple[str, str]], int]:
        """Changes of lead in the period (accepted handoffs, escalations settled with a new
        lead) by (institution that handed on, new lead); and how many cases one of them
        flagged as revolving door. One pass over those events, read from
        ``ix_case_event_leads`` alone: the sender, new lead and flag were recorded as columns
        when each was written."""
        e = event_t
        changes = self._sql(scope).events(
            e.c.case_id, e.c.lead_from.label("sender"), e.c.lead_to.label("receiver"),
            e.c.revolving_door.label("flag"), kinds=LEAD_CHANGES).cte("changes")
        moves = (select(changes.c.sender, changes.c.receiver, func.count().label("n"),
                        literal(0, Integer).label("flagged"))
                 .where(changes.c.receiver.is_not(None))
                 .group_by(changes.c.sender, changes.c.receiver))
        flagged = select(null(), null(), literal(0, Integer),
                         func.count(func.distinct(changes.c.case_id))).where(
            changes.c.flag.is_(True))
        pairs: Counter[tuple[str, str]] = Counter()
        revolving = 0
        for sender, receiver, n, cases in self.conn.execute(union_all(moves, flagged)):
            if receiver is None:
                revolving = int(cases)
            else:
                pairs[sender, receiver] += n
        return pairs, revolving

    def closed(self, scope: Scope) -> Counter[tuple[str, str | None]]:
        """Cases closed in the period by (final state, outcome). A closed case never changes
        again, so its row says exactly what its closing event said."""
        cols = (case_t.c.state, case_t.c.outcome)
        query = (select(*cols, func.count())
                 .where(case_t.c.closed_at >= scope.start, case_t.c.closed_at < scope.end)
                 .group_by(*cols))
        if scope.route is not None:
            query = query.where(case_t.c.route_id == scope.route)
        return Counter({(s, o): n for s, o, n in self.conn.execute(query)})

    def open_at_end(self, scope: Scope) -> Counter[str]:
        """Cases open at ``end``, by the state they were in then.

        A case opened before ``end`` and not closed before it was, at ``end``, in the state
        its first move at or after ``end`` left (``from_state``); with no such move, in the
        state it is in now. So only the events after ``end`` are read, not the history
        before it.
        """
        first = (select(event_t.c.case_id, func.min(event_t.c.seq).label("seq"))
                 .where(kind_in(event_t, MOVES), event_t.c.at >= scope.end)
                 .group_by(event_t.c.case_id).subquery("first_move"))
        left = (select(event_t.c.case_id, event_t.c.from_state)
                .join(first, and_(first.c.case_id == event_t.c.case_id,
                                  first.c.seq == event_t.c.seq)).subquery("state_left"))
        cases = self._sql(scope).open_at(scope.end, case_t.c.id, case_t.c.state
                                         ).subquery("open_cases")
        state = func.coalesce(left.c.from_state, cases.c.state)
        query = (select(state, func.count())
                 .select_from(cases.outerjoin(left, left.c.case_id == cases.c.id))
                 .group_by(state))
        return Counter({s: n for s, n in self.conn.execute(query)})

    def stays(self, scope: Scope, states: frozenset[str]) -> dict[str, Stays]:
        """Per state left (of ``states``, those of the routes in scope): how many stays ended
        in the period, their median and 90th percentile in seconds."""
        return stays(self.conn, self._sql(scope).on_route, scope, states)

    def case_count(self) -> int:
        """How many cases the network has, open or closed."""
        return int(self.conn.execute(select(func.count()).select_from(case_t)).scalar_one())

    def earliest_open_deadline(self) -> datetime | None:
        """When the first open deadline of the network falls due."""
        due = self.conn.execute(select(func.min(deadline_t.c.due_at))
                                .where(deadline_t.c.status == "open")).scalar()
        return None if due is None else due.replace(tzinfo=due.tzinfo or UTC)


__all__ = ["MOVES", "Scope", "Stays", "SteeringStore"]
