"""The counts behind the steering figures: one GROUP BY each, over the event history.

Each function answers exact counts for a scope (a period ``[start, end)`` and optionally a
route); ``protect.shown`` makes them publishable. The statements read the period's events
through ``ix_case_event_kind_at`` (kind, at, with the columns they group by included: an
index-only scan), or the indexes on the columns recorded for them (``ix_case_event_stays``
for the triage, ``ix_case_event_leads`` for the changes of lead); the case table through
``ix_case_closed_at``, and a route's cases through ``ix_case_route_alive``; never the whole
history.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
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
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from cases.store.derived import LEAD_CHANGES  # the latter when it names a lead
from cases.store.repository import case_t, event_t

# events that move a case from one state to another (``from_state`` is the state left)
MOVES = ("transitioned", "handoff_accepted", "route_migrated")
BREACHES = ("deadline_reminded", "deadline_escalated", "handoff_expired")
ESCALATIONS = ("deadline_escalated", "handoff_expired")


def kind_in(table: Any, kinds: tuple[str, ...]) -> ColumnElement[bool]:
    """``kind IN (...)`` with the kinds written into the SQL, not bound: the plan is then the
    same on every execution (prepared or not), and PostgreSQL can match partial indexes."""
    kind: ColumnElement[str] = table.c.kind
    return kind.in_(bindparam("kinds", list(kinds), expanding=True, unique=True,
                              literal_execute=True))


# PostgreSQL's expression index ix_case_route_alive: a case alive at or after a moment, as
# one range (an OR of "not closed" and "closed later" reads the table)
CLOSES = "coalesce(\"case\".closed_at, 'infinity'::timestamptz)"


@dataclass(frozen=True)
class Scope:
    start: datetime
    end: datetime
    route: str | None = None
    postgres: bool = False  # the route's cases then read from ix_case_route_alive

    def events(self, *columns: Any, kinds: tuple[str, ...]) -> Select[Any]:
        """SELECT columns FROM case_event in the period, of these kinds, on the route."""
        query = select(*columns).where(kind_in(event_t, kinds), event_t.c.at >= self.start,
                                       event_t.c.at < self.end)
        return self.on_route(query)

    def open_at(self, moment: datetime, *columns: Any) -> Any:
        """The route's cases open at ``moment``: two range scans of ``ix_case_closed_at``
        (closed later, not closed), so that the index answers alone (an OR reads the table)."""
        on_route = [] if self.route is None else [case_t.c.route_id == self.route]
        return union_all(
            select(*columns).where(case_t.c.closed_at >= moment, case_t.c.opened_at < moment,
                                   *on_route),
            select(*columns).where(case_t.c.closed_at.is_(None), case_t.c.opened_at < moment,
                                   *on_route))

    def on_route(self, query: Select[Any]) -> Select[Any]:
        """Only the events of the route's cases that were open during the period. One
        statement with an OR, not a union as in ``open_at``: the planner knows how many rows an OR
        gives, and hashes them; a union's count it guesses (200), and then probes each case."""
        if self.route is None:
            return query
        alive = (literal_column(CLOSES) >= self.start if self.postgres else
                 or_(case_t.c.closed_at.is_(None), case_t.c.closed_at >= self.start))
        return query.where(event_t.c.case_id.in_(select(case_t.c.id).where(
            case_t.c.route_id == self.route, case_t.c.opened_at < self.end, alive)))


def referred(conn: Connection, scope: Scope) -> Counter[str]:
    """Cases opened in the period, by the institution that referred them."""
    rows = conn.execute(scope.events(event_t.c.institution, func.count(),
                                     kinds=("case_opened",)).group_by(event_t.c.institution))
    return Counter({inst: n for inst, n in rows})


def by_state(conn: Connection, scope: Scope, kinds: tuple[str, ...]
             ) -> Counter[tuple[str, str | None, str | None]]:
    """Events of these kinds in the period by (kind, from_state, to_state)."""
    cols = (event_t.c.kind, event_t.c.from_state, event_t.c.to_state)
    rows = conn.execute(scope.events(*cols, func.count(), kinds=kinds).group_by(*cols))
    return Counter({(k, a, b): n for k, a, b, n in rows})


def decisions(conn: Connection, scope: Scope, states: frozenset[str], *, by_route: bool
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
    # (``entered_at`` recorded), read from ``ix_case_event_stays``, these states' ranges only
    query = scope.on_route(
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
    return Counter({(r, v, a, b): n for r, v, a, b, n in conn.execute(query)})


def lead_changes(conn: Connection, scope: Scope) -> tuple[Counter[tuple[str, str]], int]:
    """Changes of lead in the period (accepted handoffs, escalations settled with a new
    lead) by (institution that handed on, new lead); and how many cases one of them flagged
    as revolving door. One pass over those events, read from ``ix_case_event_leads`` alone:
    the sender, new lead and flag were recorded as columns when each was written."""
    e = event_t
    changes = scope.events(e.c.case_id, e.c.lead_from.label("sender"),
                           e.c.lead_to.label("receiver"), e.c.revolving_door.label("flag"),
                           kinds=LEAD_CHANGES).cte("changes")
    moves = (select(changes.c.sender, changes.c.receiver, func.count().label("n"),
                    literal(0, Integer).label("flagged"))
             .where(changes.c.receiver.is_not(None))
             .group_by(changes.c.sender, changes.c.receiver))
    flagged = select(null(), null(), literal(0, Integer),
                     func.count(func.distinct(changes.c.case_id))).where(
        changes.c.flag.is_(True))
    pairs: Counter[tuple[str, str]] = Counter()
    revolving = 0
    for sender, receiver, n, cases in conn.execute(union_all(moves, flagged)):
        if receiver is None:
            revolving = int(cases)
        else:
            pairs[sender, receiver] += n
    return pairs, revolving


def closed(conn: Connection, scope: Scope) -> Counter[tuple[str, str | None]]:
    """Cases closed in the period by (final state, outcome). A closed case never changes
    again, so its row says exactly what its closing event said."""
    cols = (case_t.c.state, case_t.c.outcome)
    query = (select(*cols, func.count())
             .where(case_t.c.closed_at >= scope.start, case_t.c.closed_at < scope.end)
             .group_by(*cols))
    if scope.route is not None:
        query = query.where(case_t.c.route_id == scope.route)
    return Counter({(s, o): n for s, o, n in conn.execute(query)})


def open_at_end(conn: Connection, scope: Scope) -> Counter[str]:
    """Cases open at ``end``, by the state they were in then.

    A case opened before ``end`` and not closed before it was, at ``end``, in the state its
    first move at or after ``end`` left (``from_state``); with no such move, in the state it
    is in now. So only the events after ``end`` are read, not the history before it.
    """
    first = (select(event_t.c.case_id, func.min(event_t.c.seq).label("seq"))
             .where(kind_in(event_t, MOVES), event_t.c.at >= scope.end)
             .group_by(event_t.c.case_id).subquery("first_move"))
    left = (select(event_t.c.case_id, event_t.c.from_state)
            .join(first, and_(first.c.case_id == event_t.c.case_id,
                              first.c.seq == event_t.c.seq)).subquery("state_left"))
    cases = scope.open_at(scope.end, case_t.c.id, case_t.c.state).subquery("open_cases")
    state = func.coalesce(left.c.from_state, cases.c.state)
    query = (select(state, func.count())
             .select_from(cases.outerjoin(left, left.c.case_id == cases.c.id))
             .group_by(state))
    return Counter({s: n for s, n in conn.execute(query)})
