"""A simulated history for the steering bench: cases on the three shipped routes over six
years, each walked through its route with realistic stays, deadlines passed, handoffs
refused or expired, signatures, actions and documents, written with COPY.

The case ids are random UUIDs as the services make them, and the tables are laid out in time
order (CLUSTER) as a live system appends them: both matter to what a period costs to read.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import multiprocessing
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from relais.cases.services import CaseServices
from relais.cases.store.derived import StayClock
from relais.institutions.registry import Registry, default_registry
from relais.wiring import publish_standard_routes, standard_route_texts
from relais.workflows.engine.model import Route
from relais.workflows.engine.validate import parse_route

START = datetime(2020, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 1, 1, tzinfo=UTC)  # the history ends here; later cases stay open
NULL = r"\N"
MIX = {"reseau-cii": 0.5, "cmfp": 0.3, "ne-eso": 0.2}
# how likely each event is, where several leave a state (1 where not named)
WEIGHTS = {
    "reseau-cii": {"ecarter": 0.12, "transmettre": 1, "retenir": 0.55, "orienter": 0.2,
                   "revoir": 0.15, "reevaluer": 0.08, "confier": 0.1, "solution_trouvee": 0.5,
                   "cloturer": 0.35, "interrompre": 0.08, "lancer": 1, "planifier": 1},
    "cmfp": {"ecarter": 0.3, "admettre": 0.7, "revoir": 0.15, "demander_bilan_ai": 0.12,
             "cloturer": 0.45},
    "ne-eso": {"refuser": 0.3, "admettre_stage": 0.7, "renoncer": 0.3, "engager": 0.7,
               "reevaluer": 0.3, "cloturer": 0.7},
}

def days(d: Any) -> float:
    """A deadline's length in calendar days, roughly."""
    return d.n * {"working_days": 1.4, "days": 1, "weeks": 7, "months": 30.4}[d.unit]


@dataclass
class Case:
    id: str
    route: Route
    lead: str
    rng: random.Random
    at: datetime
    state: str = ""
    seq: int = 0
    prev: str = "0" * 64
    events: list[str] = field(default_factory=list)  # COPY lines
    handed_on: list[str] = field(default_factory=list)
    revolving: str | None = None
    closed_at: datetime | None = None
    outcome: str | None = None
    clock: StayClock = field(default_factory=StayClock)  # the derived columns, as written

    def add(self, kind: str, who: str, *, ev: str | None = None, frm: str | None = None,
            to: str | None = None, reason: str | None = None, **data: Any) -> None:
        self.seq += 1
        h = hashlib.sha256(f"{self.id}{self.seq}{self.prev}".encode()).hexdigest()
        # the columns the services derive when they write an event (cases/store/derived.py)
        d = self.clock.columns(kind, frm, to, self.at, data)
        entered, flag = d["entered_at"], d["revolving_door"]
        # COPY text: our values hold no tab, newline or backslash (JSON without \\u escapes)
        self.events.append(
            f"{self.id}\t{self.seq}\t{self.at.isoformat()}\t{kind}\t{who.lower()}\t{who}\t"
            f"{ev or NULL}\t{frm or NULL}\t{to or NULL}\t{reason or NULL}\t"
            f"{json.dumps(data, ensure_ascii=False)}\t{self.route.version}\t{self.prev}\t{h}\t"
            f"{entered.isoformat() if entered else NULL}\t{d['lead_from'] or NULL}\t"
            f"{d['lead_to'] or NULL}\t{NULL if flag is None else 't' if flag else 'f'}\n")
        self.prev = h

    def wait(self, d: float) -> bool:
        self.at += timedelta(days=d, seconds=self.rng.randrange(86400))
        return self.at < NOW


def candidates(reg: Registry, route: Route, name: str | None) -> list[str]:
    names = route.institutions if name in (None, "choose") else (name,)
    return [c for n in names for c in _covered(reg, n)]


_MOVES: dict[tuple[str, str], tuple[list[Any], list[float]]] = {}


def _moves(r: Route, state: str) -> tuple[list[Any], list[float]]:
    """The transitions that leave ``state`` (and the one self-loop kept), with their odds."""
    if (r.id, state) not in _MOVES:
        moves = [t for t in r.transitions_from(state)
                 if t.target != state or t.event == "reevaluer"]
        _MOVES[r.id, state] = moves, [WEIGHTS[r.id].get(t.event, 1) for t in moves]
    return _MOVES[r.id, state]


@functools.cache
def _covered(reg: Registry, name: str) -> list[str]:
    return [i.code for i in reg.covered_by(name)]


