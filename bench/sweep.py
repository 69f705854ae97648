"""The deadline sweep over many open deadlines, a share of them due, against the raw SQL.

The data is built at the driver, not through the services: one real ``reseau-cii`` case is
opened through ``CaseServices``, then cloned with new ids (a person each; its ``case_opened``
event re-sealed, since the hash covers the case id, the person and the deadline; the case row
replayed from it; its open ``state`` deadline; its outbox row, done). The due share was opened
20 to 40 days ago (its 5 working days have run out), the rest in the last 3 days.

Then, alternately in rounds, on the same due rows (put back as they were before each run):

- engine: ``CaseServices.sweep_deadlines(now)``: the due query by 500 (deadlines joined to
  their cases), then one transaction a case (the rule, the hash, the rows' encoding);
- raw: the same query by 500, then per case on the driver's cursor: BEGIN, UPDATE the case on
  its version, INSERT the event, UPDATE the deadline, INSERT the outbox row, COMMIT, with JSON
  of the same size;
- query: the bare indexed SELECT of every due deadline row, alone.

The due query's plan is printed, and a sample of swept cases is audited (chain and replay).

    python -m bench.sweep [--db sqlite|postgresql] [--open 1000000] [--due-share 0.01]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, event, func, select
from sqlalchemy.engine import make_url

from relais.cases.domain.case import CaseState
from relais.cases.domain.context import DEADLINE_PASSED
from relais.cases.domain.events import Event, evolve
from relais.cases.services import CaseServices
from relais.cases.store import WRITE, fastsql
from relais.cases.store.audit import _check  # verify() walks every case: the same checks, a sample
from relais.cases.store.codec import case_values, event_from, event_values
from relais.cases.store.repository import CaseRepository
from relais.cases.store.tables import case_t, deadline_t, event_t, handoff_t, outbox_t, person_t
from relais.db import make_engine
from relais.demo import ORP, avs
from relais.institutions.calendar import calendar
from relais.migrate import upgrade
from relais.wiring import publish_standard_routes

ROUTE = "reseau-cii"
CHUNK = 20_000
INDEX = "ix_deadline_status_due"
AUDITED = 200
SCRATCH = "relais_bench_sweep"


@dataclass
class Bench:
    engine: Engine
    services: CaseServices
    now: datetime
    due: list[str] = field(default_factory=list)
    # what the due cases' rows were before any sweep, to put them back between runs
    rows: list[tuple[dict[str, Any], Any]] = field(default_factory=list)
    outbox_max: int = 0

    @property
    def pg(self) -> bool:
        return self.engine.dialect.name == "postgresql"


# -- the data -------------------------------------------------------------------------------


def setup(engine: Engine, n_open: int, share: float) -> Bench:
    upgrade(engine)
    now = datetime.now(UTC).replace(microsecond=0)
    services = CaseServices(engine, clock=lambda: now)
    publish_standard_routes(services)
    first = services.open_case(route=ROUTE, actor=ORP, fields={"age": 40, "consentement": True},
                               person={"avs": avs(0), "official_name": "Banc",
                                       "first_name": "Essai", "birth_date": "1980-01-01"})
    bench = Bench(engine, services, now)
    n_due = round(n_open * share)
    due = set(random.Random(7).sample(range(1, n_open), n_due))  # spread over the tables
    with engine.connect() as conn:
        bench.outbox_max = conn.execute(select(func.max(outbox_t.c.id))).scalar_one()
    start = time.perf_counter()
    with engine.connect() as conn:
        if not bench.pg:  # random keys into a million-row index: SQLite's 2 MB cache thrashes
            conn.exec_driver_sql("PRAGMA cache_size = -1000000")
            conn.commit()
        for lo in range(1, n_open, CHUNK):
            hi = min(lo + CHUNK, n_open)
            load(bench, conn, list(clones(bench, first.events[0], range(lo, hi), due)))
    engine.dispose()  # the contenders get connections with the default cache
    if bench.pg:  # persons got explicit ids; autovacuum would analyse the new rows soon
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('person', 'id'), "
                                 "(SELECT max(id) FROM person))")
            conn.commit()
        vacuum(engine)
    print(f"  built {n_open:,} open cases, {n_due:,} due, in {time.perf_counter() - start:.0f} s")
    return bench


def clones(bench: Bench, opened: Event, numbers: range,
           due: set[int]) -> Iterator[tuple[Event, CaseState, bool]]:
    """Case ``i`` of the template, opened at a time that makes its deadline due or not."""
    route = bench.services.route_of(bench.services.get(opened.case_id))
    deadline = route.states[route.initial].deadline
    assert deadline is not None
    cal = calendar(route.calendar)
    dues: dict[date, datetime] = {}  # a deadline in working days depends on the day only
    for i in numbers:
        back = (20 + 20 * (i % 997) / 997) if i in due else 3 * (i % 991 + 1) / 992
        at = bench.now - timedelta(days=back)
        day = at.astimezone(cal.zone).date()
        if day not in dues:
            dues[day] = deadline.due_after(at, cal)
        due_at = dues[day]
        assert (due_at <= bench.now) == (i in due)
        e = replace(opened, case_id=str(uuid.uuid4()), at=at, data={
            **opened.data, "person": opened.data["person"] + i,
            "deadline_at": due_at.isoformat()}).sealed()
        yield e, evolve(None, e), i in due


def load(bench: Bench, conn: Connection, cases: list[tuple[Event, CaseState, bool]]) -> None:
    people, rows, events, deadlines, outbox = [], [], [], [], []
    for e, case, is_due in cases:
        people.append({"id": case.person, "avs": avs(case.person).replace(".", ""),
                       "official_name": "Banc", "first_name": "Essai",
                       "birth_date": "1980-01-01"})
        values = fastsql.to_db(conn, case_t, case_values(case))
        rows.append(values)
        events.append(fastsql.to_db(conn, event_t, event_values(e)))
        deadline = fastsql.to_db(conn, deadline_t, {
            "case_id": case.id, "kind": "state", "due_at": case.deadline.due_at,
            "status": "open", "level": 0})
        deadlines.append(deadline)
        outbox.append(fastsql.to_db(conn, outbox_t, {
            "idempotency_key": f"{case.id}:1:notify_institutions", "case_id": case.id,
            "seq": 1, "action": "notify_institutions",
            "payload": {"kind": "case_opened", "event": None}, "status": "done",
            "created_at": e.at, "attempts": 0, "done_at": e.at}))
        if is_due:
            bench.due.append(case.id)
            bench.rows.append((values, deadline["due_at"]))
    with conn.execution_options(**WRITE).begin():
        for table, batch in ((person_t, people), (case_t, rows), (event_t, events),
                             (deadline_t, deadlines), (outbox_t, outbox)):
            insert(conn, table, batch)


def insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """executemany on SQLite, COPY on PostgreSQL: many times what an INSERT a row gives."""
    if conn.dialect.name != "postgresql":
        fastsql.run(conn, fastsql.statements("sqlite").insert(table, rows[0]), rows)
        return
    cols = list(rows[0])
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    names = ", ".join(f'"{c}"' for c in cols)
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[c] for c in cols])


def reset(bench: Bench) -> None:
    """Put the due cases back as they were: their sweep events and outbox rows gone."""
    sql = fastsql.statements(bench.engine.dialect.name)
    sets = [c for c in bench.rows[0][0] if c != "id"]
    with bench.engine.connect() as conn, conn.execution_options(**WRITE).begin():
        fastsql.run(conn, f"DELETE FROM case_event WHERE case_id = {sql.p('id')} AND seq > 1",
                    [{"id": i} for i in bench.due])
        fastsql.run(conn, sql.update(case_t, ["id"], sets),
                    [{**{c: v[c] for c in sets}, "w_id": v["id"]} for v, _ in bench.rows])
        fastsql.run(conn, sql.update(deadline_t, ["case_id", "kind"], ["due_at", "status",
                                                                      "level"]),
                    [{"w_case_id": v["id"], "w_kind": "state", "due_at": due, "status": "open",
                      "level": 0} for v, due in bench.rows])
        fastsql.run(conn, f"DELETE FROM outbox WHERE id > {sql.p('id')}",
                    {"id": bench.outbox_max})
    if bench.pg:
        vacuum(bench.engine)


def vacuum(engine: Engine) -> None:
    """Without it, each round's dead index entries in the due range slow the next round."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql('VACUUM (ANALYZE) person, "case", case_event, deadline, outbox')


