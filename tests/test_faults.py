"""Faults with real processes: a worker killed in the middle of an action, the Prefect server
stopped while work arrives, the whole embedded process killed in a burst of transitions.
After each, every action is done once: one result per idempotency key, each mail and SMS
once, the documents stored once, every history intact.

Set-ups: (a) and (b) are the scaled set-up, ``relais worker`` processes beside a real
``prefect server start``, the case database and Prefect's on PostgreSQL; (c) is the
embedded one, ``relais serve`` on a SQLite file with Prefect in ephemeral mode.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select

from relais.cases.domain.decide import EventInput
from relais.cases.services import CaseServices
from relais.cases.store.audit import verify
from relais.cases.store.tables import document_t, effect_t, outbox_t
from relais.cases.store.users import add_user
from relais.orchestration.channels import message_id
from relais.wiring import build_services, publish_standard_routes
from tests.api_server import free_port
from tests.conftest import (
    COORD,
    ORP,
    PERSON,
    PG_ADMIN_URL,
    emptied_postgres,
    refer,
    require_postgres,
)
from tests.orchestration_helpers import (
    FileService,
    MailInbox,
    PrefectServer,
    Process,
    offline_env,
    relais_process,
    scratch_postgres,
    smtp_server,
    wait_until,
)

EMAIL = {"email": "jean.muster@example.org"}
BY_SMS = {"avs": "756.9217.0769.85", "official_name": "Favre", "first_name": "Léa",
          "birth_date": "1990-02-01", "phone": "079 123 45 67"}
OAI_FILE = b"%PDF-1.4 rapport medical"


def asyncpg(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql+asyncpg://", 1)


def rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(outbox_t).order_by(outbox_t.c.id)))


def ledger(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        return {r.idempotency_key: dict(r.result) for r in conn.execute(select(effect_t))}


def channel_keys(engine: Engine, channel: str) -> list[str]:
    return sorted(k for k, r in ledger(engine).items() if r.get("channel") == channel)


def claimed_by(row: Any, process: Process) -> bool:
    """Whether the outbox row was claimed by that process (by one of its dispatch threads)."""
    return str(row.claimed_by).split("#", 1)[0].endswith(f":{process.pid}")


def audit_cli(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "relais.cli", "audit", "verify"], env=env,
                          cwd=cwd, capture_output=True, text=True, timeout=120)


def to_assessment(services: CaseServices) -> str:
    """Open, refer and take on a case: it queues notify_institutions, then gather_files and
    convene_assessment."""
    case = refer(services, route="reseau-cii", person={**PERSON, **EMAIL}, actor=ORP,
                              fields={"age": 48}).case
    services.fire(case.id, "transmettre", actor=ORP)
    services.fire(case.id, "retenir", actor=COORD)
    return case.id


def assert_done_once(engine: Engine, services: CaseServices, inbox: MailInbox,
                     repeated: Collection[str] = ()) -> None:
    """Every outbox row done, one ``action_done`` per key, each mail of the ledger received
    exactly once (but the ``repeated`` ones, the caller knows why), and nothing received
    that the ledger does not name."""
    outbox = rows(engine)
    assert [r.status for r in outbox] == ["done"] * len(outbox)
    for case_id in {r.case_id for r in outbox}:
        done = Counter(e.data["key"] for e in services.history(case_id)
                       if e.kind == "action_done")
        assert done == Counter({r.idempotency_key: 1 for r in outbox
                                if r.case_id == case_id}), case_id
    received = Counter(inbox.keys())
    assert {k for k, n in received.items() if n > 1} == set(repeated)
    assert sorted(received) == channel_keys(engine, "email")
    for m in inbox.messages:  # the Message-ID a relay could deduplicate on
        assert m["Message-ID"] == message_id(str(m["X-Relais-Key"]))


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    require_postgres()
    engine = emptied_postgres(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """One Prefect server for the scaled tests, on a scratch PostgreSQL database (its
    migrations are the slow part of a start)."""
    require_postgres()
    with scratch_postgres(PG_ADMIN_URL, "relais_fault_prefect") as url:
        server = PrefectServer(tmp_path_factory.mktemp("prefect"), asyncpg(url))
        with server.running():
            yield server


@pytest.fixture
def prefect(prefect_server: PrefectServer) -> PrefectServer:
    """The server, running (a test may have stopped it)."""
    if not prefect_server.healthy():
        prefect_server.stop()
        prefect_server.start()
    return prefect_server


def worker_env(tmp_path: Path, database_url: str, prefect: PrefectServer, smtp_port: int,
               **more: str) -> dict[str, str]:
    return offline_env(RELAIS_DATABASE_URL=database_url, PREFECT_API_URL=prefect.api_url,
                       PREFECT_HOME=str(prefect.home), RELAIS_POLL_S="0.2",
                       RELAIS_SMTP_HOST="127.0.0.1", RELAIS_SMTP_PORT=str(smtp_port),
                       RELAIS_MAIL_FOLDER=str(tmp_path / "mail"),
                       RELAIS_SMS_FOLDER=str(tmp_path / "sms"), **more)


# -- (a) a worker killed in the middle of an action ----------------------------------------

@pytest.mark.postgres
def test_a_worker_killed_mid_action_leaves_it_to_the_next_one_which_does_it_once(
        tmp_path: Path, postgres_url: str, pg_engine: Engine,
        prefect: PrefectServer) -> None:
    services = CaseServices(pg_engine)
    publish_standard_routes(services)
    oai = FileService()
    oai.add("7561234567897", "Rapport médical", OAI_FILE)
    oai.hold.clear()  # OAI's system takes every request and answers none, for now
    workers: list[Process] = []
    with smtp_server() as (inbox, smtp_port), oai.running():
        env = worker_env(tmp_path, postgres_url, prefect, smtp_port, RELAIS_LEASE_S="3",
                         RELAIS_FILE_SOURCES=json.dumps({"*": "demo", "OAI-NE": oai.url}))
        try:
            case_id = to_assessment(services)
            gather = next(r for r in rows(pg_engine) if r.action == "gather_files")
            workers.append(relais_process(["worker"], env, tmp_path, tmp_path / "w1.log"))
            wait_until(oai.arrived.is_set, 90, "the first worker asks OAI for its file",
                       workers[0])
            workers[0].kill9()  # in the middle of gather_files
            workers[0].kill_group()  # nothing of it is left running

            held = next(r for r in rows(pg_engine) if r.id == gather.id)
            assert (held.status, held.attempts) == ("dispatched", 1)
            assert claimed_by(held, workers[0])
            assert not any(e.kind == "action_done" and e.data["key"] == gather.idempotency_key
                           for e in services.history(case_id))

            workers.append(relais_process(["worker"], env, tmp_path, tmp_path / "w2.log"))
            wait_until(lambda: oai.requests >= 2, 90,
                       "the second worker takes the action again once the lease ran out",
                       workers[1])
            oai.hold.set()  # OAI answers: the killed worker's request, and this one
            wait_until(lambda: all(r.status == "done" for r in rows(pg_engine)), 90,
                       "every action done", workers[1])
            assert workers[1].alive()
        finally:
            for w in workers:
                w.stop()

        redone = next(r for r in rows(pg_engine) if r.id == gather.id)
        assert redone.attempts == 2 and claimed_by(redone, workers[1])
        assert oai.requests == 2
        assert_done_once(pg_engine, services, inbox)
        # the gathered files stored once, as the one action_done names them
        done = next(e for e in services.history(case_id)
                    if e.kind == "action_done" and e.data["key"] == gather.idempotency_key)
        with pg_engine.connect() as conn:
            stored = [(r.name, r.content) for r in conn.execute(
                select(document_t.c.name, document_t.c.content)
                .where(document_t.c.key == gather.idempotency_key))]
        assert sorted(n for n, _ in stored) == sorted(d["name"] for d in done.data["documents"])
        assert ("dossier-OAI-NE-1", OAI_FILE) in [(n, bytes(c)) for n, c in stored]
        assert "OAI-NE" in done.data["summary"]["gathered"]
        # the round table convened once: the person and each partner one convocation
        received = inbox.keys()
        convened = [k for k in received if k.startswith(f"{case_id}:3:convene_assessment/")]
        assert len(convened) == len(set(convened)) >= 2
        audit = audit_cli(env, tmp_path)
        assert audit.returncode == 0, audit.stdout + audit.stderr


# -- (b) the Prefect server stopped while work arrives -------------------------------------

def open_cases(services: CaseServices, n: int) -> list[str]:
    return [refer(services, route="reseau-cii", person={**PERSON, **EMAIL}, actor=ORP,
                               fields={}).case.id for _ in range(n)]


@pytest.mark.postgres
def test_work_waits_while_the_prefect_server_is_stopped_and_resumes_once_it_is_back(
        tmp_path: Path, postgres_url: str, pg_engine: Engine,
        prefect: PrefectServer) -> None:
    services = CaseServices(pg_engine)
    publish_standard_routes(services)
    with smtp_server() as (inbox, smtp_port):
        env = worker_env(tmp_path, postgres_url, prefect, smtp_port)
        worker = relais_process(["worker"], env, tmp_path, tmp_path / "worker.log")
        try:
            open_cases(services, 1)  # the worker runs, Prefect answers
            wait_until(lambda: rows(pg_engine)[0].status == "done", 90,
                       "the first action is done", worker)
            sent = len(inbox.messages)

            prefect.stop()  # SIGTERM, and wait for it to exit
            assert not prefect.healthy()
            opened = open_cases(services, 3)
            services.fire(opened[0], "ecarter", actor=ORP, data=EventInput(reason="hors CII"))
            waiting = [r for r in rows(pg_engine) if r.case_id in opened]
            assert len(waiting) == 4
            end = time.monotonic() + 4
            while time.monotonic() < end:  # nothing runs, nothing is lost, the worker lives
                assert [(r.status, r.attempts) for r in rows(pg_engine)
                        if r.case_id in opened] == [("pending", 0)] * 4
                assert len(inbox.messages) == sent
                assert worker.alive(), worker.tail()
                time.sleep(0.25)

            prefect.start()  # the same port, the same database
            wait_until(lambda: all(r.status == "done" for r in rows(pg_engine)), 90,
                       "every action done once Prefect is back", worker, prefect.process)
            assert worker.alive()
        finally:
            worker.stop()
        resumed = [r for r in rows(pg_engine) if r.case_id in opened]
        assert [(r.attempts, r.last_error) for r in resumed] == [(1, None)] * 4
        assert_done_once(pg_engine, services, inbox)
        assert len(inbox.messages) == sent + 3 * 3 + 1  # three partners each case; the person
        audit = audit_cli(env, tmp_path)
        assert audit.returncode == 0, audit.stdout + audit.stderr


# -- (c) the whole embedded process killed in a burst of transitions -----------------------

class Burst:
    """Client threads opening cases and moving them over HTTP as fast as they can; every
    acknowledged change is recorded as (case, version, what)."""

    def __init__(self, base: str, tokens: dict[str, str], threads: int) -> None:
        self.base, self.tokens = base, tokens
        self.acked: list[tuple[str, int, str]] = []
        self.refused: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                         for i in range(threads)]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def _ack(self, r: httpx.Response, what: str) -> str | None:
        if r.status_code // 100 != 2:
            with self._lock:
                self.refused[f"{what} {r.status_code}"] += 1
            return None
        case = r.json()
        with self._lock:
            self.acked.append((case["id"], int(case["version"]), what))
        return str(case["id"])

    def _run(self, i: int) -> None:
        orp, coord = (httpx.Client(base_url=self.base, timeout=30, headers={
            "Authorization": f"Bearer {self.tokens[who]}"}) for who in ("orp", "coord"))
        n = 0
        try:
            while not self._stop.is_set():
                n += 1  # by e-mail or by SMS; taken on (files, round table) or not (a word)
                person = {**PERSON, **EMAIL} if (i + n) % 2 else BY_SMS
                case_id = self._ack(orp.post("/api/cases", json={
                    "confirm_duplicate": True,  # the same person again, on purpose
                    "route": "reseau-cii", "person": person,
                    "consent": {"grantor": "Jean Muster"}, "fields": {"age": 48}}), "open")
                if case_id is None or self._ack(orp.post(
                        f"/api/cases/{case_id}/events", json={"event": "transmettre"}),
                        "transmettre") is None:
                    continue
                last = {"event": "retenir"} if n % 2 else {"event": "ecarter",
                                                           "reason": "hors CII"}
                self._ack(coord.post(f"/api/cases/{case_id}/events", json=last), last["event"])
        except httpx.HTTPError:
            pass  # the server is gone
        finally:
            orp.close()
            coord.close()


class WatchedInbox(MailInbox):
    """Also says when a message has just been received."""

    def __init__(self) -> None:
        super().__init__()
        self.received = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        self.received.set()
        return answer


def take_on(base: str, tokens: dict[str, str]) -> str:
    """Open a case, refer it and take it on, over HTTP."""
    def post(who: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = httpx.post(f"{base}{path}", json=body, timeout=30,
                       headers={"Authorization": f"Bearer {tokens[who]}"})
        r.raise_for_status()
        return dict(r.json())
    case_id = str(post("orp", "/api/cases", {"route": "reseau-cii",
                                             "person": {**PERSON, **EMAIL},
                                             "consent": {"grantor": "Jean Muster"},
                                             "fields": {"age": 48}})["id"])
    post("orp", f"/api/cases/{case_id}/events", {"event": "transmettre"})
    post("coord", f"/api/cases/{case_id}/events", {"event": "retenir"})
    return case_id


def serve(tmp_path: Path, env: dict[str, str], port: int, name: str) -> Process:
    process = relais_process(["serve", "--port", str(port)], env, tmp_path,
                             tmp_path / f"{name}.log")

    def up() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(up, 90, f"relais serve ({name}) answers", process)
    return process


def test_the_embedded_process_killed_in_a_burst_loses_nothing_and_does_nothing_twice(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'relais.sqlite3'}"
    services = build_services(url)
    tokens = {who: add_user(services.engine, services.registry, name=who, institution=inst,
                            role=role, now=services.clock())
              for who, inst, role in (("orp", "ORP-NE", "case_manager"),
                                      ("coord", "CII-NE", "coordinator"))}
    engine = services.engine
    processes: list[Process] = []
    inbox, port = WatchedInbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    env = offline_env(RELAIS_DATABASE_URL=url, RELAIS_POLL_S="0.2", RELAIS_LEASE_S="3",
                      RELAIS_SMTP_HOST="127.0.0.1", RELAIS_SMTP_PORT=str(smtp.port),
                      RELAIS_MAIL_FOLDER=str(tmp_path / "mail"),
                      RELAIS_SMS_FOLDER=str(tmp_path / "sms"))
    base = f"http://127.0.0.1:{port}"
    try:
        processes.append(serve(tmp_path, env, port, "serve-1"))
        # a first case taken on: once its first mail arrives, Prefect's ephemeral server is
        # up and the orchestration is sending the rest of its mails
        take_on(base, tokens)
        assert inbox.received.wait(120), processes[0].tail()

        burst = Burst(base, tokens, threads=3)
        burst.start()
        wait_until(lambda: len(burst.acked) >= 24 and any(
            r.status == "dispatched" for r in rows(engine)), 60,
            "a burst of changes, an action running", processes[0], every=0.005)
        processes[0].kill_group()  # kill -9: the API, the orchestration, Prefect's server
        burst.stop()
        time.sleep(0.5)  # the SMTP server finishes reading what reached it before the kill
        at_kill = rows(engine)
        recorded_at_kill = set(ledger(engine))
        received_at_kill = Counter(inbox.keys())

        # every acknowledged change is in the history, and no case is half-applied
        assert burst.acked
        for case_id, version, what in burst.acked:
            history = services.history(case_id)
            assert len(history) >= version, (case_id, version, what)
            event = history[version - 1]
            assert event.kind == "case_opened" if what == "open" else event.event == what, \
                (case_id, version, what, event)
        audit = audit_cli(env, tmp_path)
        assert audit.returncode == 0, audit.stdout + audit.stderr
        running = {r.idempotency_key for r in at_kill if r.status == "dispatched"}
        assert running, "the kill came when no action was running"

        processes.append(serve(tmp_path, env, port, "serve-2"))
        wait_until(lambda: all(r.status == "done" for r in rows(engine)), 180,
                   "every action done after the restart", processes[1], every=0.5)
    finally:
        for p in processes:
            p.stop()
        smtp.stop()

    report = verify(engine)
    assert report.ok, report.problems
    # SMTP cannot be exactly-once: a mail the server took just before the kill, before the
    # ledger recorded it, goes again after the restart, with the same key and Message-ID
    # (Runtime.once). Only such a mail, once, and at most one per action that was running.
    repeated = {k for k, n in Counter(inbox.keys()).items() if n > 1}
    in_flight = {k for k in received_at_kill if k not in recorded_at_kill}
    assert repeated <= in_flight, (repeated, in_flight)
    assert all(Counter(inbox.keys())[k] == 2 for k in repeated)
    actions = [k.split("/mail/", 1)[0] for k in repeated]
    assert set(actions) <= running and len(actions) == len(set(actions))
    assert_done_once(engine, services, inbox, repeated=repeated)
    sms = {json.loads(p.read_text())["key"]: p.name for p in (tmp_path / "sms").glob("*.json")}
    assert sorted(sms) == channel_keys(engine, "sms")
    assert all(name == f"{hashlib.sha256(k.encode()).hexdigest()[:32]}.json"
               for k, name in sms.items())
    print(f"burst: {len(burst.acked)} changes acknowledged ({dict(burst.refused)} refused), "
          f"{len(running)} actions running at the kill, {len(repeated)} mail repeated; "
          f"{len(inbox.messages)} mails, {len(sms)} SMS")
