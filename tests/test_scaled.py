"""The scaled set-up of docs/scaled.md as separate processes on one machine: a Prefect server
(`prefect server start`) on its own PostgreSQL database, Relais on another, one API process
(`relais serve --no-orchestrate`) and two `relais worker` processes, one of them `--no-sweep`.

A client written from the HTTP contract moves cases into the joint assessment; the workers
share the outbox, every mail reaches a real SMTP server once, the institution's file service
is asked once per case, and Prefect's own API lists a completed task run for every action,
in flow runs that batches of rows share."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import URL, create_engine, make_url, select, text

from relais.cases.store.tables import outbox_t
from tests.api_server import free_port
from tests.conftest import PG_ADMIN_URL, require_postgres
from tests.orchestration_helpers import FileService, smtp_server

BIN = Path(sys.executable).parent  # the virtualenv's bin: `prefect` and `relais`
OFFLINE = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
UI_USER = ("relais", "change-me-ui")  # basic authentication on Prefect's API and UI
CASES = 6
ACTIONS = {1: ("notify_institutions",), 3: ("gather_files", "convene_assessment")}
MAILS_PER_CASE = 3 + 4  # the three partners, then the convocation: the person and partners
NAMES = [("Muster", "Jean"), ("Favre", "Léa"), ("Rochat", "Luc"), ("Perret", "Anne"),
         ("Jeanneret", "Marc"), ("Girard", "Sophie")]


def email(n: int) -> str:
    return f"personne-{n}@example.org"


def avs(n: int) -> str:
    """A valid AVS number (13 digits from 756, EAN-13 check digit), as the contract wants."""
    first12 = f"756{9_100_000_00 + n:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    digits = f"{first12}{(10 - total % 10) % 10}"
    return f"{digits[:3]}.{digits[3:7]}.{digits[7:11]}.{digits[11:]}"


@contextmanager
def scratch_database(prefix: str) -> Iterator[URL]:
    """A fresh PostgreSQL database beside the `test` one, dropped at the end."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Processes:
    """The processes of the set-up, each logging to its own file; stopped like systemd does:
    SIGTERM, a wait, then SIGKILL for whatever did not stop."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start a process; its standard output goes to NAME.out, its log to NAME.log."""
        with (self.folder / f"{name}.out").open("wb") as out, \
                (self.folder / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen(args, env=env, cwd=self.folder, stdout=out, stderr=log,
                                    start_new_session=True)
        self.running[name] = proc
        return proc

    def result(self, name: str, timeout: float = 120.0) -> str:
        """Wait for a command to end well; its standard output."""
        assert self.running[name].wait(timeout) == 0, f"{name}\n{self.tails()}"
        return (self.folder / f"{name}.out").read_text()

    def log(self, name: str) -> str:
        return "".join((self.folder / f"{name}.{kind}").read_text(errors="replace")
                       for kind in ("out", "log"))

    def tails(self) -> str:
        return "\n".join(f"--- {name} (exit {p.poll()}):\n"
                         + "\n".join(self.log(name).splitlines()[-15:])
                         for name, p in self.running.items())

    def stop_all(self, timeout: float = 30.0) -> None:
        for proc in self.running.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.running.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # its own session: it and its children
                proc.wait(timeout=10)


def wait_until_answers(url: str, procs: Processes, name: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if procs.running[name].poll() is not None:
            raise AssertionError(f"{name} stopped\n{procs.tails()}")
        with suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"{name} did not answer {url}\n{procs.tails()}")


def clean_env() -> dict[str, str]:
    """This shell's environment without any Relais or Prefect setting, Prefect offline."""
    return {**{k: v for k, v in os.environ.items()
               if not k.startswith(("RELAIS_", "PREFECT_"))}, **OFFLINE}


def move_cases(base: str, orp: str, coordinator: str) -> list[str]:
    """The ORP opens each case and refers it; the CII coordination takes it on."""
    as_orp = httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {orp}"})
    as_coord = httpx.Client(base_url=base, timeout=30,
                            headers={"Authorization": f"Bearer {coordinator}"})
    with as_orp, as_coord:
        cases = []
        for n in range(CASES):
            last, first = NAMES[n % len(NAMES)]
            r = as_orp.post("/api/cases", json={
                "route": "reseau-cii", "consent": {"grantor": "Jean Muster"},
                                       "fields": {"age": 30 + n},
                "person": {"avs": avs(n), "official_name": last, "first_name": first,
                           "birth_date": f"{1970 + n}-03-1{n % 10}",
                           "email": email(n)}})
            assert r.status_code == 201, r.text
            cases.append(r.json())
        for client, event, state in ((as_orp, "transmettre", "triage"),
                                     (as_coord, "retenir", "assessment")):
            for i, case in enumerate(cases):
                r = client.post(f"/api/cases/{case['id']}/events", json={"event": event},
                                headers={"If-Match": f'"{case["version"]}"'})
                assert r.status_code == 200 and r.json()["state"] == state, r.text
                cases[i] = r.json()
    return [c["id"] for c in cases]


@pytest.mark.postgres
def test_workers_on_a_prefect_server_run_every_action_once(tmp_path: Path) -> None:
    require_postgres()
    procs = Processes(tmp_path)
    oai = FileService()
    oai.add(avs(0).replace(".", ""), "Rapport médical", b"%PDF-1.4 rapport")
    with scratch_database("prefect_scaled") as prefect_db, \
            scratch_database("relais_scaled") as relais_db, \
            smtp_server() as (inbox, smtp_port), oai.running():
        try:
            # Prefect server on its own database (docs/scaled.md, step 2)
            prefect_port = free_port()
            api = f"http://127.0.0.1:{prefect_port}/api"
            procs.start("prefect", [str(BIN / "prefect"), "server", "start", "--host",
                                    "127.0.0.1", "--port", str(prefect_port)], {
                **clean_env(), "PREFECT_HOME": str(tmp_path / "prefect-home"),
                "PREFECT_API_DATABASE_CONNECTION_URL": prefect_db.set(
                    drivername="postgresql+asyncpg").render_as_string(hide_password=False),
                "PREFECT_UI_API_URL": api, "PREFECT_SERVER_API_AUTH_STRING": ":".join(UI_USER),
                "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED": "events,flow_runs",
                "PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD": "2592000"})
            # Relais: migrate once, then the API process and the workers (steps 3 to 5)
            relais = {**clean_env(), "RELAIS_DATABASE_URL":
                      relais_db.render_as_string(hide_password=False)}
            procs.start("upgrade", [str(BIN / "relais"), "db", "upgrade"], relais)
            procs.result("upgrade")
            http_port = free_port()
            procs.start("api", [str(BIN / "relais"), "serve", "--no-orchestrate", "--host",
                                "127.0.0.1", "--port", str(http_port), "--workers", "1"],
                        {**relais, "RELAIS_ORCHESTRATE": "false"})
            worker_env = {**relais, "PREFECT_API_URL": api,
                          "PREFECT_API_AUTH_STRING": ":".join(UI_USER),
                          "PREFECT_HOME": str(tmp_path / "prefect-client"),
                          "RELAIS_SMTP_HOST": "127.0.0.1", "RELAIS_SMTP_PORT": str(smtp_port),
                          "RELAIS_MAIL_FROM": "relais@cii.ne.example",
                          "RELAIS_SMS_FOLDER": str(tmp_path / "sms"),
                          "RELAIS_FILE_SOURCES": json.dumps({"*": "demo", "OAI-NE": oai.url}),
                          "RELAIS_POLL_S": "0.2", "RELAIS_SWEEP_EVERY_S": "5",
                          "RELAIS_DISPATCH_THREADS": "2",
                          # small batches: 18 rows shared by both workers, not one's batch
                          "RELAIS_DISPATCH_BATCH": "4"}
            metrics_port = free_port()
            workers = [procs.start("worker-a", [str(BIN / "relais"), "worker", "--metrics-port",
                                                str(metrics_port)], worker_env),
                       procs.start("worker-b", [str(BIN / "relais"), "worker", "--no-sweep"],
                                   worker_env)]
            for name, institution, role in (("m.robert", "ORP-NE", "case_manager"),
                                            ("c.coord", "CII-NE", "coordinator")):
                procs.start(role, [str(BIN / "relais"), "users", "add", name, "--institution",
                                   institution, "--role", role], relais)
            tokens = {role: procs.result(role).strip() for role in ("case_manager",
                                                                    "coordinator")}
            base = f"http://127.0.0.1:{http_port}"
            wait_until_answers(f"{base}/healthz", procs, "api")
            wait_until_answers(f"{api}/health", procs, "prefect")

            case_ids = move_cases(base, tokens["case_manager"], tokens["coordinator"])

            expected = {(c, seq, action) for c in case_ids for seq, actions in ACTIONS.items()
                        for action in actions}
            rows = drained_outbox(relais_db, len(expected), procs)
            assert {(r.case_id, r.seq, r.action) for r in rows} == expected
            procs.start("status", [str(BIN / "relais"), "status"], relais)
            # each mail once, though two workers shared the work
            keys = Counter(str(m["X-Relais-Key"]) for m in inbox.messages)
            assert sum(keys.values()) == CASES * MAILS_PER_CASE
            assert max(keys.values()) == 1, keys.most_common(3)
            assert {str(m["To"]) for m in inbox.messages} >= {email(n) for n in range(CASES)}
            assert oai.requests == CASES  # the worker's file sources: OAI's own system
            # both workers took part; claimed_by names them: host:pid (#thread)
            host = socket.gethostname()
            claimers = Counter(r.claimed_by.split("#")[0] for r in rows)
            assert set(claimers) == {f"{host}:{w.pid}" for w in workers}, claimers
            # Prefect's own API (what its UI shows): a completed task run per action row,
            # in the batches' flow runs (relais-actions), each completed
            names = [f"{r.action} · {r.case_id} · #{r.seq}" for r in rows]
            assert httpx.post(f"{api}/flow_runs/filter", json={}).status_code == 401
            tasks = task_runs_named(api, names)
            completed = {r["name"] for r in tasks if r["state_type"] == "COMPLETED"}
            assert set(names) <= completed, set(names) - completed
            batches = httpx.post(f"{api}/flow_runs/filter", timeout=30, auth=UI_USER, json={
                "flow_runs": {"id": {"any_": sorted({r["flow_run_id"] for r in tasks})}},
                "limit": 200}).json()
            assert {b["state_type"] for b in batches} == {"COMPLETED"}
            assert len(batches) < len(names)  # rows share flow runs
            sweeps = httpx.post(f"{api}/flow_runs/filter", timeout=30, auth=UI_USER, json={
                "flow_runs": {"name": {"any_": ["sweep_deadlines"]}}, "limit": 1}).json()
            assert sweeps, "worker-a sweeps the deadlines"
            assert "sweep_deadlines" not in procs.log("worker-b")  # --no-sweep
            # what an operator watches: a worker's own figures, the queue's
            worker_metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
            assert 'relais_action_duration_seconds_count{action="gather_files",outcome="done"}' \
                in worker_metrics
            assert "relais_sweep_duration_seconds_count" in worker_metrics
            figures = dict(line.split(None, 1) for line in procs.result("status").splitlines())
            assert (figures["outbox_done"], figures["outbox_pending"],
                    figures["outbox_failed"]) == (str(len(rows)), "0", "0")
        finally:
            procs.stop_all()
    assert all(p.returncode is not None for p in procs.running.values())


def task_runs_named(api: str, names: list[str], timeout: float = 30.0) -> list[Any]:
    """Prefect records task runs from their events, shortly after they end."""
    deadline = time.monotonic() + timeout
    while True:
        runs = httpx.post(f"{api}/task_runs/filter", timeout=30, auth=UI_USER, json={
            "task_runs": {"name": {"any_": names}}, "sort": "EXPECTED_START_TIME_DESC",
            "limit": 200}).json()
        done = {r["name"] for r in runs if r["state_type"] == "COMPLETED"}
        if set(names) <= done or time.monotonic() > deadline:
            return list(runs)
        time.sleep(0.5)


def drained_outbox(url: URL, count: int, procs: Processes, timeout: float = 120.0
                   ) -> list[Any]:
    """Wait until the outbox holds ``count`` rows, every one done; fail on a failed row."""
    engine = create_engine(url)
    query = select(outbox_t.c.case_id, outbox_t.c.seq, outbox_t.c.action, outbox_t.c.status,
                   outbox_t.c.claimed_by, outbox_t.c.last_error).order_by(outbox_t.c.id)
    try:
        deadline = time.monotonic() + timeout
        while True:
            with engine.connect() as conn:
                rows = list(conn.execute(query))
            failed = [r for r in rows if r.status == "failed"]
            assert not failed, f"{failed}\n{procs.tails()}"
            if len(rows) == count and all(r.status == "done" for r in rows):
                return rows
            if time.monotonic() > deadline:
                raise AssertionError(f"outbox not drained: {Counter(r.status for r in rows)}"
                                     f"\n{procs.tails()}")
            time.sleep(0.25)
    finally:
        engine.dispose()
