"""Time per stage: how long the stays in each state lasted, median and 90th percentile.

A *stay* in a state runs from the move that entered it (``case_opened``, or a
``transitioned``/``handoff_accepted`` into it) to the move that left it; a move back into the
same state (a self-loop: ``reevaluer``, ``confier`` within ``mesures``) neither ends nor starts
a stay, and a route migration is not a move (the stay runs on, counted for the state left).
The stays counted are those that *ended* in the period, whenever they began.

Each move that ends a stay records, when it is written, the moment the state it leaves was
entered (``case_event.entered_at``: cases/store/derived.py, backfilled by migration 0009). A
period's stays are then its moves with that moment, ``at - entered_at`` by ``from_state``:
one range of one narrow index, with no window over each case and no look-back before the
period.

Percentiles are interpolated between the two nearest values, as PostgreSQL's
``percentile_cont`` does (there, in SQL); SQLite has no ordered-set aggregates, so it numbers
the stays of each state with window functions and sends back only the two values around each
percentile, which Python interpolates the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Integer, Select, bindparam, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import array

from relais.cases.store.tables import event_t

if TYPE_CHECKING:
    from .steering import Scope

QUANTILES = (0.5, 0.9)
OnRoute = Callable[[Select[Any]], Select[Any]]


@dataclass(frozen=True)
class Stays:
    count: int
    median_s: float
    p90_s: float


def _stays(conn: Connection, on_route: OnRoute, scope: Scope, states: frozenset[str]) -> Any:
    """(state, seconds) of every stay that ended in the period, as a subquery: the moves
    that end a stay are those that recorded when the state they leave was entered
    (``entered_at``, written with the move: cases/store/derived.py), read from
    ``ix_case_event_stays`` alone. ``states``: every state the routes have, written into the
    SQL: one range of the index per state, so the stays come out grouped by state, and the
    percentiles need no sort by state (on a route, the join to its cases undoes that)."""
    e = event_t
    seconds: Any
    if conn.dialect.name == "postgresql":
        # date_part answers float8 (extract: numeric, slower to compute and round)
        seconds = func.round(func.date_part("epoch", e.c.at - e.c.entered_at))
    else:
        seconds = func.round((func.julianday(e.c.at) - func.julianday(e.c.entered_at)) * 86400)
    left = e.c.from_state.in_(bindparam("states", sorted(states), expanding=True,
                                        literal_execute=True))
    found = select(e.c.from_state.label("state"), seconds.label("s")).where(
        e.c.entered_at.is_not(None), left, e.c.at >= scope.start, e.c.at < scope.end)
    return on_route(found).subquery("stays")


def stays(conn: Connection, on_route: OnRoute, scope: Scope, states: frozenset[str]
          ) -> dict[str, Stays]:
    """Per state left (of ``states``): how many stays ended in the period, their median and
    90th percentile in seconds; ``on_route`` narrows a statement to the scope's route."""
    if not states:
        return {}
    s = _stays(conn, on_route, scope, states)
    if conn.dialect.name == "postgresql":
        # one sort per state for both percentiles: percentile_cont over an array of them
        wanted = func.percentile_cont(array(QUANTILES)).within_group(s.c.s)
        rows = conn.execute(select(s.c.state, func.count(), wanted).group_by(s.c.state))
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
