"""Errors as RFC 9457 problem details, and an OpenAPI document that tells the truth about
them: over a real server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from relais.cases.services import CaseServices
from tests.api_server import People, running
from tests.conftest import PERSON

PROBLEM = "application/problem+json"


@pytest.fixture
def api(services: CaseServices) -> Iterator[tuple[str, People]]:
    with running(services) as base:
        people = People(services, base)
        yield base, people
        people.close()


def problem(r: httpx.Response, status: int, code: str) -> dict:  # type: ignore[type-arg]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].split(";")[0] == PROBLEM
    body = r.json()
    assert body["status"] == status and body["error"] == code
    assert body["type"] == f"urn:relais:problem:{code}"
    assert body["title"] and body["detail"] == body["message"]  # `message`: the contract's
    return body  # type: ignore[no-any-return]


def test_every_kind_of_error_is_a_problem_document(api: tuple[str, People]) -> None:
    base, people = api
    problem(httpx.get(f"{base}/api/cases"), 401, "unauthorized")
    problem(people["ORP-NE"].get("/api/cases/nope"), 404, "not_found")
    invalid = problem(people["ORP-NE"].post("/api/cases", json={"route": 3}), 422,
                      "invalid_input")
    assert invalid["problems"] and invalid["instance"] == "/api/cases"
    case = people["ORP-NE"].post("/api/cases", json={
        "route": "reseau-cii", "person": PERSON,
        "fields": {"age": 48}, "consent": {"grantor": "Jean Muster"}}).json()
    refused = problem(people["ORP-NE"].post(f"/api/cases/{case['id']}/events",
                                            json={"event": "retenir"}), 409, "event_not_allowed")
    assert refused["allowed_events"] == ["transmettre", "ecarter"]
    problem(people["ORP-NE"].post(f"/api/cases/{case['id']}/events", json={
        "event": "transmettre"}, headers={"If-Match": '"9"'}), 412, "stale_version")
    problem(people["CII-NE:steering"].get(f"/api/cases/{case['id']}"), 403, "forbidden")


def test_the_openapi_document_says_what_the_api_answers(api: tuple[str, People]) -> None:
    base, _ = api
    doc = httpx.get(f"{base}/openapi.json").json()
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer"}
    ops = {(path, method): op for path, item in doc["paths"].items()
           for method, op in item.items()}
    fire = ops[("/api/cases/{case_id}/events", "post")]
    assert fire["operationId"] == "fire"
    assert fire["security"] == [{"bearer": []}]
    for status in ("401", "403", "404", "409", "412", "422"):
        content = fire["responses"][status]["content"]
        assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}, status
    assert "security" not in ops[("/healthz", "get")]
    assert len({op["operationId"] for op in ops.values()}) == len(ops)  # unique
    assert all("__" not in op["operationId"] for op in ops.values())  # no FastAPI defaults