def simulate(case: Case, reg: Registry) -> None:
    r, rng = case.route, case.rng
    case.state = r.initial
    case.add("case_opened", case.lead, to=r.initial, route=r.id, lead=case.lead,
             fields={"age": rng.randrange(18, 60)}, actions=[])
    while not r.states[case.state].final:
        spec = r.states[case.state]
        for action in spec.actions[:2]:  # the work around the route, a day later
            case.at += timedelta(hours=rng.uniform(1, 30))
            case.add("action_done", "CII-NE", action=action, key=f"{case.seq}/{action}")
        limit = days(spec.deadline) if spec.deadline else 30
        stay = rng.lognormvariate(0, 0.5) * limit * 0.6
        if rng.random() < 0.2:
            case.add("fields_updated", case.lead, frm=case.state, to=case.state,
                     fields={"age": rng.randrange(18, 60)})
        if stay > limit and spec.on_deadline != "escalate":
            if not case.wait(limit):
                return
            t = next(t for t in r.transitions_from(case.state) if t.event == spec.on_deadline)
            case.add("transitioned", "CII-NE", ev=t.event, frm=case.state, to=t.target,
                     reason="délai échu / deadline passed", lag_s=rng.uniform(1, 15),
                     deadline_at=None, actions=[])
            case.state = t.target
            continue
        if stay > limit:
            if not case.wait(limit):
                return
            case.add("deadline_reminded", "CII-NE", frm=case.state, to=case.state,
                     reason="délai échu / deadline passed", lag_s=rng.uniform(1, 15))
            if stay > limit * 1.3:
                if not case.wait(3):
                    return
                case.add("deadline_escalated", "CII-NE", frm=case.state, to=case.state,
                         reason="délai échu / deadline passed", lag_s=rng.uniform(1, 15))
                if not case.wait(rng.uniform(1, 5)):
                    return
                case.add("escalation_settled", "CII-NE", frm=case.state, to=case.state,
                         reason="table ronde", deadline_at=None)
            stay = max(1.0, stay - limit - 3)
        if not case.wait(stay):
            return
        moves, odds = _moves(r, case.state)
        t = rng.choices(moves, odds)[0]
        if not take(case, reg, t):
            return


def take(case: Case, reg: Registry, t: Any) -> bool:
    r, rng = case.route, case.rng
    target = r.states[t.target]
    outcome = None
    if target.final and target.needs_outcome:
        outcome = rng.choice(sorted(r.outcomes))
    for kind in t.signoff:
        case.add("signed", candidates(reg, r, kind)[0], ev=t.event, frm=case.state)
        case.at += timedelta(hours=rng.uniform(2, 48))
    entering = {"deadline_at": None, "actions": list(target.actions)}
    if target.final:
        entering.update(closed=True, outcome=outcome)
    receivers = [c for c in candidates(reg, r, t.lead) if c != case.lead] if t.lead else []
    if not receivers:
        case.add("transitioned", case.lead, ev=t.event, frm=case.state, to=t.target,
                 reason="motif" if t.require else None, **entering)
    else:
        while True:
            receiver = rng.choice(receivers)
            case.add("handoff_proposed", case.lead, ev=t.event, frm=case.state, to=t.target,
                     handoff={"id": f"h{case.seq}", "sender": case.lead, "receiver": receiver})
            answer = rng.random()
            if not case.wait(rng.uniform(0.5, 6)):
                return False
            if answer < 0.1:
                case.add("handoff_refused", receiver, ev=t.event, frm=case.state,
                         to=case.state, reason="dossier incomplet", escalated=False)
                continue
            if answer < 0.14:
                case.add("handoff_expired", "CII-NE", ev=t.event, frm=case.state,
                         to=case.state, reason="délai échu / deadline passed", escalated=True)
                if not case.wait(2):
                    return False
                continue
            break
        transfers = len(case.handed_on) + 1
        verdict = (f"retour chez {receiver}" if receiver in case.handed_on else
                   f"{transfers} transferts" if transfers > 3 else None)
        case.revolving = case.revolving or verdict
        case.handed_on.append(case.lead)
        case.add("handoff_accepted", receiver, ev=t.event, frm=case.state, to=t.target,
                 lead=receiver, transfers=transfers, handed_on=list(case.handed_on),
                 revolving_door=verdict, **entering)
        case.lead = receiver
    case.state = t.target
    if target.final:
        case.closed_at, case.outcome = case.at, outcome
    if rng.random() < 0.3:
        case.at += timedelta(hours=rng.uniform(1, 72))
        if case.at < NOW:
            case.add("document_added", case.lead, name="attestation.pdf")
    return True


