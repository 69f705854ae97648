"""`/healthz` and `/readyz` over a real server: liveness, and readiness that checks the
database and this process's orchestration, without a token and without a case's data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from relais.api.app import create_app
from relais.cases.services import CaseServices
from relais.db import make_engine
from relais.orchestration.orchestrator import Orchestrator
from relais.orchestrator_wiring import build_runtime
from tests.api_server import free_port, running


def test_ready_when_the_database_answers(services: CaseServices) -> None:
    with running(services) as base:
        r = httpx.get(f"{base}/readyz")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready", "checks": {
        "database": "ok", "outbox_oldest_waiting_s": None, "orchestration": "external"}}


@pytest.fixture
def served() -> Iterator[object]:
    """Start an app in a thread and yield a function that serves any app given to it."""
    servers: list[uvicorn.Server] = []

    def serve(app: object) -> str:
        import threading
        import time
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,  # type: ignore[arg-type]
                                               log_level="warning", lifespan="off"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.02)
        servers.append(server)
        return f"http://127.0.0.1:{port}"
    yield serve
    for s in servers:
        s.should_exit = True


def test_not_ready_when_the_database_is_not_relais_s(tmp_path: Path, served: object) -> None:
    """A database without Relais's tables (a volume lost, a wrong URL): 503, the check
    named."""
    gone = CaseServices(make_engine(f"sqlite:///{tmp_path / 'gone.sqlite3'}"))
    base = served(create_app(gone))  # type: ignore[operator]
    r = httpx.get(f"{base}/readyz")
    assert r.status_code == 503
    assert r.json()["status"] == "not_ready"
    assert r.json()["checks"]["database"].startswith("error: ")
    assert str(tmp_path) not in r.text  # nothing of where the data live
    assert httpx.get(f"{base}/healthz").status_code == 200  # alive all the same


def test_not_ready_when_its_embedded_orchestration_is_not_running(
        services: CaseServices, served: object) -> None:
    orchestrator = Orchestrator(build_runtime(services), worker="test:1")
    base = served(create_app(services, orchestration_alive=orchestrator.alive))  # type: ignore[operator]
    r = httpx.get(f"{base}/readyz")
    assert r.status_code == 503 and r.json()["checks"]["orchestration"] == "stopped"
