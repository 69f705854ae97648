"""Requests per second and latency of the API against a bare FastAPI endpoint doing the same SQL.

Both apps run the same way (uvicorn, 1 worker, uvloop + httptools) as separate processes on
the same SQLite file (WAL); the load comes from this process over loopback:

- closed loop: C concurrent clients as fast as they can -> requests/s;
- open loop: a steady 200 requests/s for D seconds -> p50 / p99 latency.

Measured: ``GET /api/cases/{id}`` (token check, visibility, read log, case + person +
allowed events) and ``POST /api/cases/{id}/events`` (a transition), against bare endpoints
that run the same statements with the driver and return the row as JSON.

    python -m bench.api [--seconds 10] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.transitions import setup
from relais.cases.store.users import add_user
from relais.db import make_engine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(module: str, db: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RELAIS_DATABASE_URL": f"sqlite:///{db}", "BENCH_DB": str(db)}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", module, "--factory", "--port",
                             str(port), "--log-level", "warning", "--loop", "uvloop",
                             "--http", "httptools", "--workers", str(workers)], env=env)
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{module} did not start")


async def closed_loop(urls: list[str], method: str, headers: dict[str, str], body: object,
                      seconds: float, concurrency: int) -> float:
    done = 0
    stop = time.perf_counter() + seconds
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        async def worker(k: int) -> None:
            nonlocal done
            i = k
            while time.perf_counter() < stop:
                r = await client.request(method, urls[i % len(urls)], json=body)
                assert r.status_code < 500, r.text
                done += 1
                i += concurrency
        start_at = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        return done / (time.perf_counter() - start_at)


async def open_loop(urls: list[str], method: str, headers: dict[str, str], body: object,
                    seconds: float, rate: float) -> tuple[float, float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(headers=headers, timeout=30,
                                 limits=httpx.Limits(max_connections=100)) as client:
        async def one(url: str) -> None:
            t = time.perf_counter()
            r = await client.request(method, url, json=body)
            assert r.status_code < 500
            latencies.append(time.perf_counter() - t)
        tasks = []
        begin = time.perf_counter()
        for i in range(int(seconds * rate)):
            delay = begin + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(urls[i % len(urls)])))
        await asyncio.gather(*tasks)
    latencies.sort()
    return (statistics.median(latencies) * 1000,
            latencies[int(len(latencies) * 0.99) - 1] * 1000)


def prepare(db: Path) -> tuple[list[str], str]:
    """The cases of the transitions benchmark, and a token for their lead institution."""
    engine = make_engine(f"sqlite:///{db}")
    services, ids = setup(engine)
    token = add_user(engine, services.registry, name="bench", institution="ORP-NE",
                     role="case_manager", now=datetime.now(UTC))
    engine.dispose()
    return ids, token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        ids, token = prepare(db)
        headers = {"Authorization": f"Bearer {token}"}
        ports = {"relais": free_port(), "bare": free_port()}
        procs = [start("bench.api_apps:relais_app", db, ports["relais"], args.workers),
                 start("bench.api_apps:bare_app", db, ports["bare"], args.workers)]
        try:
            for label, method, body in (("GET case", "GET", None),
                                        ("POST event", "POST", {"event": "noter"})):
                figures = {}
                for name, port in ports.items():
                    paths = [f"http://127.0.0.1:{port}/api/cases/{i}"
                             + ("/events" if body else "") for i in ids]
                    rps = asyncio.run(closed_loop(paths, method, headers, body, args.seconds,
                                                  args.concurrency))
                    p50, p99 = asyncio.run(open_loop(paths, method, headers, body,
                                                     args.seconds, args.rate))
                    figures[name] = (rps, p50, p99)
                r, b = figures["relais"], figures["bare"]
                print(f"{label:<11} relais {r[0]:6.0f} req/s p50 {r[1]:6.1f} ms p99 "
                      f"{r[2]:6.1f} ms | bare {b[0]:6.0f} req/s p50 {b[1]:6.1f} ms p99 "
                      f"{b[2]:6.1f} ms | per-request cost x{b[0] / r[0]:.2f}", flush=True)
        finally:
            for p in procs:
                p.send_signal(signal.SIGINT)
                p.wait(timeout=10)


if __name__ == "__main__":
    main()