CHUNK = 100_000  # events per chunk: one worker process simulates a chunk, then it is copied


def chunk(k: int) -> tuple[int, str, str, str]:
    """Chunk ``k`` of the history as COPY text: (cases, people, cases, events)."""
    reg = default_registry()
    routes = {r.id: r for r in (parse_route(t, reg)[0] for t in standard_route_texts().values())
              if r is not None}
    rng = random.Random(k)
    span = (NOW - START).total_seconds()
    people, rows, events = io.StringIO(), io.StringIO(), io.StringIO()
    n = total = 0
    while total < CHUNK:
        r = routes[rng.choices(list(MIX), list(MIX.values()))[0]]
        opened = START + timedelta(seconds=rng.uniform(0, span))
        lead = rng.choice(candidates(reg, r, None))
        person = k * 100_000 + n + 1
        case = Case(str(uuid.UUID(int=rng.getrandbits(128), version=4)), r, lead,
                    random.Random(rng.random()), opened)
        simulate(case, reg)
        _line(people, (person, f"756{person:010d}", "Banc", "Essai", "1980-01-01"))
        _line(rows, (case.id, person, r.id, r.version, case.state, case.lead, None, case.seq,
                     opened, case.closed_at, case.outcome, len(case.handed_on), case.revolving,
                     0, '{"age": 40}', MEMORY, case.prev))
        events.writelines(case.events)
        total += len(case.events)
        n += 1
    return n, people.getvalue(), rows.getvalue(), events.getvalue()


MEMORY = json.dumps({"deadline": {"due_at": None, "status": "open", "level": 0},
                     "handoff": None, "signoff": None, "handed_on": [], "refusals": 0})


def _cell(v: Any) -> str:
    if v is None:
        return r"\N"
    if isinstance(v, datetime):
        return v.isoformat()
    return str(v).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def _line(buf: io.StringIO, row: tuple[Any, ...]) -> None:
    buf.write("\t".join(map(_cell, row)))
    buf.write("\n")


EVENT_COLS = ("case_id, seq, at, kind, actor, institution, event, from_state, to_state, reason, "
              "data, route_version, prev_hash, hash, entered_at, lead_from, lead_to, "
              "revolving_door")
CASE_COLS = ("id, person_id, route_id, route_version, state, lead, manager, version, opened_at, "
             "closed_at, outcome, transfers, revolving_door, escalation_level, fields, memory, "
             "last_hash")


def fill(engine: Engine, n_events: int, workers: int = 2) -> tuple[int, int]:
    """Publish the routes, COPY chunks simulated by ``workers`` processes, then lay the tables
    out as a live system writes them (in time order) and build their indexes."""
    publish_standard_routes(CaseServices(engine))
    raw = engine.raw_connection()
    cur = raw.cursor()
    cur.execute("SELECT indexdef, indexname FROM pg_indexes WHERE tablename IN "
                "('case', 'case_event') AND indexname NOT LIKE '%%pkey'")
    indexes = cur.fetchall()
    for _, name in indexes:  # built once at the end rather than row by row
        cur.execute(f'DROP INDEX "{name}"')
    cur.execute("SET session_replication_role = replica")  # no FK triggers while loading
    n_cases = n_chunks = 0
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for n, people, rows, events in pool.imap(chunk, range(-(-n_events // CHUNK))):
            for table, cols, body in (("person", "id, avs, official_name, first_name, "
                                       "birth_date", people), ('"case"', CASE_COLS, rows),
                                      ("case_event", EVENT_COLS, events)):
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    copy.write(body)
            raw.commit()
            n_cases, n_chunks = n_cases + n, n_chunks + 1
            print(f"\r  {n_chunks * CHUNK:>11,} events, {n_cases:,} cases", end="", flush=True)
    print("; in time order and indexed...", flush=True)
    cur.execute("SET maintenance_work_mem = '1GB'")
    for table, column in (("case_event", "at"), ('"case"', "opened_at")):
        cur.execute(f"CREATE INDEX bench_order ON {table} ({column})")
        cur.execute(f"CLUSTER {table} USING bench_order")
        cur.execute("DROP INDEX bench_order")
    for definition, _ in indexes:
        cur.execute(definition)
    cur.execute("SELECT setval('person_id_seq', (SELECT max(id) FROM person))")
    cur.execute("SELECT count(*) FROM case_event")
    n_ev = cur.fetchone()[0]
    raw.commit()
    driver = raw.driver_connection
    assert driver is not None
    driver.autocommit = True
    driver.execute("VACUUM ANALYZE")  # as autovacuum leaves an append-only table: all visible
    raw.close()
    return n_cases, n_ev
