"""Attacks on the process itself, against a real ``relais serve`` (issue 11, findings 8 and 14).

Finding 8: the 1 MiB body limit read only ``Content-Length``, and the NUL check read every
body before the token was checked: a chunked 300 MB ``POST /api/cases`` without a token grew
the server by 600 MB, never given back.
Finding 14: after ``kill -9`` of ``relais serve`` (or a crash), Prefect's ephemeral server,
its child, kept running.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.api_server import People, free_port, wait_answering

MB = 1024 * 1024


@dataclass
class Answer:
    status: int | None  # None: the server never answered
    sent: int  # body bytes sent before the answer came
    seconds: float
    body: bytes


def chunked_upload(port: int, path: str, total: int, headers: dict[str, str] | None = None,
                   chunk: int = 64 * 1024) -> Answer:
    """POST ``total`` bytes with ``Transfer-Encoding: chunked``, made as they are sent (never
    held in memory), stopping at the server's first answer."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    start, sent, piece = time.monotonic(), 0, b"a" * chunk
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                     f"Content-Type: application/json\r\n{extra}\r\n".encode())
        while time.monotonic() - start < 60:
            readable, writable, _ = select.select([sock], [sock] if sent < total else [], [], 5)
            if readable:
                break
            if writable:
                try:
                    sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                except OSError:  # the server closed its side: read what it said
                    break
                sent += len(piece)
                if sent >= total:
                    sock.sendall(b"0\r\n\r\n")
        reply = _reply(sock)
    status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else None
    return Answer(status, sent, time.monotonic() - start, reply.partition(b"\r\n\r\n")[2])


def _reply(sock: socket.socket) -> bytes:
    """The status line, headers and the body its Content-Length announces."""
    reply = b""
    try:
        while True:
            head, found, body = reply.partition(b"\r\n\r\n")
            if found:
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                if len(body) >= length:
                    return reply
            data = sock.recv(65536)
            if not data:
                return reply
            reply += data
    except OSError:
        return reply


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, their children...), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Serve:
    process: subprocess.Popen[bytes]
    port: int
    env: dict[str, str]
    cwd: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(self, name: str, role: str = "case_manager") -> str:
        return subprocess.run(
            [sys.executable, "-m", "relais.cli", "users", "add", name, "--institution",
             "ORP-NE" if role == "case_manager" else "CII-NE", "--role", role], env=self.env,
            cwd=self.cwd, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def serve(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Serve]:
    """``relais serve`` on a SQLite file, as an operator starts it (``orchestrate`` from the
    test's parameter: with it, Prefect's ephemeral server runs as its child)."""
    orchestrate = getattr(request, "param", False)
    env = {**os.environ, "RELAIS_DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite3'}",
           "RELAIS_SWEEP_EVERY_S": "3600"}
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "relais.cli", "serve", "--port", str(port),
         "--orchestrate" if orchestrate else "--no-orchestrate"],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Serve(process, port, env, tmp_path)
    try:
        wait_answering(server.base, process)
        yield server
    finally:
        left = descendants(process.pid)
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
        for pid in left:  # whatever a failed test left behind
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


# -- finding 8: bodies counted as they stream, the token checked first ---------------------------

def test_an_unauthenticated_chunked_upload_is_refused_before_it_is_read(serve: Serve) -> None:
    httpx.get(f"{serve.base}/openapi.json")  # the server as it runs, warmed up
    before = rss_kb(serve.process.pid)
    answer = chunked_upload(serve.port, "/api/cases", 50 * MB)
    assert answer.status == 401 and b'"unauthorized"' in answer.body
    assert answer.seconds < 10 and answer.sent < 10 * MB
    grown_mb = (rss_kb(serve.process.pid) - before) / 1024
    assert grown_mb < 5, f"the server grew by {grown_mb:.1f} MB"
    bad = chunked_upload(serve.port, "/api/cases", 50 * MB,
                         {"Authorization": "Bearer not-a-token"})
    assert bad.status == 401 and bad.sent < 10 * MB
    assert httpx.get(f"{serve.base}/healthz").status_code == 200


