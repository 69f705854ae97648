"""Time per stage: how long the stays in each state lasted, median and 90th percentile.

A *stay* in a state runs from the move that entered it (``case_opened``, or a
``transitioned``/``handoff_accepted`` into it) to the move that left it; a move back into the
same state (a self-loop: ``reevaluer``, ``confier`` within ``mesures``) neither ends nor starts
a stay, and a route migration is not a move (the stay runs on, counted for the state left).
The stays counted are those that *ended* in the period, whenever they began.

The moves of the period are numbered per case (``lag`` over ``seq``); a stay whose entering
move lies before the period is the first of its case in the period, and only for those is the
move before the period looked up, through the primary key (case_id, seq).

Percentiles are interpolated between the two nearest values, as PostgreSQL's
``percentile_cont`` does (there, in SQL); SQLite has no ordered-set aggregates, so it numbers
the stays of each state with window functions and sends back only the two values around each
percentile, which Python interpolates the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Integer, and_, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import array

from cases.store.repository import event_t

from .counts import Scope, kind_in

ENTERS = ("case_opened", "transitioned", "handoff_accepted")
QUANTILES = (0.5, 0.9)


@dataclass(frozen=True)
class Stays:
    count: int
    median_s: float
    p90_s: float


def _changes_state(table: Any) -> Any:
    return and_(kind_in(table, ENTERS),
                or_(table.c.from_state.is_(None), table.c.from_state != table.c.to_state))


def _stays(conn: Connection, scope: Scope) -> Any:
    """(state, seconds) of every stay that ended in the period, as a subquery (PostgreSQL:
    a materialised CTE, so that the lookups run once per stay and what is sorted by state
    afterwards is narrow)."""
    e, pg = event_t, conn.dialect.name == "postgresql"
    # PostgreSQL sorts the case ids byte-wise (abbreviated keys) rather than by the
    # database's collation: the order does not matter, only that each case's moves are together
    case = e.c.case_id.collate("C") if pg else e.c.case_id
    period = (select(e.c.case_id, e.c.seq, e.c.at, e.c.from_state,
                     func.lag(e.c.at).over(partition_by=case, order_by=e.c.seq)
                     .label("entered"))
              .where(_changes_state(e), e.c.at >= scope.start, e.c.at < scope.end))
    moves = scope.on_route(period).subquery("moves")
    before = event_t.alias("before")
    earlier = (select(before.c.at)
               .where(before.c.case_id == moves.c.case_id, before.c.seq < moves.c.seq,
                      _changes_state(before))
               .order_by(before.c.seq.desc()).limit(1).scalar_subquery())
    entered = func.coalesce(moves.c.entered, earlier)
    seconds: Any
    if pg:
        # date_part answers float8 (extract: numeric, slower to compute and round)
        seconds = func.round(func.date_part("epoch", moves.c.at - entered))
    else:
        seconds = func.round((func.julianday(moves.c.at) - func.julianday(entered)) * 86400)
    # a move with no state left is a case_opened: it starts a stay and ends none
    stays = (select(moves.c.from_state.label("state"), seconds.label("s"))
             .where(moves.c.from_state.is_not(None)))
    if pg:
        return stays.cte("stays").prefix_with("MATERIALIZED")
    return stays.subquery("stays")


def stays(conn: Connection, scope: Scope) -> dict[str, Stays]:
    """Per state left: how many stays ended in the period, their median and 90th percentile
    in seconds."""
    s = _stays(conn, scope)
    if conn.dialect.name == "postgresql":
        # one sort per state for both percentiles: percentile_cont over an array of them
        wanted = func.percentile_cont(array(QUANTILES)).within_group(s.c.s)
        state = s.c.state.collate("C")
        rows = conn.execute(select(state, func.count(), wanted).group_by(state))
        return {state: Stays(n, *map(float, values)) for state, n, values in rows}
    return _stays_by_window(conn, s)


def _stays_by_window(conn: Connection, s: Any) -> dict[str, Stays]:
    ranked = select(s.c.state, s.c.s,
                    (func.row_number().over(partition_by=s.c.state, order_by=s.c.s) - 1)
                    .label("i"),
                    func.count().over(partition_by=s.c.state).label("n")).subquery("ranked")
    wanted = []
    for q in QUANTILES:  # the rows just below and just above each percentile's position
        low = cast((ranked.c.n - 1) * literal(q), Integer)
        wanted += [ranked.c.i == low, ranked.c.i == low + 1]
    rows = conn.execute(select(ranked.c.state, ranked.c.n, ranked.c.i, ranked.c.s)
                        .where(or_(*wanted)))
    values: dict[str, dict[int, float]] = {}
    counts: dict[str, int] = {}
    for state, n, i, secs in rows:
        values.setdefault(state, {})[i] = float(secs)
        counts[state] = n
    return {state: Stays(n, *(_interpolated(values[state], n, q) for q in QUANTILES))
            for state, n in counts.items()}


def _interpolated(values: dict[int, float], n: int, q: float) -> float:
    """percentile_cont's interpolation (PostgreSQL's float8 lerp), from the two rows."""
    position = q * (n - 1)
    low = int(position)
    below, above = values[low], values.get(low + 1, values[low])
    return below + (above - below) * (position - low)
