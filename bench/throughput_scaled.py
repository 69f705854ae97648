"""Actions per second with two ``relais worker`` processes against a Prefect server on
PostgreSQL (docs/scaled.md's set-up on one machine): a flow run per row against a flow run
per claimed batch, side by side.

Real actions: ``notify_institutions`` to three partners (mail to ``.eml`` files). For each
mode, ``--actions`` rows are queued while no worker runs, then two workers start and drain
them; the rate is read from the rows' own ``done_at`` (first to last), so that the workers'
start-up (imports, Prefect's client) is not counted. CPU per action, from /proc, over the
same span: the Prefect server's and the workers'.

    python -m bench.throughput_scaled [--actions 200] [--batch 20]

Needs PostgreSQL on 127.0.0.1:5432 (trust, as the tests); makes and drops its databases.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from sqlalchemy import create_engine, text

from bench.throughput import queue
from relais.wiring import build_services
from tests.api_server import free_port
from tests.test_scaled import BIN, Processes, clean_env, scratch_database, wait_until_answers


def cpu_seconds(root: int) -> float:
    """CPU time (user + system) of process ``root`` and its live descendants, from /proc."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    tree, total = {root}, 0.0
    changed = True
    while changed:
        grown = {p for p, parent in parents.items() if parent in tree} | tree
        changed, tree = grown != tree, grown
    for pid in tree:
        total += times.get(pid, 0.0)
    return total


def rate(url: str, since: int) -> dict[str, Any]:
    """Rows after id ``since``: how many done, over how long (first to last ``done_at``)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT count(*) FILTER (WHERE status = 'done'), count(*), min(done_at), "
            "max(done_at), count(DISTINCT claimed_by) FROM outbox WHERE id > :s"),
            {"s": since}).one()
    engine.dispose()
    done, total, first, last, workers = row
    span = (last - first).total_seconds() if done > 1 else 0.0
    return {"done": done, "queued": total, "span_s": round(span, 1), "workers": workers,
            "actions_per_s": round((done - 1) / span, 1) if span else None}


def last_id(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text("SELECT coalesce(max(id), 0) FROM outbox")).scalar()
    engine.dispose()
    return int(value or 0)


def drain(url: str, since: int, count: int, timeout: float,
          first_done: Callable[[], None]) -> None:
    """Wait until ``count`` rows after ``since`` are done; ``first_done`` when one is."""
    engine = create_engine(url)
    deadline, started = time.monotonic() + timeout, False
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                done = conn.execute(text("SELECT count(*) FROM outbox WHERE id > :s AND "
                                         "status = 'done'"), {"s": since}).scalar() or 0
            if done and not started:
                started = True
                first_done()
            if done == count:
                return
            time.sleep(0.1)
        raise TimeoutError(f"{done}/{count} done after {timeout} s")
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=200)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--modes", default="per_row,batched")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, scratch_database("prefect_bench") as pdb, \
            scratch_database("relais_bench") as rdb:
        folder = Path(tmp)
        procs = Processes(folder)
        try:
            port = free_port()
            api = f"http://127.0.0.1:{port}/api"
            procs.start("prefect", [str(BIN / "prefect"), "server", "start", "--host",
                                    "127.0.0.1", "--port", str(port)], {
                **clean_env(), "PREFECT_HOME": str(folder / "prefect-home"),
                "PREFECT_API_DATABASE_CONNECTION_URL": pdb.set(
                    drivername="postgresql+asyncpg").render_as_string(hide_password=False)})
            url = rdb.render_as_string(hide_password=False)
            relais = {**clean_env(), "RELAIS_DATABASE_URL": url}
            procs.start("upgrade", [str(BIN / "relais"), "db", "upgrade"], relais)
            procs.result("upgrade")
            wait_until_answers(f"{api}/health", procs, "prefect")
            services = build_services(url)
            n = 0
            for mode in args.modes.split(","):
                since = last_id(url)
                queue(services, args.actions, n)
                n += args.actions
                env = {**relais, "PREFECT_API_URL": api,
                       "PREFECT_HOME": str(folder / "prefect-client"),
                       "RELAIS_MAIL_FOLDER": str(folder / "mail"),
                       "RELAIS_SMS_FOLDER": str(folder / "sms"), "RELAIS_POLL_S": "0.2",
                       "RELAIS_DISPATCH_BATCH": str(args.batch),
                       "RELAIS_DISPATCH_PER_ROW": "true" if mode == "per_row" else "false"}
                workers = [procs.start(f"{mode}-{w}", [str(BIN / "relais"), "worker",
                                                       *(["--no-sweep"] if w == "b" else [])],
                                       env) for w in ("a", "b")]
                pids = {"prefect_server": [procs.running["prefect"].pid],
                        "workers": [w.pid for w in workers]}
                before: dict[str, float] = {}

                def sample(into: dict[str, float], pids: dict[str, list[int]] = pids) -> None:
                    into.update({k: sum(map(cpu_seconds, v)) for k, v in pids.items()})

                drain(url, since, args.actions, timeout=args.actions * 2.0 + 120,
                      first_done=lambda before=before: sample(before))
                after: dict[str, float] = {}
                sample(after)
                cpu = {k: after[k] - before[k] for k in after}
                for w in workers:
                    w.send_signal(signal.SIGTERM)
                for w in workers:
                    w.wait(60)
                results[mode] = rate(url, since)
                results[mode]["cpu_ms_per_action"] = {  # from the first row done to the last
                    k: round(v * 1000 / max(1, args.actions - 1)) for k, v in cpu.items()}
                print(mode, results[mode], flush=True)
            services.engine.dispose()
        finally:
            procs.stop_all()
    rates = {m: r["actions_per_s"] for m, r in results.items()}
    if rates.get("per_row") and rates.get("batched"):
        rates["ratio"] = round(rates["batched"] / rates["per_row"], 1)
    print(json.dumps({"two_workers": rates, "batch": args.batch, "actions": args.actions}))


if __name__ == "__main__":
    main()
