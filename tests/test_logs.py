"""`relais serve` with `RELAIS_LOG_FORMAT=json`, as a real process: every line of its log is
one JSON object, and one person's request is followed by its id from the access line to the
action it queued, run by the embedded orchestration."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx

from tests.api_server import relais_served, relais_user
from tests.conftest import PERSON


def _wait(check: object, what: str, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if check():  # type: ignore[operator]
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(what)


def test_json_lines_carry_the_request_id_into_the_action(tmp_path: Path) -> None:
    env = {**os.environ, "RELAIS_DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite3'}",
           "RELAIS_LOG_FORMAT": "json", "PREFECT_HOME": str(tmp_path / "prefect")}
    log = tmp_path / "serve.log"
    with relais_served(tmp_path, env, log=log) as base:
        token = relais_user(tmp_path, env)
        h = {"Authorization": f"Bearer {token}"}
        r = httpx.post(f"{base}/api/cases", headers={**h, "X-Request-ID": "essai-42"}, json={
            "route": "reseau-cii", "person": PERSON, "fields": {"age": 48},
            "consent": {"grantor": "Jean Muster"}})
        assert r.status_code == 201 and r.headers["X-Request-ID"] == "essai-42"
        forged = httpx.get(f"{base}/healthz", headers={"X-Request-ID": "a\tb{}"})
        assert len(forged.headers["X-Request-ID"]) == 32  # not a sane token: a new id
        _wait(lambda: "notify_institutions done" in log.read_text("utf-8"),
              f"the referral's action never ran:\n{log.read_text('utf-8')[-3000:]}")
    lines = [json.loads(line) for line in log.read_text("utf-8").splitlines()
             if line.startswith("{")]
    others = [line for line in log.read_text("utf-8").splitlines()
              if line.strip() and not line.startswith("{")]
    # only the command's own advice to a person at a terminal is not JSON (stderr, once)
    assert all(line.startswith("Aucun utilisateur encore") for line in others), others
    assert all({"time", "level", "logger", "message", "request_id"} <= set(x) for x in lines)
    mine = [x for x in lines if x["request_id"] == "essai-42"]
    assert any(x["logger"] == "uvicorn.access" and "POST /api/cases" in x["message"]
               for x in mine), mine
    assert any(x["logger"] == "relais.dispatch" and "notify_institutions done" in x["message"]
               for x in mine), mine
