"""A real HTTP server (uvicorn on a free port, in a thread) for the API tests."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn

from relais.api.app import create_app
from relais.cases.services import CaseServices
from relais.cases.store.users import add_user
from relais.wiring import proxy_options


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(services: CaseServices, *, trusted_proxies: str = "") -> Iterator[str]:
    """A server as ``relais serve`` starts it (X-Forwarded-For believed only from
    ``trusted_proxies``, see ``RELAIS_TRUSTED_PROXIES``)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(services), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off",
                                           **proxy_options(trusted_proxies)))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class People:
    """One user per (institution, role), each with an httpx client carrying its token."""

    def __init__(self, services: CaseServices, base: str) -> None:
        self.services, self.base = services, base
        self.clients: dict[str, httpx.Client] = {}

    def __getitem__(self, who: str) -> httpx.Client:
        if who not in self.clients:
            institution, _, role = who.partition(":")
            token = add_user(self.services.engine, self.services.registry,
                             name=who.lower().replace(":", "-"), institution=institution,
                             role=role or "case_manager", now=datetime.now(UTC))
            self.clients[who] = httpx.Client(base_url=self.base, timeout=30, headers={
                "Authorization": f"Bearer {token}"})
        return self.clients[who]

    def anonymous(self) -> httpx.Client:
        if "" not in self.clients:
            self.clients[""] = httpx.Client(base_url=self.base, timeout=30)
        return self.clients[""]

    def close(self) -> None:
        for c in self.clients.values():
            c.close()


def wait_answering(base: str, process: subprocess.Popen[bytes], what: str = "relais serve",
                   output: Callable[[], str] = str) -> None:
    """Until ``base/healthz`` answers 200 (ten minutes at most); fails at once, with the
    process's ``output``, if the process has ended."""
    deadline = time.monotonic() + 600
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{what} did not answer\n{output()}")
        time.sleep(0.1)


@contextmanager
def relais_served(folder: Path, env: dict[str, str], *options: str,
                  log: Path | None = None, python: str = sys.executable) -> Iterator[str]:
    """``relais serve`` (the README's main command) as a real process in ``folder``, its
    output to ``log``; its address once ``/healthz`` answers; stopped as Ctrl-C stops it.
    ``python``: another environment's interpreter (the installed wheel's)."""
    port = free_port()
    out = log.open("w") if log is not None else subprocess.DEVNULL
    server = subprocess.Popen([python, "-m", "relais.cli", "serve", "--port",
                               str(port), *options], env=env, cwd=folder, stdout=out,
                              stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_answering(base, server)
        yield base
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
        if log is not None:
            out.close()  # type: ignore[union-attr]


def relais_user(folder: Path, env: dict[str, str], name: str = "m.robert",
                institution: str = "ORP-NE", role: str = "case_manager",
                python: str = sys.executable) -> str:
    """A user added by ``relais users add``, as an operator does; its API token."""
    return subprocess.run([python, "-m", "relais.cli", "users", "add", name,
                           "--institution", institution, "--role", role], env=env, cwd=folder,
                          capture_output=True, text=True, check=True).stdout.strip()
