"""`relais serve`, the README's main command, as a real process: a client written from the
contract opens and moves a case."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.api_server import free_port
from tests.conftest import PERSON


@pytest.mark.parametrize("workers", [1, 2])
def test_relais_serve_answers_a_client_written_from_the_contract(tmp_path: Path,
                                                                workers: int) -> None:
    env = {**os.environ, "RELAIS_DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite3'}"}
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "relais.cli", "serve", "--port", str(port),
                               "--workers", str(workers)],
                              env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError("relais serve did not answer")
        token = subprocess.run(
            [sys.executable, "-m", "relais.cli", "users", "add", "m.robert", "--institution",
             "ORP-NE", "--role", "case_manager"], env=env, cwd=tmp_path, capture_output=True,
            text=True, check=True).stdout.strip()
        h = {"Authorization": f"Bearer {token}"}
        case = httpx.post(f"{base}/api/cases", headers=h, json={
            "route": "reseau-cii", "person": PERSON,
            "consent": {"grantor": "Jean Muster"}, "fields": {"age": 48}}).json()
        moved = httpx.post(f"{base}/api/cases/{case['id']}/events", headers={
            **h, "If-Match": f'"{case["version"]}"'}, json={"event": "transmettre"})
        assert moved.status_code == 200 and moved.json()["state"] == "triage"
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "Relais"
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 200, ready.text
        # one process runs its orchestration itself; with several, the parent runs it
        assert ready.json()["checks"]["orchestration"] == (
            "running" if workers == 1 else "external")
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=20)
