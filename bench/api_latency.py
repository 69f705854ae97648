"""Latency of the API as it runs: ``relais serve`` (one process: the API, the pages and the
embedded orchestration working through the actions the events start), under an open-loop
load at a fixed rate (issue 14).

- The server is pinned to core 0 (``taskset -c 0``), this load generator to core 1, so that
  neither measures the other's work.
- Open loop: request i is due at ``start + i / rate`` whatever happened before; its latency
  is counted from that scheduled time, so that a stall of the server shows as the latency of
  every request that waited behind it (no coordinated omission).
- ``POST /api/cases/{id}/events`` alternates ``aller`` / ``retour`` on 100 cases of the
  transitions route; each move enters a state whose action (``notify_person``) goes to the
  outbox, so the orchestration in the same process runs Prefect flow runs all along.
- ``GET /api/cases/{id}`` the same way, for comparison.
- Saturation, if Debian's ``wrk`` is installed: a closed loop of 8 connections (core 1).
- The cost of one request in SQL statements and transactions, traced on SQLite in this
  process through the same application (``TestClient``).

    python -m bench.api_latency [--rate 200] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, event, text

from bench.api import free_port
from bench.transitions import setup
from relais.cases.store.users import add_user
from relais.db import make_engine

SERVER_CORE, LOAD_CORE = 0, 1


def prepare(db: Path) -> tuple[list[str], str]:
    """The cases of the transitions benchmark, and a token of their lead institution."""
    engine = make_engine(f"sqlite:///{db}")
    services, ids = setup(engine)
    token = add_user(engine, services.registry, name="bench", institution="ORP-NE",
                     role="case_manager", now=datetime.now(UTC))
    engine.dispose()
    return ids, token


def serve(db: Path, folder: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RELAIS_DATABASE_URL": f"sqlite:///{db}", "RELAIS_ORCHESTRATE": "true",
           "RELAIS_MAIL_FOLDER": str(folder / "mail"), "RELAIS_SMS_FOLDER": str(folder / "sms"),
           "PREFECT_HOME": str(folder / "prefect"), "DO_NOT_TRACK": "1",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}
    pin = ["taskset", "-c", str(SERVER_CORE)] if shutil.which("taskset") else []
    relais = str(Path(sys.executable).parent / "relais")
    proc = subprocess.Popen([*pin, relais, "serve", "--port", str(port)], env=env,
                            cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("relais serve did not start")


class Connections:
    """Keep-alive HTTP/1.1 connections on asyncio streams: a load generator light enough
    (tens of microseconds a request) to keep a schedule that httpx (a millisecond or more of
    CPU a request) would itself fall behind."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.auth = f"Authorization: Bearer {token}\r\n".encode()
        self.free: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def request(self, method: str, path: str, body: bytes = b"") -> int:
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n").encode() + self.auth
        if body:
            head += (b"Content-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n")
        while True:
            reused = bool(self.free)
            conn = self.free.pop() if reused else await asyncio.open_connection(
                "127.0.0.1", self.port)
            reader, writer = conn
            writer.write(head + b"\r\n" + body)
            status_line = await reader.readline()
            if status_line or not reused:  # an idle connection the server closed: another
                break
            writer.close()
        status = int(status_line.split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        self.free.append(conn)
        return status

    def close(self) -> None:
        for _, writer in self.free:
            writer.close()


async def open_loop(port: int, ids: list[str], token: str, *, post: bool, rate: float,
                    seconds: float) -> dict[str, Any]:
    """Every request at its scheduled time; latencies from that time, in ms."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    state = dict.fromkeys(ids, "a")
    conns = Connections(port, token)

    async def one(case_id: str, due: float) -> None:
        if post:
            move = "aller" if state[case_id] == "a" else "retour"
            status = await conns.request("POST", f"/api/cases/{case_id}/events",
                                         b'{"event": "%s"}' % move.encode())
            if status == 200:
                state[case_id] = "b" if move == "aller" else "a"
        else:
            status = await conns.request("GET", f"/api/cases/{case_id}")
        statuses[status] += 1
        latencies.append((time.perf_counter() - due) * 1000)

    tasks = []
    begin = time.perf_counter() + 0.05
    for i in range(int(seconds * rate)):
        due = begin + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(ids[i % len(ids)], due)))
    await asyncio.gather(*tasks)
    conns.close()
    latencies.sort()
    return {"requests": len(latencies), "statuses": dict(statuses),
            "p50_ms": round(statistics.median(latencies), 1),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 1),
            "max_ms": round(latencies[-1], 1)}


def saturation(base: str, ids: list[str], token: str, post: bool, seconds: int = 5
               ) -> float | None:
    """Requests/s of a closed loop of 8 connections (wrk, on the load's core)."""
    if shutil.which("wrk") is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT.format(ids=json.dumps(ids)[1:-1], post="true" if post
                                        else "false", token=token))
    try:
        out = subprocess.run(["taskset", "-c", str(LOAD_CORE), "wrk", "-t1", "-c8",
                              f"-d{seconds}s", "-s", script.name, base],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    return None


# wrk: each connection walks the cases round-robin; a POST alternates aller/retour per case
# as the cases were left (each connection keeps its own view: a refused move is a 4xx, and
# counts as a request all the same)
_WRK_SCRIPT = """
local ids = {{ {ids} }}
local post = {post}
local i = 0
local moved = {{}}
request = function()
  i = i + 1
  local id = ids[(i % #ids) + 1]
  local headers = {{["Authorization"] = "Bearer {token}",
                    ["Content-Type"] = "application/json"}}
  if post then
    local move = moved[id] and "retour" or "aller"
    moved[id] = not moved[id]
    return wrk.format("POST", "/api/cases/" .. id .. "/events", headers,
                      '{{"event": "' .. move .. '"}}')
  end
  return wrk.format("GET", "/api/cases/" .. id, headers)
end
"""


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    """The SQL the connections checked out meanwhile ran, and a BEGIN per transaction."""
    seen: list[str] = []

    def checkout(dbapi: Any, _record: Any, _proxy: Any) -> None:
        dbapi.set_trace_callback(seen.append)

    def checkin(dbapi: Any, _record: Any) -> None:
        dbapi.set_trace_callback(None)

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)


def request_cost(db: Path, ids: list[str], token: str) -> dict[str, dict[str, int]]:
    """Statements and transactions of one GET and one POST, through the same application."""
    from fastapi.testclient import TestClient

    from relais.wiring import build_app, build_services
    services = build_services(f"sqlite:///{db}", migrate=False)
    app = build_app(services)
    out = {}
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        case_id = ids[0]
        client.get(f"/api/cases/{case_id}")  # warm: the route's cache, the pool
        state = client.get(f"/api/cases/{case_id}").json()["state"]
        calls: list[tuple[str, Callable[[], Any]]] = [
            ("GET case", lambda: client.get(f"/api/cases/{case_id}")),
            ("POST event", lambda: client.post(
                f"/api/cases/{case_id}/events",
                json={"event": "aller" if state == "a" else "retour"}))]
        for label, call in calls:
            with counted(services.engine) as seen:
                r = call()
            assert r.status_code == 200, r.text
            out[label] = {"statements": sum(not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))
                                            for s in seen),
                          "transactions": sum(s.startswith("BEGIN") for s in seen)}
    services.engine.dispose()
    return out


