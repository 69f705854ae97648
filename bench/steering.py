"""The steering figures over a large history, against the raw GROUP BY of the same figures.

Fills a scratch PostgreSQL database (``relais_bench_steering``: created, migrated and dropped
here, never the tests' one) with a simulated history (``bench/steering_history.py``: the
three shipped routes over 2020–2025, COPY), then times, alternately and after one warm-up
round each:

- **indicators**: ``cases.steering.indicators`` for a period, as the API computes them
  (SQLAlchemy, the small-count rule, the routes' triage read from the routes; its
  ``transfers_between_kinds`` are what ``/flows`` answers);
- **raw**: the same figures as plain GROUP BY statements sent through the driver, written
  the direct way (a window over each case's moves for the stays, the cases' rows for what is
  open at the end of the history), with no rounding;
- **floor**: one ``SELECT kind, count(*) … GROUP BY kind`` over the period's events.

It reports the medians and the ratio for 2025 and its last quarter, on every route and on
one, then each statement of the indicators for 2025 with its time, and EXPLAIN ANALYZE of
the slowest.

    python -m bench.steering --events 10000000 [--rounds 5] [--keep] [--reuse]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event, text

from bench.steering_history import fill
from relais.cases import steering
from relais.cases.services import CaseServices
from relais.db import make_engine
from relais.migrate import upgrade

DATABASE = "relais_bench_steering"
END = datetime(2026, 1, 1, tzinfo=UTC)  # the end of the simulated history
PERIODS = {"2025": datetime(2025, 1, 1, tzinfo=UTC), "2025 Q4": datetime(2025, 10, 1, tzinfo=UTC)}
PERIOD = "at >= %(start)s AND at < %(end)s"
RAW = {
    "referred": f"""SELECT institution, count(*) FROM case_event
        WHERE kind = 'case_opened' AND {PERIOD} GROUP BY institution""",
    "breaches and refusals": f"""SELECT kind, from_state, count(*) FROM case_event
        WHERE kind IN ('deadline_reminded', 'deadline_escalated', 'handoff_expired',
                       'handoff_refused') AND {PERIOD} GROUP BY kind, from_state""",
    "triage": """SELECT c.route_id, e.from_state, e.to_state, count(*)
        FROM case_event e JOIN "case" c ON c.id = e.case_id
        WHERE e.kind IN ('transitioned', 'handoff_accepted')
          AND e.at >= %(start)s AND e.at < %(end)s
          AND e.from_state IN ('triage', 'examen_entree', 'candidature')
          AND e.to_state <> e.from_state GROUP BY 1, 2, 3""",
    "flows": f"""SELECT data -> 'handed_on' ->> -1, data ->> 'lead', count(*) FROM case_event
        WHERE kind IN ('handoff_accepted', 'escalation_settled') AND {PERIOD}
          AND data ->> 'lead' IS NOT NULL GROUP BY 1, 2""",
    "revolving door": f"""SELECT count(DISTINCT case_id) FROM case_event
        WHERE kind IN ('handoff_accepted', 'escalation_settled') AND {PERIOD}
          AND data ->> 'revolving_door' IS NOT NULL""",
    "closed": """SELECT state, outcome, count(*) FROM "case"
        WHERE closed_at >= %(start)s AND closed_at < %(end)s GROUP BY state, outcome""",
    "open at the end": """SELECT state, count(*) FROM "case" WHERE closed_at IS NULL
        GROUP BY state""",  # the period ends with the history: the rows say it directly
    "stays": """WITH moves AS (
          SELECT case_id, at, kind, from_state,
                 lag(at) OVER (PARTITION BY case_id ORDER BY seq) AS entered
          FROM case_event
          WHERE kind IN ('case_opened', 'transitioned', 'handoff_accepted')
            AND (from_state IS NULL OR from_state <> to_state) AND at < %(end)s)
        SELECT from_state, count(*),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM at - entered)),
               percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM at - entered))
        FROM moves WHERE at >= %(start)s AND kind <> 'case_opened' GROUP BY from_state""",
}
FLOOR = f"SELECT kind, count(*) FROM case_event WHERE {PERIOD} GROUP BY kind"


def scratch(admin_url: str, *, reuse: bool) -> tuple[Engine, bool]:
    """The scratch database, migrated: (engine, True) when kept filled from an earlier run."""
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                              {"n": DATABASE}).scalar() is not None
        if exists and not reuse:
            conn.execute(text(f'DROP DATABASE "{DATABASE}" WITH (FORCE)'))
        if not (exists and reuse):
            conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    engine = make_engine(admin_url.rsplit("/", 1)[0] + f"/{DATABASE}")
    upgrade(engine)
    with engine.connect() as conn:
        filled = conn.execute(text("SELECT EXISTS (SELECT 1 FROM case_event)")).scalar()
    return engine, bool(exists and reuse and filled)


def drop(admin_url: str) -> None:
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
    admin.dispose()


def run_raw(engine: Engine, sql: dict[str, str], start: datetime) -> dict[str, list[Any]]:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        out = {}
        for name, statement in sql.items():
            cur.execute(statement, {"start": start, "end": END})
            out[name] = cur.fetchall()
        raw.rollback()
        return out
    finally:
        raw.close()


class Statements:
    """Each statement the indicators send, with its time: the slowest is explained."""

    def __init__(self, engine: Engine) -> None:
        self.seen: list[tuple[float, str, Any]] = []
        event.listen(engine, "before_cursor_execute", self.before)
        event.listen(engine, "after_cursor_execute", self.after)

    def before(self, conn: Any, _c: Any, _s: str, _p: Any, _x: Any, _m: bool) -> None:
        conn.info["bench_t"] = time.perf_counter()

    def after(self, conn: Any, _c: Any, statement: str, params: Any, _x: Any, _m: bool) -> None:
        self.seen.append((time.perf_counter() - conn.info["bench_t"], statement, params))


def timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def compare(engine: Engine, services: CaseServices, rounds: int, start: datetime,
            route: str | None) -> dict[str, float]:
    def ours() -> None:  # its transfers_between_kinds are what /flows answers
        steering.indicators(services, start=start, end=END,
                            route=route)

    raw_sql = RAW if route is None else {k: _on_route(v) for k, v in RAW.items()}
    floor = {"floor": FLOOR if route is None else _on_route(FLOOR)}
    ours(), run_raw(engine, raw_sql, start), run_raw(engine, floor, start)  # warm up
    times: dict[str, list[float]] = {"indicators": [], "raw": [], "floor": []}
    for _ in range(rounds):
        times["indicators"].append(timed(ours))
        times["raw"].append(timed(lambda: run_raw(engine, raw_sql, start)))
        times["floor"].append(timed(lambda: run_raw(engine, floor, start)))
    return {k: statistics.median(v) for k, v in times.items()}


def _on_route(sql: str) -> str:
    """The raw statements, narrowed to a route the direct way: a join on the case."""
    if 'FROM "case"' in sql:
        return sql.replace(" WHERE ", " WHERE route_id = 'reseau-cii' AND ", 1)
    return sql.replace(" WHERE ", " WHERE case_id IN (SELECT id FROM \"case\" WHERE "
                       "route_id = 'reseau-cii') AND ", 1)


def explain(engine: Engine, statement: str, params: Any) -> str:
    with engine.connect() as conn, conn.begin():
        conn.execute(text("SET LOCAL work_mem = '64MB'"))
        conn.execute(text("SET LOCAL jit = off"))
        rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", params)
        return "\n".join(r[0] for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="a database of the server to create the scratch one from")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept scratch database")
    args = parser.parse_args()
    engine, kept = scratch(args.postgres, reuse=args.reuse)
    try:
        if kept:
            print(f"reusing {DATABASE}")
        else:
            t = time.perf_counter()
            n_cases, n_events = fill(engine, args.events)
            print(f"filled {n_events:,} events, {n_cases:,} cases in "
                  f"{time.perf_counter() - t:.0f} s")
        services = CaseServices(engine)
        with engine.connect() as conn:
            total = conn.execute(text("SELECT count(*) FROM case_event")).scalar()
        print(f"{total:,} events; medians of {args.rounds} alternating rounds:")
        for period, start in PERIODS.items():
            with engine.connect() as conn:
                n = conn.execute(text("SELECT count(*) FROM case_event WHERE at >= :s"),
                                 {"s": start}).scalar()
            for route in (None, "reseau-cii"):
                m = compare(engine, services, args.rounds, start, route)
                print(f"  {period:<8} ({n:,} events) {route or 'all routes':<11} indicators "
                      f"{m['indicators']:6.3f} s   raw {m['raw']:6.3f} s   indicators / raw "
                      f"{m['indicators'] / m['raw']:5.2f}   floor {m['floor']:6.3f} s", flush=True)
        statements = Statements(engine)
        start = PERIODS["2025"]
        steering.indicators(services, start=start, end=END)
        for spent, statement, _ in sorted(statements.seen, key=lambda s: -s[0]):
            print(f"  {spent:6.3f} s  {' '.join(statement.split())[:90]}")
        spent, statement, params = max(statements.seen, key=lambda s: s[0])
        print(f"\nslowest statement of the indicators ({spent:.3f} s):\n{statement}\n")
        print(explain(engine, statement, params))
    finally:
        engine.dispose()
        if not args.keep:
            drop(args.postgres)


if __name__ == "__main__":
    main()
