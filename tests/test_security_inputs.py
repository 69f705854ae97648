"""Hostile inputs over a real server (issue 11, findings 1 and 12): every one is answered 4xx
with a sentence, the server stays up, and nothing is written.

Finding 1: YAML nested tens of thousands of levels deep crashed the process (the composer
recurses on the C stack) before the route validation's own depth check ran.
Finding 12: integers and strings past what the database holds, NUL in a page form, absurd
dates and names made of invisible characters answered 500 or were stored."""

from __future__ import annotations

import json
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from relais.cases.services import CaseServices
from relais.cases.store.tables import route_t
from relais.conventions.catalogue_file import parse_catalogue
from relais.workflows.engine.validate import parse_route
from tests.api_server import People
from tests.browser import csrf_of, signed_in_client
from tests.conftest import PERSON, SPEC_EXAMPLE
from tests.test_cli import relais

ROUTE = SPEC_EXAMPLE.read_text("utf-8")
# ~30,000 levels crashed the process; 60,000 is the 120 KB body
HOSTILE = {
    "flow sequences": "a: " + "[" * 60_000 + "]" * 60_000,
    "flow mappings": "a: " + "{a: " * 40_000 + "}" * 40_000,
    "block sequences": "- " * 100_000 + "x",
    "mixed": "a: " + "[{a: " * 30_000 + "}]" * 30_000,
}
# a billion laughs: ten aliases of ten aliases of... nine levels deep
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9))


def published(services: CaseServices) -> int:
    with services.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(route_t)).scalar_one())


# -- finding 1: nesting and aliases -----------------------------------------------------------

@pytest.mark.parametrize("shape", list(HOSTILE))
def test_a_route_nested_sixty_thousand_levels_deep_is_refused_and_the_server_lives(
        people: People, shape: str) -> None:
    steering = people["CII-NE:steering"]  # the least trusted role that may validate
    start = time.perf_counter()
    answer = steering.post("/api/routes/validate", content=HOSTILE[shape].encode(),
                           headers={"Content-Type": "application/yaml"})
    assert time.perf_counter() - start < 5
    assert answer.status_code == 422
    assert [e["message"] for e in answer.json()["errors"]] == ["imbrication trop profonde"]
    assert people.anonymous().get("/healthz").status_code == 200


def test_publishing_a_deeply_nested_route_is_refused_and_stores_nothing(
        people: People, services: CaseServices) -> None:
    before = published(services)
    answer = people["CII-NE:coordinator"].post(
        "/api/routes", content=HOSTILE["flow sequences"].encode(),
        headers={"Content-Type": "application/yaml", "Accept-Language": "en"})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["message"] == "nesting too deep"
    assert published(services) == before


def test_a_billion_laughs_is_refused_at_once(people: People) -> None:
    start = time.perf_counter()
    answer = people["CII-NE:steering"].post("/api/routes/validate", content=LAUGHS.encode(),
                                            headers={"Content-Type": "application/yaml",
                                                     "Accept-Language": "en"})
    assert time.perf_counter() - start < 2
    assert answer.status_code == 422
    assert "YAML anchors and aliases (&, *) are not allowed" in {
        e["message"] for e in answer.json()["errors"]}


def test_the_workshop_page_refuses_a_deeply_nested_route_as_a_page(
        people: People, services: CaseServices) -> None:
    from relais.cases.store.users import set_password
    people["CII-NE:coordinator"]
    set_password(services.engine, "cii-ne-coordinator", "mot-de-passe-de-test")
    with closing(signed_in_client(people.base, "cii-ne-coordinator")) as browser:
        csrf = csrf_of(browser.get("/routes/atelier").text)
        for path in ("/routes/atelier", "/routes/atelier/simuler", "/routes/atelier/publier"):
            answer = browser.post(path, data={"csrf": csrf, "texte": HOSTILE["mixed"]})
            assert answer.status_code == 422, path
            assert "imbrication trop profonde" in answer.text
    assert people.anonymous().get("/healthz").status_code == 200


