"""The orchestration's two figures: what Prefect costs per action, and the timer lag.

1. Prefect's cost per action: the same ``notify_institutions`` action (three mails to the
   .eml folder, its result recorded as an event) run as a Prefect flow with its tasks, and
   run as plain Python (the flow's and tasks' own functions), alternating, on one database.
2. Timer lag under a steady load: deadlines falling due at a steady rate (due times spread
   over a window) while a client opens and moves cases, and the orchestration (sweep thread
   every ``--sweep-every`` s, dispatcher thread) runs as in ``relais serve``. Lag = time of
   handling - due time, read from the events (``lag_s``).

    python -m bench.orchestration [--actions 40] [--due 600] [--window 60] [--sweep-every 15]

SQLite file database, Prefect in ephemeral mode (its own SQLite), offline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from prefect.settings import (
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    temporary_settings,
)
from sqlalchemy import text

from relais.cases.services import CaseServices
from relais.cases.store.ops import percentile, timer_lags
from relais.cases.store.outbox import Outbox
from relais.demo import COORD, ORP, avs
from relais.orchestration import actions
from relais.orchestration.channels import FolderMailer, FolderSms
from relais.orchestration.dispatch import parameters
from relais.orchestration.orchestrator import Orchestrator
from relais.orchestration.runtime import Runtime, install
from relais.orchestration.sources import Sources
from relais.wiring import build_services


def person(n: int) -> dict[str, Any]:
    return {"avs": avs(300_000 + n), "official_name": "Banc", "first_name": "Essai",
            "birth_date": "1980-01-01"}


def setup(folder: Path) -> tuple[CaseServices, Runtime]:
    services = build_services(f"sqlite:///{folder / 'bench.sqlite3'}")
    rt = Runtime(services, FolderMailer(folder / "mail", "relais@bench"),
                 FolderSms(folder / "sms"), Sources({"*": "demo"}))
    install(rt)
    return services, rt


# -- 1. Prefect's cost per action ------------------------------------------------------------

def prefect_cost(services: CaseServices, n: int) -> dict[str, float]:
    for i in range(2 * n):  # each opening queues notify_institutions
        services.open_case(route="reseau-cii", person=person(i), actor=ORP, fields={})
    work = Outbox(services.engine).claim("bench", services.clock(), limit=2 * n)
    plain_tasks = {"send_mail": actions.send_mail.fn, "send_sms": actions.send_sms.fn}
    with_prefect, plain = [], []
    for a, b in zip(work[0::2], work[1::2], strict=True):
        t = time.perf_counter()
        actions.notify(parameters(a))
        with_prefect.append(time.perf_counter() - t)
        saved = {k: getattr(actions, k) for k in plain_tasks}
        for k, fn in plain_tasks.items():
            setattr(actions, k, fn)
        try:
            t = time.perf_counter()
            actions.notify.fn(parameters(b))
            plain.append(time.perf_counter() - t)
        finally:
            for k, v in saved.items():
                setattr(actions, k, v)
    first = with_prefect.pop(0)  # the first run starts the ephemeral server
    p, q = statistics.median(with_prefect), statistics.median(plain)
    return {"first_run_s": round(first, 2), "prefect_ms": round(p * 1000, 1),
            "plain_ms": round(q * 1000, 1), "prefect_cost_ms": round((p - q) * 1000, 1),
            "ratio": round(p / q, 2)}


# -- 2. Timer lag under a steady load -----------------------------------------------------------

def spread_deadlines(services: CaseServices, n: int, start: datetime, window_s: float) -> None:
    """Open ``n`` cases at triage and make their deadlines fall due one after another."""
    ids = []
    for i in range(n):
        case = services.open_case(route="reseau-cii", person=person(10_000 + i), actor=ORP,
                                  fields={"consentement": True}).case
        services.fire(case.id, "transmettre", actor=ORP)
        ids.append(case.id)
    with services.engine.begin() as conn:
        for i, case_id in enumerate(ids):
            due = start + timedelta(seconds=window_s * i / n)
            conn.execute(text("UPDATE deadline SET due_at = :d WHERE case_id = :c "
                              "AND kind = 'state'"),
                         {"d": due.strftime("%Y-%m-%d %H:%M:%S.%f"), "c": case_id})
            conn.execute(text("UPDATE \"case\" SET memory = json_set(memory, "
                              "'$.deadline.due_at', :d) WHERE id = :c"),
                         {"d": due.isoformat(), "c": case_id})
        conn.execute(text("UPDATE outbox SET status = 'done'"))  # start with an empty queue


def steady_client(services: CaseServices, stop: threading.Event, per_s: float,
                  counts: dict[str, int]) -> None:
    """Open a case and move it twice, ``per_s`` times a second: three events, two actions."""
    n = 0
    while not stop.is_set():
        t = time.monotonic()
        case = services.open_case(route="reseau-cii", person=person(50_000 + n), actor=ORP,
                                  fields={"age": 40, "consentement": True}).case
        services.fire(case.id, "transmettre", actor=ORP)
        services.fire(case.id, "retenir", actor=COORD)
        n += 1
        counts["opened"] = n
        stop.wait(max(0.0, 1 / per_s - (time.monotonic() - t)))


def timer_lag(services: CaseServices, rt: Runtime, due: int, window_s: float,
              sweep_every_s: float, load_per_s: float, threads: int) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(seconds=5)
    spread_deadlines(services, due, start, window_s)
    orchestra = Orchestrator(rt, worker="bench", poll_s=0.2, sweep_every_s=sweep_every_s,
                             threads=threads)
    stop, counts = threading.Event(), {"opened": 0}
    client = threading.Thread(target=steady_client, args=(services, stop, load_per_s, counts))
    orchestra.start()
    client.start()
    end = start + timedelta(seconds=window_s + sweep_every_s + 10)
    while datetime.now(UTC) < end:
        time.sleep(1)
    stop.set()
    client.join()
    orchestra.stop()
    lags = timer_lags(services.engine, start - timedelta(minutes=1))
    with services.engine.connect() as conn:
        backlog = conn.execute(text("SELECT count(*) FROM outbox WHERE status != 'done'")
                               ).scalar()
        done = conn.execute(text("SELECT count(*) FROM outbox WHERE status = 'done' AND "
                                 "done_at >= :s"),
                            {"s": start.strftime("%Y-%m-%d %H:%M:%S.%f")}).scalar()
    return {"dispatch_threads": threads, "deadlines_due": due, "handled": len(lags),
            "window_s": window_s,
            "sweep_every_s": sweep_every_s, "lag_p50_s": percentile(lags, 50),
            "lag_p99_s": percentile(lags, 99), "lag_max_s": lags[-1] if lags else None,
            "client_cases_opened": counts["opened"], "actions_done": done,
            "outbox_backlog_at_end": backlog}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=40)
    parser.add_argument("--due", type=int, default=600)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--sweep-every", type=float, default=15.0)
    parser.add_argument("--load", type=float, default=2.0, help="client cases per second")
    parser.add_argument("--threads", type=int, default=1, help="dispatch threads")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, \
            temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        services, rt = setup(Path(tmp))
        print("Prefect cost per action:", prefect_cost(services, args.actions), flush=True)
        print("Timer lag:", timer_lag(services, rt, args.due, args.window, args.sweep_every,
                                      args.load, args.threads), flush=True)


if __name__ == "__main__":
    main()
