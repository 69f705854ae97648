"""What an `If-Match` names: the case as the person decided on it. Background work (an
action's result, a document, a reminder) moves the version on without invalidating it; a
decision (an event, a handoff, fields) does. Over a real server, on SQLite and PostgreSQL,
and the walk of docs/api.md against `relais serve` with its embedded orchestration."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from relais.cases.services import CaseServices
from tests.api_server import People, relais_served, relais_user, running
from tests.conftest import PERSON

DOCS = Path(__file__).parents[1] / "docs" / "api.md"


@pytest.fixture
def api(services: CaseServices) -> Iterator[tuple[CaseServices, People]]:
    with running(services) as base:
        people = People(services, base)
        yield services, people
        people.close()


def opened(people: People) -> dict:  # type: ignore[type-arg]
    r = people["ORP-NE"].post("/api/cases", json={
        "confirm_duplicate": True,  # the same person again, on purpose
        "route": "reseau-cii", "person": PERSON, "fields": {"age": 48},
        "consent": {"grantor": "Jean Muster"}})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def background_result(services: CaseServices, case_id: str, n: int = 1) -> None:
    """What the orchestration records when an action is done: ``action_done`` events."""
    for i in range(n):
        services.record_action(case_id, key=f"{case_id}:notify:{i}", action="notify_institutions",
                               summary={"sent": 1})


def fire(people: People, who: str, case_id: str, version: int, event: str,
         **body: object) -> httpx.Response:
    return people[who].post(f"/api/cases/{case_id}/events", json={"event": event, **body},
                            headers={"If-Match": f'"{version}"'})


def test_an_actions_result_does_not_invalidate_the_version_a_person_decided_on(
        api: tuple[CaseServices, People]) -> None:
    services, people = api
    case = opened(people)
    background_result(services, case["id"], 2)
    now = people["ORP-NE"].get(f"/api/cases/{case['id']}").json()
    assert now["version"] == case["version"] + 2  # the version still grows with every change
    r = fire(people, "ORP-NE", case["id"], case["version"], "transmettre")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "triage" and r.headers["ETag"] == f'"{now["version"] + 1}"'


def test_a_decision_in_between_still_answers_412(api: tuple[CaseServices, People]) -> None:
    services, people = api
    case = opened(people)
    assert fire(people, "ORP-NE", case["id"], case["version"], "transmettre").status_code == 200
    background_result(services, case["id"])
    r = fire(people, "ORP-NE", case["id"], case["version"], "ecarter", reason="doublon")
    assert r.status_code == 412 and r.json()["error"] == "stale_version", r.text
    fields = people["ORP-NE"].put(f"/api/cases/{case['id']}/contact", headers={
        "If-Match": f'"{case["version"]}"'}, json={"contact": {"email": "d@example.ch"},
                                                 "reason": "nouvelle adresse"})
    assert fields.status_code == 412


def test_a_version_from_the_future_is_412(api: tuple[CaseServices, People]) -> None:
    _, people = api
    case = opened(people)
    assert fire(people, "ORP-NE", case["id"], case["version"] + 5,
                "transmettre").status_code == 412


def test_a_burst_of_results_does_not_fail_the_person_next_step(
        api: tuple[CaseServices, People]) -> None:
    """Twenty cases, each read, then its actions' results recorded while the people act on
    what they read: none of them gets 412."""
    services, people = api
    cases = [opened(people) for _ in range(20)]

    def step(case: dict) -> int:  # type: ignore[type-arg]
        background_result(services, case["id"])
        return fire(people, "ORP-NE", case["id"], case["version"], "transmettre").status_code

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(step, cases)) == [200] * 20


def walk_of_the_docs() -> tuple[list[dict], list[str]]:  # type: ignore[type-arg]
    """The JSON bodies and If-Match values of the first shell walk in docs/api.md."""
    block = DOCS.read_text(encoding="utf-8").split("```sh", 1)[1].split("```", 1)[0]
    bodies = [json.loads(b) for b in re.findall(r"-d '(\{.*?\})'", block, re.S)]
    return bodies, re.findall(r"If-Match: (\"\d+\")", block)


def test_the_walk_of_the_api_docs_runs_against_relais_serve(tmp_path: Path) -> None:
    """docs/api.md's walk, by `relais serve` (its orchestration embedded): the referral's
    actions run and record their results before the second call, which still succeeds."""
    (opening, event), if_matches = walk_of_the_docs()
    assert if_matches == ['"1"']
    env = {**os.environ, "RELAIS_DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite3'}"}
    with relais_served(tmp_path, env) as base:
        token = relais_user(tmp_path, env)
        h = {"Authorization": f"Bearer {token}"}
        r = httpx.post(f"{base}/api/cases", headers=h, json=opening)
        assert r.status_code == 201 and r.headers["ETag"] == if_matches[0], r.text
        case_id = r.json()["id"]
        for _ in range(600):  # the referral's notice to the institutions, done in background
            if httpx.get(f"{base}/api/cases/{case_id}", headers=h).json()["version"] > 1:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the referral's action never recorded its result")
        moved = httpx.post(f"{base}/api/cases/{case_id}/events", json=event,
                           headers={**h, "If-Match": if_matches[0]})
        assert moved.status_code == 200, moved.text
        assert moved.json()["state"] == "triage"