# -- the contenders -------------------------------------------------------------------------


def run_engine(bench: Bench) -> float:
    start = time.perf_counter()
    report = bench.services.sweep_deadlines(bench.now)
    seconds = time.perf_counter() - start
    assert (report.handled, report.skipped) == (len(bench.due), 0), report
    return seconds


def run_raw(bench: Bench) -> float:
    return Raw(bench).run()


class Raw:
    """The same rows, by hand, through the driver: the floor the sweep is measured against."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.ph = "%s" if bench.pg else "?"
        self.now: Any = bench.now if bench.pg else db_time(bench.now)
        grace = bench.services.policy.reminder_grace.due_after(bench.now, calendar("CH-NE"))
        self.grace: Any = grace if bench.pg else db_time(grace)
        self.memory = json.dumps({"deadline": {"due_at": grace.isoformat(), "status": "open",
                                               "level": 1}, "handoff": None, "signoff": None,
                                  "handed_on": [], "refusals": 0})
        self.data = json.dumps({"deadline_at": grace.isoformat(), "lag_s": 1234567.0,
                                "actions": ["remind_owner"]})

    def run(self) -> float:
        raw = self.bench.engine.raw_connection()
        cur = raw.cursor()
        handled, seen = 0, set[str]()
        start = time.perf_counter()
        while True:
            due = self.due(cur, seen)
            raw.commit()
            if not due:
                break
            for row in due:
                seen.add(row["id"])
                handled += self.write(raw, cur, row)
        seconds = time.perf_counter() - start
        raw.close()
        assert handled == len(self.bench.due), handled
        return seconds

    def due(self, cur: Any, seen: set[str]) -> list[dict[str, Any]]:
        cur.execute(f'SELECT "case".* FROM deadline JOIN "case" ON "case".id = deadline.case_id '
                    f"WHERE deadline.status = 'open' AND deadline.due_at <= {self.ph} "
                    f"ORDER BY deadline.due_at LIMIT 500", (self.now,))
        names = [d[0] for d in cur.description]
        rows = (dict(zip(names, r, strict=True)) for r in cur.fetchall())
        return [row for row in rows if row["id"] not in seen]

    def write(self, raw: Any, cur: Any, row: dict[str, Any]) -> bool:
        """One transaction: the case on its version, the event, the deadline, the outbox."""
        ph, cid, v = self.ph, row["id"], row["version"]
        if not self.bench.pg:
            cur.execute("BEGIN IMMEDIATE")
        cur.execute(f'UPDATE "case" SET version = {ph}, escalation_level = 1, memory = {ph}, '
                    f"last_hash = {ph} WHERE id = {ph} AND version = {ph}",
                    (v + 1, self.memory, "1" * 64, cid, v))
        if cur.rowcount != 1:
            raw.rollback()
            return False
        cur.execute(f"INSERT INTO case_event (case_id, seq, at, kind, actor, institution, event, "
                    f"from_state, to_state, reason, data, route_version, prev_hash, hash) "
                    f"VALUES ({', '.join([ph] * 14)})",
                    (cid, v + 1, self.now, "deadline_reminded", "system", "CII-NE", None,
                     row["state"], row["state"], DEADLINE_PASSED, self.data,
                     row["route_version"], row["last_hash"], "1" * 64))
        cur.execute(f"UPDATE deadline SET due_at = {ph}, status = 'open', level = 1 "
                    f"WHERE case_id = {ph} AND kind = 'state'", (self.grace, cid))
        cur.execute(f"INSERT INTO outbox (idempotency_key, case_id, seq, action, payload, "
                    f"status, created_at, attempts) VALUES ({', '.join([ph] * 8)})",
                    (f"{cid}:{v + 1}:remind_owner", cid, v + 1, "remind_owner",
                     '{"kind": "deadline_reminded", "event": null}', "pending", self.now, 0))
        raw.commit()
        return True


def run_query(bench: Bench) -> float:
    """The bare indexed SELECT of every due row, nothing done with them."""
    raw = bench.engine.raw_connection()
    cur = raw.cursor()
    ph = "%s" if bench.pg else "?"
    start = time.perf_counter()
    cur.execute(f"SELECT case_id FROM deadline WHERE status = 'open' AND due_at <= {ph} "
                f"ORDER BY due_at", (bench.now if bench.pg else db_time(bench.now),))
    n = len(cur.fetchall())
    seconds = time.perf_counter() - start
    raw.commit()
    raw.close()
    assert n == len(bench.due), n
    return seconds


def db_time(at: datetime) -> str:
    """A time as SQLAlchemy stores it in SQLite (UTC text), so comparisons match the engine's."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# -- checks ---------------------------------------------------------------------------------


