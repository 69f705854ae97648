"""Relais against SpiffWorkflow 3.2 on the same seven-step complex case (issue 14).

The route: referral, triage, joint assessment, plan, follow-up, handoff to the AI, closure,
written twice: bench/routes/complex_case.yaml for Relais, bench/routes/complex_case.bpmn
(user tasks, exclusive gateways on the same guards) for SpiffWorkflow. Each round opens N
new cases on every side (not timed) and walks them through their seven steps (timed; every
case takes step 1, then step 2...), each step one transaction on a SQLite file in WAL mode
with ``synchronous=NORMAL``:

- ``relais``: ``CaseServices`` as the API builds and calls it (``fire``, ``accept_handoff``);
- ``spiff_persisted``: SpiffWorkflow completes the ready user task, and the workflow is
  serialised and saved (JSON row + event row) at every step, as SpiffArena saves it;
- ``spiff_reloaded``: the same, but the workflow is also loaded and deserialised before each
  step, as a stateless server must;
- ``raw``: the peer's two rows alone, through the driver: the floor of its storage.

The sides alternate within each round, and the round's first side rotates; medians of the
rounds are reported, as a table and as JSON.

    python -m bench.spiff [--cases 300] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

from bench import spiff_peer as peer
from relais.cases.domain.decide import EventInput
from relais.cases.services import CaseServices
from relais.demo import OAI, ORP, avs
from relais.wiring import build_services

ROUTE = Path(__file__).parent / "routes" / "complex_case.yaml"
FIELDS = {"consentement": True, "age": 45, "demande_ai": True}  # the referral's form
SIDES = ("relais", "spiff_persisted", "spiff_reloaded", "raw")
_avs = count(700_000)  # a person of its own for every case


def relais_step(services: CaseServices, case_id: str, k: int, handoffs: dict[str, str]) -> str:
    """Step k (0-6) of a case, as the API's endpoints call the services."""
    if k < 5:  # the lead moves the case on; its fifth move proposes the handoff to the AI
        out = services.fire(case_id, ("transmettre", "retenir", "planifier", "lancer",
                                      "confier_ai")[k], actor=ORP, data=EventInput())
        if k == 4:
            assert out.case.handoff is not None, "confier_ai proposes a handoff"
            handoffs[case_id] = out.case.handoff.id
    elif k == 5:  # the AI accepts the case
        out = services.accept_handoff(handoffs.pop(case_id), actor=OAI)
    else:  # the AI, lead now, closes it
        out = services.fire(case_id, "cloturer", actor=OAI, data=EventInput(outcome="rente_ai"))
    return out.case.state


def open_cases(services: CaseServices, n: int) -> list[str]:
    return [services.open_case(route="banc-cas-complexe", actor=ORP, fields=FIELDS, person={
        "avs": avs(next(_avs)), "official_name": "Banc", "first_name": "Essai",
        "birth_date": "1980-01-01"}).case.id for _ in range(n)]


def walk_relais(services: CaseServices, ids: list[str]) -> float:
    handoffs: dict[str, str] = {}
    start = time.perf_counter()
    for k in range(len(peer.STEPS)):
        for case_id in ids:
            relais_step(services, case_id, k, handoffs)
    return len(ids) * len(peer.STEPS) / (time.perf_counter() - start)


@dataclass
class Bench:
    """Both sides on their files, and every case each side walked (for the checks)."""

    services: CaseServices
    store: peer.SpiffStore
    spec: Any
    serializations: list[str]
    walked: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in SIDES})
    rates: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in SIDES})

    @classmethod
    def on(cls, folder: Path) -> Bench:
        services = build_services(f"sqlite:///{folder / 'relais.sqlite3'}")
        services.publish_route(ROUTE.read_text(encoding="utf-8"), by="bench")
        spec = peer.load_spec()
        return cls(services, peer.SpiffStore(folder / "spiff.sqlite3"), spec,
                   peer.sample_serializations(spec))

    def side(self, name: str, n: int) -> float:
        """Open n cases on one side (not timed), walk them through the route (timed)."""
        if name == "relais":
            ids = open_cases(self.services, n)
            rate = walk_relais(self.services, ids)
        elif name == "spiff_persisted":
            workflows = peer.open_workflows(self.store, self.spec, n)
            ids = list(workflows)
            rate = peer.walk_persisted(self.store, workflows)
        elif name == "spiff_reloaded":
            ids = list(peer.open_workflows(self.store, self.spec, n))
            rate = peer.walk_reloaded(self.store, ids)
        else:
            ids = list(peer.open_workflows(self.store, self.spec, n))
            rate = peer.walk_raw(self.store, ids, self.serializations)
        self.walked[name] += ids
        return rate

    def round(self, n: int, first: int = 0) -> None:
        for name in SIDES[first:] + SIDES[:first]:
            self.rates[name].append(self.side(name, n))

    def report(self, cases: int) -> dict[str, Any]:
        med = {s: statistics.median(r) for s, r in self.rates.items()}
        return {"cases": cases, "steps": len(peer.STEPS), "rounds": len(self.rates["relais"]),
                "per_s": {s: round(v) for s, v in med.items()},
                "relais_over": {s: round(med["relais"] / med[s], 2) for s in SIDES[1:]},
                "rounds_per_s": {s: [round(v) for v in r] for s, r in self.rates.items()}}


def run(folder: Path, cases: int, rounds: int, warm_up: int = 30) -> Bench:
    bench = Bench.on(folder)
    for name in SIDES:  # caches, the compiled machine, connections, the parsed spec
        bench.side(name, min(cases, warm_up))
    bench.walked = {s: [] for s in SIDES}
    for r in range(rounds):
        bench.round(cases, first=r % len(SIDES))
    return bench


def table(report: dict[str, Any]) -> str:
    per_s, over = report["per_s"], report["relais_over"]
    lines = [f"{report['cases']} cases x {report['steps']} steps, median of "
             f"{report['rounds']} rounds (transitions/s; Relais / side)"]
    for side in SIDES:
        ratio = f"x{over[side]:.2f}" if side in over else ""
        lines.append(f"  {side:<16} {per_s[side]:>8,} /s  {ratio}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench = run(Path(tmp), args.cases, args.rounds)
        report = bench.report(args.cases)
        bench.services.engine.dispose()
        bench.store.conn.close()
    print(table(report))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
