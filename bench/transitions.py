"""Transitions per second through ``CaseServices.fire`` against the raw SQL of the same rows.

Each transition, in both runs, is one transaction that reads the case row, inserts the event,
updates the case row on its version, updates its deadline and inserts an outbox row. The
engine adds the rest: owner check, field check, guard, python-statemachine, hash chain,
deadline in working days. Both run side by side in rounds (engine, raw, engine, raw...) on the
same database file or server; the medians are reported.

    python -m bench.transitions [--sqlite] [--postgres URL] [--n 2000] [--rounds 5]
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from relais.cases.domain.actors import Actor
from relais.cases.domain.decide import EventInput
from relais.cases.services import CaseServices
from relais.demo import avs
from relais.institutions.registry import Kind, Role
from relais.migrate import upgrade

from .databases import arguments, on_each

ROUTE = """
id: banc
version: 1
title: {fr: Banc d'essai}
institutions: [AC]
calendar: CH-NE
initial: a
outcomes: {fini: {fr: Fini}}
fields: {score: {type: integer, min: 0, max: 10}}
states:
  a: {owner: lead, deadline: 5 working days, actions: [notify_person]}
  b: {owner: lead, deadline: 10 working days, actions: [notify_person]}
  fin: {final: true}
transitions:
  - {event: aller, from: a, to: b, guard: score >= 1}
  - {event: retour, from: b, to: a, guard: score >= 1}
  - {event: clore, from: [a, b], to: fin, require: [outcome]}
  - {event: noter, from: a, to: a, guard: score >= 1}
  - {event: noter, from: b, to: b, guard: score >= 1}
"""
ORP = Actor("bench", "ORP-NE", Kind.AC, Role.case_manager)
CASES = 100


def setup(engine: Engine) -> tuple[CaseServices, list[str]]:
    upgrade(engine)
    services = CaseServices(engine)
    services.publish_route(ROUTE, by="bench")
    ids = [services.open_case(route="banc", actor=ORP, fields={"score": 5}, person={
        "avs": avs(900000 + i), "official_name": "Banc", "first_name": "Essai",
        "birth_date": "1980-01-01"}).case.id for i in range(CASES)]
    return services, ids


def run_engine(services: CaseServices, ids: list[str], n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        case_id = ids[i % len(ids)]
        state = services.get(case_id).state if i < len(ids) else None
        event = "aller" if (state or _states[case_id]) == "a" else "retour"
        out = services.fire(case_id, event, actor=ORP, data=EventInput())
        _states[case_id] = out.case.state
    return n / (time.perf_counter() - start)


_states: dict[str, str] = {}


def run_raw(engine: Engine, n: int) -> float:
    """The same rows, by hand, through the driver: the floor the engine is measured against."""
    raw = engine.raw_connection()
    is_pg = engine.dialect.name == "postgresql"
    ph = "%s" if is_pg else "?"
    cur = raw.cursor()
    ids = [str(uuid.uuid4()) for _ in range(CASES)]
    now = datetime.now(UTC)
    memory = json.dumps({"deadline": {"due_at": now.isoformat(), "status": "open", "level": 0},
                         "handoff": None, "signoff": None, "handed_on": [], "refusals": 0})
    data = json.dumps({"deadline_at": now.isoformat(), "actions": ["notify_person"]})
    if is_pg:
        cur.execute("BEGIN")
    cur.execute(f"SELECT id FROM person LIMIT 1")  # noqa: F541
    person = cur.fetchone()[0]
    for cid in ids:
        cur.execute(f'INSERT INTO "case" (id, person_id, route_id, route_version, state, lead, '
                    f"manager, version, opened_at, transfers, escalation_level, fields, memory, "
                    f"last_hash) VALUES ({', '.join([ph] * 14)})",
                    (cid, person, "banc", 1, "a", "ORP-NE", "bench", 1, now, 0, 0,
                     '{"score": 5}', memory, "0" * 64))
        cur.execute(f"INSERT INTO deadline (case_id, kind, due_at, status, level) "
                    f"VALUES ({ph}, 'state', {ph}, 'open', 0)", (cid, now))
    raw.commit()
    versions = dict.fromkeys(ids, 1)
    start = time.perf_counter()
    for i in range(n):
        cid = ids[i % CASES]
        if not is_pg:
            cur.execute("BEGIN IMMEDIATE")
        cur.execute(f'SELECT * FROM "case" WHERE id = {ph}', (cid,))
        cur.fetchone()
        v = versions[cid]
        cur.execute(f"INSERT INTO case_event (case_id, seq, at, kind, actor, institution, event, "
                    f"from_state, to_state, reason, data, route_version, prev_hash, hash) "
                    f"VALUES ({', '.join([ph] * 14)})",
                    (cid, v + 1, now, "transitioned", "bench", "ORP-NE", "aller", "a", "b", None,
                     data, 1, "0" * 64, "1" * 64))
        cur.execute(f'UPDATE "case" SET state = {ph}, version = {ph}, memory = {ph}, '
                    f"last_hash = {ph} WHERE id = {ph} AND version = {ph}",
                    ("b", v + 1, memory, "1" * 64, cid, v))
        cur.execute(f"UPDATE deadline SET due_at = {ph}, status = 'open', level = 0 "
                    f"WHERE case_id = {ph} AND kind = 'state'", (now, cid))
        cur.execute(f"INSERT INTO outbox (idempotency_key, case_id, seq, action, payload, status, "
                    f"created_at, attempts) VALUES ({', '.join([ph] * 8)})",
                    (f"{cid}:{v + 1}:notify_person", cid, v + 1, "notify_person",
                     '{"kind": "transitioned"}', "pending", now, 0))
        raw.commit()
        versions[cid] = v + 1
    rate = n / (time.perf_counter() - start)
    raw.close()
    return rate


def compare(name: str, engine: Engine, n: int, rounds: int) -> dict[str, Any]:
    services, ids = setup(engine)
    _states.clear()
    run_engine(services, ids, min(n, 300))  # warm up: caches, compiled machine, connections
    engine_rates, raw_rates = [], []
    for _ in range(rounds):
        engine_rates.append(run_engine(services, ids, n))
        raw_rates.append(run_raw(engine, n))
    e, r = statistics.median(engine_rates), statistics.median(raw_rates)
    print(f"{name:<22} engine {e:8.0f} transitions/s   raw SQL {r:8.0f} /s   "
          f"ratio {e / r:6.1%}   (median of {rounds} rounds of {n})")
    return {"db": name, "engine_per_s": round(e), "raw_per_s": round(r), "ratio": e / r}


def main() -> None:
    args = arguments(__doc__, 2000)
    on_each(args, lambda label, engine: compare(label, engine, args.n, args.rounds),
            "PostgreSQL 15")


if __name__ == "__main__":
    main()