def test_every_reader_of_yaml_refuses_deep_nesting_before_composing(tmp_path: Path) -> None:
    for text in HOSTILE.values():
        assert {p.code for p in parse_route(text)[1]} == {"too_deep"}
        assert {p.code for p in parse_catalogue(text, {})[1]} == {"too_deep"}
    hostile = tmp_path / "profond.yaml"
    hostile.write_text(HOSTILE["flow sequences"])
    done = relais("routes", "validate", str(hostile), env={"RELAIS_LANG": "en"})
    assert done.returncode == 1 and done.stdout.startswith(f"{hostile}:1: ")
    assert done.stdout.endswith(": nesting too deep\n")


def test_nesting_within_the_limit_still_reads() -> None:
    fine = ROUTE.replace("fields:", "description: {fr: [[[[[[[[x]]]]]]]]}\nfields:", 1)
    assert {p.code for p in parse_route(fine)[1]} == {"wrong_type"}  # a list, not a text


# -- finding 12: integers past what the database holds -----------------------------------------

@pytest.mark.parametrize("version", [str(2**31), str(2**63), "9" * 5000, "0", "-1"],
                         ids=["2^31", "2^63", "5000 digits", "0", "-1"])
def test_a_route_version_the_database_cannot_hold_is_a_problem_on_its_line(
        people: People, services: CaseServices, version: str) -> None:
    text = ROUTE.replace("version: 1 ", f"version: {version} ", 1)
    coordinator = people["CII-NE:coordinator"]
    yaml_body = {"Content-Type": "application/yaml", "Accept-Language": "en"}
    checked = coordinator.post("/api/routes/validate", content=text.encode(), headers=yaml_body)
    assert checked.status_code == 422, checked.text
    assert [(e["line"], e["path"]) for e in checked.json()["errors"]] == [(2, "version")]
    before = published(services)
    stored = coordinator.post("/api/routes", content=text.encode(), headers=yaml_body)
    assert stored.status_code == 422 and published(services) == before


def test_the_largest_version_the_database_holds_is_published(people: People) -> None:
    text = ROUTE.replace("version: 1 ", f"version: {2**31 - 1} ", 1)
    stored = people["CII-NE:coordinator"].post("/api/routes", content=text.encode(),
                                               headers={"Content-Type": "application/yaml"})
    assert stored.status_code == 201 and stored.json()["version"] == 2**31 - 1
    drawn = people["CII-NE:steering"].get(f"/api/routes/reseau-cii/versions/{2**31 - 1}/"
                                          "diagram.svg")
    assert drawn.status_code == 200 and drawn.text.startswith("<svg")


@pytest.mark.parametrize(("old", "new", "line", "path", "message"), [
    ("reseau-cii", "r" * 65, 1, "id", "65 characters, at most 64"),
    ("signalement", "s" * 65, 20, "states." + "s" * 65, "65 characters, at most 64"),
    ("emploi", "e" * 65, 10, "outcomes." + "e" * 65, "65 characters, at most 64"),
    ("max: 100}", "max: 1" + "0" * 40 + "}", 17, "fields.incapacite_travail_pct.max",
     "number too long (more than 30 digits)"),
    ("max: 100}", "max: 1.0e+400}", 17, "fields.incapacite_travail_pct.max",
     "infinite or undefined numbers (.inf, .nan) are not allowed"),
    ("max: 100}", "max: .nan}", 17, "fields.incapacite_travail_pct.max",
     "infinite or undefined numbers (.inf, .nan) are not allowed"),
])
def test_names_and_numbers_past_what_the_database_holds_are_problems_on_their_line(
        people: People, old: str, new: str, line: int, path: str, message: str) -> None:
    assert old in ROUTE
    checked = people["CII-NE:coordinator"].post(
        "/api/routes/validate", content=ROUTE.replace(old, new).encode(), headers={
            "Content-Type": "application/yaml", "Accept-Language": "en"})
    assert checked.status_code == 422, checked.text
    assert [(e["line"], e["path"], e["message"]) for e in checked.json()["errors"]] == [
        (line, path, message)]