def explain(bench: Bench) -> None:
    """The plan of the very statement ``CaseRepository.due`` sends, with its parameters."""
    sent: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        sent.append((statement, params))

    with bench.engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", capture)
        CaseRepository(conn).due(bench.now, 500)
        event.remove(conn, "before_cursor_execute", capture)
        statement, params = sent[-1]
        prefix = "EXPLAIN " if bench.pg else "EXPLAIN QUERY PLAN "
        plan = [str(row[-1]) for row in conn.exec_driver_sql(prefix + statement, params)]
    print("  due query: " + " ".join(statement.split()))
    print("  plan:\n" + "\n".join(f"    {line}" for line in plan))
    if not any(INDEX in line for line in plan):
        print(f"  WARNING: the due query does not use {INDEX}")


def audit(bench: Bench) -> None:
    """After an engine run: a sample of swept cases and of untouched ones passes the audit,
    and a second sweep finds nothing left to do."""
    ids = bench.due[:AUDITED]
    with bench.engine.connect() as conn:
        due = set(bench.due)
        ids += [i for (i,) in conn.execute(select(case_t.c.id).limit(AUDITED))
                if i not in due][:AUDITED // 4]
        rows = {r.id: r for r in conn.execute(select(case_t).where(case_t.c.id.in_(ids)))}
        events: dict[str, list[Event]] = {i: [] for i in ids}
        for r in conn.execute(select(event_t).where(event_t.c.case_id.in_(ids))
                              .order_by(event_t.c.case_id, event_t.c.seq)):
            events[r.case_id].append(event_from(r))
        deadlines = {(r.case_id, r.kind): r for r in conn.execute(
            select(deadline_t).where(deadline_t.c.case_id.in_(ids)))}
        pending = {r.case_id: r for r in conn.execute(select(handoff_t).where(
            handoff_t.c.case_id.in_(ids), handoff_t.c.status == "proposed"))}
    problems = [p for i in ids for p in _check(rows[i], events[i], deadlines, pending)]
    swept = sum(len(events[i]) == 2 for i in ids)
    again = bench.services.sweep_deadlines(bench.now).handled
    said = "; ".join(map(str, problems[:3])) or "chains and replays hold"
    print(f"  audit of {len(ids)} cases ({swept} swept): {said}; second sweep: {again}")
    assert not problems and swept == min(AUDITED, len(bench.due)) and again == 0


# -- the comparison -------------------------------------------------------------------------


def compare(name: str, engine: Engine, n_open: int, share: float, rounds: int) -> None:
    print(f"{name}: {n_open:,} open deadlines, {share:.1%} due")
    bench = setup(engine, n_open, share)
    explain(bench)
    run_query(bench)  # warm up: the due range of the index and its rows in the page cache
    runs: dict[str, list[float]] = {"engine": [], "raw": [], "query": []}
    ratios: list[float] = []
    contenders: dict[str, Callable[[Bench], float]] = {"engine": run_engine, "raw": run_raw}
    for r in range(rounds):
        order = ["engine", "raw"] if r % 2 == 0 else ["raw", "engine"]
        for who in order:
            runs["query"].append(run_query(bench))
            runs[who].append(contenders[who](bench))
            if who == "engine" and r == rounds - 1:
                audit(bench)
            reset(bench)
        ratios.append(runs["engine"][-1] / runs["raw"][-1])
        print(f"  round {r + 1}: " + "   ".join(f"{k} {v[-1]:.3f} s" for k, v in runs.items())
              + f"   sweep / raw {ratios[-1]:.2f}")
    report(bench, {k: statistics.median(v) for k, v in runs.items()}, rounds)
    # side by side in each round, so a busy neighbour weighs on both: the steadier figure
    print(f"    median of the rounds' own ratios {statistics.median(ratios):.2f} x")


def report(bench: Bench, median: dict[str, float], rounds: int) -> None:
    n = len(bench.due)
    e, r, q = median["engine"], median["raw"], median["query"]
    print(f"  medians of {rounds} rounds, {n:,} due cases:\n"
          f"    sweep (engine) {e:8.2f} s  {n / e:8.0f} cases/s\n"
          f"    raw SQL        {r:8.2f} s  {n / r:8.0f} cases/s\n"
          f"    bare query     {q:8.3f} s  {n / q:8.0f} rows/s\n"
          f"    sweep / raw    {e / r:8.2f} x  (target <= 2x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--open", type=int, default=1_000_000, help="open deadlines")
    parser.add_argument("--due-share", type=float, default=0.01, help="share of them due")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/",
                        help="a server; a scratch database is created there and dropped")
    args = parser.parse_args()
    if args.db == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{Path(tmp) / 'sweep.sqlite3'}")
            compare("SQLite (file, WAL)", engine, args.open, args.due_share, args.rounds)
            engine.dispose()
    else:
        with scratch_database(args.postgres) as url:
            engine = make_engine(url)
            with engine.connect() as conn:
                version = conn.exec_driver_sql("SHOW server_version").scalar()
            compare(f"PostgreSQL {version}", engine, args.open, args.due_share, args.rounds)
            engine.dispose()


@contextmanager
def scratch_database(server: str) -> Iterator[str]:
    """Our own database on the server, never the tests' one, dropped afterwards."""
    url = make_url(server)
    admin = make_engine(url.set(database="postgres").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")
    drop = f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)'
    with admin.connect() as conn:
        conn.exec_driver_sql(drop)
        conn.exec_driver_sql(f'CREATE DATABASE "{SCRATCH}"')
    try:
        yield url.set(database=SCRATCH).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(drop)
        admin.dispose()


if __name__ == "__main__":
    main()
