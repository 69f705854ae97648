"""Actions per second through Prefect: one flow run per outbox row (the former way) against
one flow run per claimed batch whose task runs are the actions (issue 15), side by side.

Real actions: ``notify_institutions`` to the three partners of a ``reseau-cii`` case (three
mails to the ``.eml`` folder, each a ``send_mail`` task run, one ``action_done`` event with
its documents). Each mode drains its own queue of ``--actions`` rows, alternately, in
``--rounds`` rounds, so that both see the same database and the same warm Prefect.

    python -m bench.throughput [--actions 200] [--rounds 2] [--batch 20] [--limits '{"smtp": 4}']

Embedded: SQLite file database, Prefect in ephemeral mode (its own SQLite), offline. The
scaled figures (two ``relais worker`` processes, a Prefect server on PostgreSQL):
``python -m bench.throughput_scaled``.
"""

from __future__ import annotations

import argparse
import json
import os
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
from relais.demo import ORP, avs
from relais.orchestration import limits
from relais.orchestration.channels import FolderMailer, FolderSms
from relais.orchestration.dispatch import Dispatcher
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


def mails(folder: Path) -> int:
    return len(list((folder / "mail").glob("*.eml")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=200, help="rows per mode and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch", type=int, default=20, help="rows per batch flow run")
    parser.add_argument("--limits", default="", help="tag concurrency limits, JSON")
    args = parser.parse_args()
    results: dict[str, list[float]] = {"per_row": [], "batched": []}
    with tempfile.TemporaryDirectory() as tmp, \
            temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        folder = Path(tmp)
        services = build_services(f"sqlite:///{folder / 'bench.sqlite3'}")
        install(Runtime(services, FolderMailer(folder / "mail", "relais@bench"),
                        FolderSms(folder / "sms"), Sources({"*": "demo"})))
        limits.apply(limits.parse(args.limits))
        warm = Dispatcher("warm", batch=2)
        queue(services, 2, 10**6)
        drain(services, warm)  # starts the ephemeral server: not counted
        n = 0
        for _ in range(args.rounds):
            for mode in ("per_row", "batched"):
                queue(services, args.actions, n)
                n += args.actions
                before = mails(folder)
                done, took = drain(services, Dispatcher(
                    mode, batch=1 if mode == "per_row" else args.batch,
                    per_row=mode == "per_row"))
                assert done == args.actions and mails(folder) - before == 3 * done
                results[mode].append(done / took)
                print(f"{mode:8} {done} actions in {took:6.1f} s: {done / took:5.1f}/s",
                      flush=True)
        with services.engine.connect() as conn:
            left = conn.execute(text("SELECT count(*) FROM outbox WHERE status != 'done'")
                                ).scalar()
    best = {mode: round(max(rates), 1) for mode, rates in results.items()}
    print(json.dumps({"actions_per_s": best, "ratio": round(best["batched"] / best["per_row"], 1),
                      "batch": args.batch, "limits": args.limits or None,
                      "outbox_left": left}))


if __name__ == "__main__":
    main()