def test_a_nul_in_a_route_value_is_a_problem(people: People) -> None:
    text = ROUTE.replace("  fr: Réseau CII — cas complexe", '  fr: "Réseau\\0CII"', 1)
    checked = people["CII-NE:coordinator"].post(
        "/api/routes/validate", content=text.encode(), headers={
            "Content-Type": "application/yaml", "Accept-Language": "en"})
    assert checked.status_code == 422
    assert [e["path"] for e in checked.json()["errors"]] == ["title.fr"]


# -- finding 12: NUL in page forms ------------------------------------------------------------

@pytest.mark.parametrize("name", ["a\x00b", "\x00"])
def test_a_nul_in_a_page_form_is_refused_without_an_error_of_the_server(
        people: People, name: str) -> None:
    with httpx.Client(base_url=people.base, headers={"accept": "text/html"}) as browser:
        csrf = csrf_of(browser.get("/connexion").text)
        answer = browser.post("/connexion", data={"name": name, "password": "x", "csrf": csrf})
        assert answer.status_code == 422
        assert "NUL" in answer.text
        raw = browser.post("/connexion", content=f"name=a%00b&password=x&csrf={csrf}".encode(),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert raw.status_code == 422


# -- finding 12: absurd dates and invisible names ---------------------------------------------

def statutory_exchange(people: People) -> tuple[str, int]:
    """A case the ORP leads whose situation the OAI read on the law's basis (LACI 85f): an
    exchange the person must be told about afterwards."""
    orp = people["ORP-NE"]
    case = orp.post("/api/cases", json={"route": "reseau-cii", "person": PERSON,
                                        "consent": {"grantor": "Jean Muster"},
                                        "fields": {"age": 48}}).json()
    cid = case["id"]
    moved = orp.post(f"/api/cases/{cid}/events", json={"event": "transmettre"},
                     headers={"If-Match": '"1"'}).json()
    people["CII-NE:coordinator"].post(f"/api/cases/{cid}/events", json={"event": "retenir"},
                                      headers={"If-Match": f'"{moved["version"]}"'})
    assert people["OAI-NE"].get(f"/api/cases/{cid}").status_code == 200
    exchanges = orp.get(f"/api/cases/{cid}/exchanges").json()
    return cid, next(e["id"] for e in exchanges if e["inform_person"])


@pytest.mark.parametrize("on", ["0001-01-01", "9999-12-31", "2026-03-01", "2026-03-04"])
def test_a_person_informed_before_the_exchange_or_in_the_future_is_refused(
        people: People, services: CaseServices, on: str) -> None:
    cid, exchange = statutory_exchange(people)  # the clock: Monday 2 March 2026
    orp = people["ORP-NE"]
    answer = orp.post(f"/api/cases/{cid}/exchanges/{exchange}/informed", json={"on": on})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "invalid_input"
    assert all(e["informed_on"] is None for e in orp.get(f"/api/cases/{cid}/exchanges").json())
    today = orp.post(f"/api/cases/{cid}/exchanges/{exchange}/informed", json={"on": "2026-03-02"})
    assert today.status_code == 204, today.text


@pytest.mark.parametrize("name", ["\u202e", "\ufeff", "\u202eMuster", "Mus\u200bter", "Mus\nter",
                                  "---", "\u00a0", "Mus\x07ter"])
@pytest.mark.parametrize("key", ["official_name", "first_name"])
def test_a_name_of_invisible_or_control_characters_is_refused(
        people: People, services: CaseServices, key: str, name: str) -> None:
    answer = people["ORP-NE"].post("/api/cases", json={
        "route": "reseau-cii", "person": {**PERSON, key: name}, "fields": {"age": 48}})
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == f"person.{key}"
    with services.engine.connect() as conn:
        from relais.cases.store.tables import case_t
        assert conn.execute(select(func.count()).select_from(case_t)).scalar() == 0


@pytest.mark.parametrize("name", ["Muster", "d'Ambrosio-Núñez", "Ødegård", "Nguyễn", "李",
                                  "Jean Marc"])
def test_real_names_are_still_welcome(people: People, name: str) -> None:
    answer = people["ORP-NE"].post("/api/cases", json={
        "route": "reseau-cii", "person": {**PERSON, "official_name": name},
        "fields": {"age": 48}})
    assert answer.status_code == 201, answer.text



# -- finding 12, the same class found by probing: digits int() cannot read, unbounded fields ---

def test_a_version_written_in_superscript_digits_is_refused_not_a_500(
        people: People, services: CaseServices) -> None:
    from relais.cases.store.users import set_password
    orp = people["ORP-NE"]
    cid = orp.post("/api/cases", json={"route": "reseau-cii", "person": PERSON,
                                       "fields": {"age": 48}}).json()["id"]
    api = orp.post(f"/api/cases/{cid}/events", json={"event": "transmettre"},
                   headers={"If-Match": b'"\xb2"'})  # latin-1 "²": str.isdigit() says yes
    assert api.status_code == 422 and api.json()["error"] == "invalid_input"
    set_password(services.engine, "orp-ne", "mot-de-passe-de-test")
    with closing(signed_in_client(people.base, "orp-ne")) as browser:
        csrf = csrf_of(browser.get(f"/dossiers/{cid}").text)
        page = browser.post(f"/dossiers/{cid}/evenements", data={
            "csrf": csrf, "evenement": "transmettre", "version": "²"})
        assert page.status_code == 422
    assert services.get(cid).version == 1


UNBOUNDED = ROUTE.replace("id: reseau-cii ", "id: sans-bornes ", 1).replace(
    "  consentement: {type: boolean}\n",
    "  consentement: {type: boolean}\n  montant: {type: number}\n  depuis: {type: date}\n"
    "  note: {type: string}\n", 1)


@pytest.mark.parametrize("fields", [b'{"montant": 1e400}', b'{"montant": -Infinity}',
                                    b'{"montant": NaN}', b'{"montant": 1e300}',
                                    b'{"depuis": "0001-01-01"}', b'{"depuis": "9999-12-31"}',
                                    b'{"note": "\\ud800"}', b'{"note": "a\\u001bb"}'])
def test_a_field_value_no_store_can_hold_or_no_life_can_mean_is_refused(
        people: People, services: CaseServices, fields: bytes) -> None:
    services.publish_route(UNBOUNDED, by="coord")
    person = json.dumps(PERSON).encode()
    answer = people["ORP-NE"].post("/api/cases", content=b'{"route": "sans-bornes", "person": '
                                   + person + b', "fields": ' + fields + b"}",
                                   headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] in ("montant", "depuis", "note")
    fine = people["ORP-NE"].post("/api/cases", json={
        "route": "sans-bornes", "person": PERSON,
        "fields": {"montant": 1234.5, "depuis": "2026-01-31", "note": "Deux lignes\n\tici"}})
    assert fine.status_code == 201, fine.text


@pytest.mark.parametrize("grantor", ["\u202e", "\ufeff\u200b", "Jean\x07Muster", "..."])
def test_a_consent_granted_by_a_name_of_invisible_characters_is_refused(
        people: People, grantor: str) -> None:
    orp = people["ORP-NE"]
    cid = orp.post("/api/cases", json={"route": "reseau-cii", "person": PERSON,
                                       "fields": {"age": 48}}).json()["id"]
    consent = {"grantor": grantor, "recipients": ["AI"], "categories": ["medical"],
               "purpose": "Assessment commun CII"}
    answer = orp.post(f"/api/cases/{cid}/consents", json=consent)
    assert answer.status_code == 422 and answer.json()["error"] == "invalid_input"
    assert orp.get(f"/api/cases/{cid}/consents").json() == []
    assert orp.post(f"/api/cases/{cid}/consents", json={**consent, "grantor": "Jean Muster"}
                    ).status_code == 201