def test_an_authenticated_chunked_body_past_the_limit_gets_413_as_json(serve: Serve) -> None:
    token = serve.token("m.robert")
    before = rss_kb(serve.process.pid)
    answer = chunked_upload(serve.port, "/api/cases", 5 * MB,
                            {"Authorization": f"Bearer {token}"})
    assert answer.status == 413 and b'"too_large"' in answer.body
    assert answer.seconds < 10
    assert (rss_kb(serve.process.pid) - before) / 1024 < 5
    routes = chunked_upload(serve.port, "/api/routes/validate", 5 * MB,
                            {"Authorization": f"Bearer {token}",
                             "Content-Type": "application/yaml"})
    assert routes.status == 413


def test_a_body_is_not_read_before_the_token_is_checked(people: People) -> None:
    anonymous = people.anonymous()
    for body in (b"\x00" * 100, b"{not json", b'{"person": "\\u0000"}'):
        answer = anonymous.post("/api/cases", content=body,
                                headers={"Content-Type": "application/json"})
        assert answer.status_code == 401 and answer.json()["error"] == "unauthorized"
        assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_a_nul_in_an_authenticated_body_or_in_the_address_is_refused(people: People) -> None:
    orp = people["ORP-NE"]
    for body in (b'{"route": "reseau-cii\\u0000"}', b'{"route": "a\x00"}'):
        answer = orp.post("/api/cases", content=body, headers={"Content-Type":
                                                               "application/json"})
        assert answer.status_code == 422 and answer.json()["error"] == "invalid_input"
    assert orp.get("/api/cases/a%00b").status_code == 422
    assert people.anonymous().get("/connexion?suite=%00").status_code == 422


def test_a_chunked_body_within_the_limit_is_read_as_before(people: People) -> None:
    import json

    from tests.conftest import PERSON

    def pieces() -> Iterator[bytes]:
        data = json.dumps({"route": "reseau-cii", "person": PERSON,
                           "fields": {"age": 48}}).encode()
        yield from (data[i:i + 7] for i in range(0, len(data), 7))

    answer = people["ORP-NE"].post("/api/cases", content=pieces(),
                                   headers={"Content-Type": "application/json"})
    assert answer.status_code == 201, answer.text


# -- finding 14: no orphans ----------------------------------------------------------------------

def prefect_child_of(pid: int, timeout: float = 180) -> set[int]:
    """The processes below ``pid`` once Prefect's ephemeral server answers among them."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        below = descendants(pid)
        for child in below:
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"prefect.server.api.server:create_app" in command:
                return below
        time.sleep(0.5)
    raise AssertionError("Prefect's ephemeral server never started under relais serve")


@pytest.mark.parametrize("serve", [True], indirect=True, ids=["orchestrated"])
def test_prefects_server_dies_with_relais_serve_killed_by_sigkill(serve: Serve) -> None:
    below = prefect_child_of(serve.process.pid)
    assert below
    time.sleep(2)  # Prefect's server up and serving, as in the crash of finding 1
    serve.process.kill()
    serve.process.wait(timeout=10)
    end = time.monotonic() + 15
    while time.monotonic() < end and any(alive(p) for p in below):
        time.sleep(0.2)
    orphans = [p for p in below if alive(p)]
    for pid in orphans:  # a failing run leaves nothing behind either
        os.kill(pid, signal.SIGKILL)
    assert orphans == []


# -- durability: SQLite's synchronous mode, explicit and chosen ----------------------------------

@pytest.mark.parametrize(("setting", "pragma"), [(None, 1), ("normal", 1), ("full", 2)])
def test_sqlite_syncs_as_the_setting_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          setting: str | None, pragma: int) -> None:
    from relais.settings import settings
    from relais.wiring import build_services
    if setting is not None:
        monkeypatch.setenv("RELAIS_SQLITE_SYNCHRONOUS", setting)
    settings.cache_clear()
    try:
        engine = build_services(f"sqlite:///{tmp_path / 'r.sqlite3'}").engine
        with engine.connect() as conn:  # every connection of the pool, not only the first
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == pragma
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        engine.dispose()
    finally:
        settings.cache_clear()


def test_an_unknown_synchronous_mode_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from relais.settings import Settings
    monkeypatch.setenv("RELAIS_SQLITE_SYNCHRONOUS", "off")
    with pytest.raises(ValidationError):
        Settings()
