"""Actions per second through Prefect: one flow run per outbox row (the former way) against
one flow run per claimed batch whose task runs are the actions (issue 15), side by side.

Real actions: ``notify_institutions`` to the three partners of a ``reseau-cii`` case (three
mails to the ``.eml`` folder, each a ``send_mail`` task run, one ``action_done`` event with
its documents). Each mode drains ``--actions`` rows in a process of its own, with a fresh
database and a fresh ephemeral Prefect (its first run, which starts the server, not
counted), the modes alternating, ``--rounds`` times; ``plain`` runs the same actions
without Prefect (the flow's and tasks' own functions): the ceiling. A fresh Prefect each: run one
after the other in one process, the second mode pays for the events the first left to
Prefect's server (seen: batched 2.1/s right after 100 flow runs, against 8-10/s alone).

    python -m bench.throughput [--actions 200] [--rounds 2] [--batch 20] [--limits '{"smtp": 4}']

Embedded: SQLite file database, Prefect in ephemeral mode (its own SQLite), offline. The
scaled figures (two ``relais worker`` processes, a Prefect server on PostgreSQL):
``python -m bench.throughput_scaled``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")

from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from sqlalchemy import text

from relais.cases.services import CaseServices
from relais.cases.store.outbox import Outbox
from relais.demo import ORP, avs
from relais.orchestration import actions, limits
from relais.orchestration.channels import FolderMailer, FolderSms
from relais.orchestration.dispatch import Dispatcher, parameters
from relais.orchestration.runtime import Runtime, install
from relais.orchestration.sources import Sources
from relais.wiring import build_services


def person(n: int) -> dict[str, Any]:
    return {"avs": avs(400_000 + n), "official_name": "Débit", "first_name": "Essai",
            "birth_date": "1980-01-01"}


def queue(services: CaseServices, n: int, start: int) -> None:
    """``n`` new cases, each queuing one ``notify_institutions`` (three partners)."""
    for i in range(start, start + n):
        services.open_case(route="reseau-cii", person=person(i), actor=ORP, fields={})


def drain(services: CaseServices, dispatcher: Dispatcher) -> tuple[int, float]:
    """Run until the outbox is empty; (rows done, seconds)."""
    done, started = 0, time.perf_counter()
    while True:
        report = dispatcher.run_once()
        done += report.done
        assert report.failed == 0, report.errors
        if report.done + report.failed + report.lost == 0:
            return done, time.perf_counter() - started


def plain(services: CaseServices) -> tuple[int, float]:
    """The same actions without Prefect (the flow's and the tasks' own functions), one
    after the other: what the actions cost by themselves, the ceiling of any orchestration."""
    outbox = Outbox(services.engine)
    saved = actions.send_mail
    actions.send_mail = saved.fn
    started = time.perf_counter()
    try:
        work = outbox.claim("plain", services.clock(), limit=10**6)
        for w in work:
            actions.notify.fn(parameters(w))
            outbox.complete(w, "plain", services.clock())
    finally:
        actions.send_mail = saved
    return len(work), time.perf_counter() - started


def mails(folder: Path) -> int:
    return len(list((folder / "mail").glob("*.eml")))


def measure(mode: str, actions: int, batch: int, limits_json: str) -> dict[str, Any]:
    """One mode, in this process: its rate, in actions per second."""
    with tempfile.TemporaryDirectory() as tmp, \
            temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        folder = Path(tmp)
        services = build_services(f"sqlite:///{folder / 'bench.sqlite3'}")
        install(Runtime(services, FolderMailer(folder / "mail", "relais@bench"),
                        FolderSms(folder / "sms"), Sources({"*": "demo"})))
        limits.apply(limits.parse(limits_json))
        queue(services, 2, 10**6)
        drain(services, Dispatcher("warm", batch=2))  # starts the ephemeral server
        queue(services, actions, 0)
        before = mails(folder)
        done, took = plain(services) if mode == "plain" else drain(services, Dispatcher(
            mode, batch=1 if mode == "per_row" else batch, per_row=mode == "per_row"))
        assert done == actions and mails(folder) - before == 3 * done
        with services.engine.connect() as conn:
            left = conn.execute(text("SELECT count(*) FROM outbox WHERE status != 'done'")
                                ).scalar()
        assert left == 0
    return {"mode": mode, "actions": done, "seconds": round(took, 1),
            "actions_per_s": round(done / took, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=200, help="rows per mode and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch", type=int, default=20, help="rows per batch flow run")
    parser.add_argument("--limits", default="", help="tag concurrency limits, JSON")
    parser.add_argument("--mode", choices=["per_row", "batched", "plain"],
                        help="one mode, in this process")
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(measure(args.mode, args.actions, args.batch, args.limits)))
        return
    results: dict[str, list[float]] = {"per_row": [], "batched": [], "plain": []}
    for _ in range(args.rounds):
        for mode in results:
            with tempfile.TemporaryDirectory() as home:
                out = subprocess.run(  # this module again, in a fresh process
                    [sys.executable, "-m", "bench.throughput", "--mode", mode, "--actions",
                     str(args.actions), "--batch", str(args.batch), "--limits", args.limits],
                    env={**os.environ, "PREFECT_HOME": home}, capture_output=True,
                    text=True, check=True).stdout
            line = json.loads(out.strip().splitlines()[-1])
            results[mode].append(line["actions_per_s"])
            print(line, flush=True)
    best = {mode: max(rates) for mode, rates in results.items()}
    print(json.dumps({"actions_per_s": best, "ratio": round(best["batched"] / best["per_row"], 1),
                      "batch": args.batch, "limits": args.limits or None}))


if __name__ == "__main__":
    main()