def outbox(db: Path) -> dict[str, int]:
    """The outbox's rows by status."""
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM outbox GROUP BY status")).all()
    engine.dispose()
    return {str(status): int(n) for status, n in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {LOAD_CORE})
    report: dict[str, Any] = {"rate": args.rate, "seconds": args.seconds}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = folder / "bench.sqlite3"
        ids, token = prepare(db)
        report["cost"] = request_cost(db, ids, token)
        port = free_port()
        proc = serve(db, folder, port)
        base = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(open_loop(port, ids, token, post=False, rate=args.rate, seconds=2))
            done_before = outbox(db).get("done", 0)
            for label, post in (("POST event", True), ("GET case", False)):
                report[label] = asyncio.run(open_loop(port, ids, token, post=post,
                                                      rate=args.rate, seconds=args.seconds))
            report["outbox"] = outbox(db)
            report["actions_done_meanwhile"] = report["outbox"].get("done", 0) - done_before
            for label, post in (("POST event", True), ("GET case", False)):
                report[label]["saturation_rps"] = saturation(base, ids, token, post)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    for label in ("POST event", "GET case"):
        r, cost = report[label], report["cost"][label]
        sat = f"{r['saturation_rps']:.0f} req/s" if r["saturation_rps"] else "n/a (no wrk)"
        print(f"{label:<11} at {args.rate:.0f}/s: p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
              f"max {r['max_ms']} ms, statuses {r['statuses']}; saturation {sat}; "
              f"{cost['statements']} statements in {cost['transactions']} transaction(s)")
    print(f"actions run by the embedded orchestration meanwhile: "
          f"{report['actions_done_meanwhile']} (outbox now: {report['outbox']})")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
