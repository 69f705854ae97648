"""Real peers for the orchestration tests: an SMTP server (aiosmtpd), an institution's
HTTP file service, and a runtime wired to them."""

from __future__ import annotations

import base64
import contextlib
import email
import email.policy
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

from relais.cases.services import CaseServices
from relais.orchestration.channels import FolderSms, SmtpMailer
from relais.orchestration.runtime import Runtime
from relais.orchestration.sources import Sources
from tests.api_server import free_port


class MailInbox:
    """What the SMTP server received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(msg)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def keys(self) -> list[str]:
        return [str(m["X-Relais-Key"]) for m in self.messages]


@contextmanager
def smtp_server() -> Iterator[tuple[MailInbox, int]]:
    inbox, port = MailInbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


class FileService:
    """An institution's own system answering ``GET /persons/{avs}/files``. It can fail the
    first requests (``fail_first``) or hold every request until released (``hold``)."""

    def __init__(self) -> None:
        self.files: dict[str, list[dict[str, str]]] = {}
        self.fail_first = 0
        self.requests = 0
        self.hold = threading.Event()
        self.hold.set()
        self.arrived = threading.Event()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                service.requests += 1
                service.arrived.set()
                service.hold.wait(60)
                parts = self.path.strip("/").split("/")
                if service.requests <= service.fail_first:
                    self._answer(503, {"error": "busy"})
                elif len(parts) == 3 and parts[0] == "persons" and parts[1] in service.files:
                    self._answer(200, {"files": service.files[parts[1]]})
                else:
                    self._answer(404, {"error": "unknown person"})

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, avs: str, title: str, content: bytes, category: str = "medical") -> None:
        self.files.setdefault(avs, []).append({
            "title": title, "category": category, "media_type": "application/pdf",
            "content_base64": base64.b64encode(content).decode()})

    @contextmanager
    def running(self) -> Iterator[FileService]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.hold.set()
            self.server.shutdown()
            self.server.server_close()


def runtime(services: CaseServices, smtp_port: int, folder: Path,
            sources: dict[str, str] | None = None) -> Runtime:
    return Runtime(services, SmtpMailer("127.0.0.1", smtp_port, "relais@cii.ne.example",
                                        timeout=5),
                   FolderSms(folder / "sms"), Sources(sources or {"*": "demo"}))


# -- real processes for the fault tests: relais commands and a Prefect server -------------

def offline_env(**settings: str) -> dict[str, str]:
    """The environment of a child process: Prefect offline, no RELAIS_* or PREFECT_API_URL
    from the caller, output unbuffered (the logs are read when a test fails)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RELAIS_") and k != "PREFECT_API_URL"}
    env.update(DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false", PYTHONUNBUFFERED="1")
    env.update(settings)
    return env


class Process:
    """A child in its own process group (with whatever it starts: Prefect's ephemeral
    server), its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, log: Path) -> None:
        self.args, self.log = args, log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(args, env=env, cwd=cwd, stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 60) -> str:
        text = self.log.read_text("utf-8", errors="replace") if self.log.exists() else ""
        return f"--- {self.log.name} ---\n" + "\n".join(text.splitlines()[-lines:])

    def kill_group(self) -> None:
        """SIGKILL to the whole group: what is left of it, or all of it at once."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait(10)

    def kill9(self) -> None:
        """``kill -9`` of this process alone; its children live on as orphans."""
        os.kill(self.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, wait, then SIGKILL to the group (also any orphan it left)."""
        if self.alive():
            self.popen.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        self.kill_group()


def relais_process(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> Process:
    return Process([sys.executable, "-m", "relais.cli", *args], env, cwd, log)


def wait_until(check: Callable[[], bool], timeout: float, what: str,
               *logs: Process | None, every: float = 0.1) -> None:
    """Poll ``check``; past the timeout, fail with the end of the processes' logs."""
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"not within {timeout:.0f} s: {what}\n"
                                 + "\n".join(p.tail() for p in logs if p is not None))
        time.sleep(every)


@contextmanager
def scratch_postgres(admin_url: str, prefix: str) -> Iterator[str]:
    """A new PostgreSQL database (its URL), dropped afterwards."""
    from sqlalchemy import create_engine, text
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class PrefectServer:
    """``prefect server start`` on a port of its own, its database on PostgreSQL
    (``postgresql+asyncpg://…``) or SQLite under ``home``; stopped and started again at will
    on the same port and database."""

    def __init__(self, home: Path, database_url: str | None = None) -> None:
        self.home, self.port = home, free_port()
        home.mkdir(parents=True, exist_ok=True)
        settings = {"PREFECT_HOME": str(home), "PREFECT_SERVER_UI_ENABLED": "false"}
        if database_url:
            settings["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
        self.env = offline_env(**settings)
        self.process: Process | None = None
        self.starts = 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self, timeout: float = 120.0) -> None:
        self.starts += 1
        self.process = Process(
            [str(Path(sys.executable).parent / "prefect"), "server", "start", "--host",
             "127.0.0.1", "--port", str(self.port)], self.env, self.home,
            self.home / f"server-{self.starts}.log")
        wait_until(self.healthy, timeout, "the Prefect server answers", self.process,
                   every=0.2)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    @contextmanager
    def running(self) -> Iterator[PrefectServer]:
        try:
            self.start()
            yield self
        finally:
            self.stop()
