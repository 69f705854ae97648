"""`relais serve`, the README's main command, as a real process: a client written from the
contract opens and moves a case."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tests.api_server import relais_served, relais_user
from tests.conftest import PERSON


@pytest.mark.parametrize("workers", [1, 2])
def test_relais_serve_answers_a_client_written_from_the_contract(tmp_path: Path,
                                                                workers: int) -> None:
    env = {**os.environ, "RELAIS_DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite3'}"}
    with relais_served(tmp_path, env, "--workers", str(workers)) as base:
        token = relais_user(tmp_path, env)
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
