"""Errors as RFC 9457 problem details, and an OpenAPI document that tells the truth about
them: over a real server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from relais.cases.services import CaseServices
from tests.api_server import People, running
from tests.conftest import PERSON, SPEC_EXAMPLE

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


@pytest.mark.parametrize(("lang", "title", "said", "route_said"), [
    ("de-CH,de;q=0.9", "Nicht verarbeitbarer Inhalt", "ungültiger Wert: body.route",
     "1 Problem(e) in der Routendatei"),
    ("it-CH", "Contenuto non elaborabile", "valore non valido: body.route",
     "1 problema/i nel file di percorso"),
    ("fr-CH", "Contenu non traitable", "valeur invalide : body.route",
     "1 problème(s) dans le fichier de route"),
    (None, "Contenu non traitable", "valeur invalide : body.route",
     "1 problème(s) dans le fichier de route"),
])
def test_a_422_speaks_the_language_asked_with_the_same_code(
        api: tuple[str, People], lang: str | None, title: str, said: str,
        route_said: str) -> None:
    """``Accept-Language`` picks the words (one language a string, ``Content-Language``
    names it); the ``error`` code and ``type`` stay as clients know them."""
    _, people = api
    asked = {"accept-language": lang} if lang else {}
    invalid = people["ORP-NE"].post("/api/cases", json={"route": 3}, headers=asked)
    body = problem(invalid, 422, "invalid_input")
    assert (body["title"], body["message"]) == (title, said)
    assert invalid.headers["content-language"] == (lang or "fr")[:2]
    bad = SPEC_EXAMPLE.read_text().replace("to: plan\n", "to: plann\n", 1)
    route = people["ORP-NE"].post("/api/routes/validate", content=bad, headers={
        **asked, "Content-Type": "application/yaml"})
    body = problem(route, 422, "invalid_route")
    assert body["message"] == route_said and " / " not in body["errors"][0]["message"]
    assert "plann" in body["errors"][0]["message"]


def test_a_domain_refusal_is_in_one_language(api: tuple[str, People]) -> None:
    _, people = api
    said = {lang: people["ORP-NE"].get("/api/cases/nope", headers={
        "accept-language": lang}).json()["message"] for lang in ("fr", "de", "it", "en")}
    assert said == {"fr": "cas introuvable", "de": "Fall nicht gefunden",
                    "it": "caso non trovato", "en": "case not found"}
    case = people["ORP-NE"].post("/api/cases", json={
        "route": "reseau-cii", "person": PERSON, "fields": {"age": 48},
        "consent": {"grantor": "Jean Muster"}}).json()
    refused = {lang: people["ORP-NE"].post(f"/api/cases/{case['id']}/events", json={
        "event": "retenir"}, headers={"accept-language": lang}).json()
        for lang in ("fr", "de", "it", "en")}
    assert {lang: r["message"] for lang, r in refused.items()} == {
        "fr": "« retenir » n'est pas possible à l'étape « Signalement »",
        "de": "jetzt nicht möglich", "it": "non possibile ora", "en": "not allowed now"}
    assert {r["error"] for r in refused.values()} == {"event_not_allowed"}
