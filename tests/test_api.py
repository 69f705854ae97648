"""The HTTP API over a real server, on SQLite and PostgreSQL: the contract, who sees what,
bad input, and races."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from relais.cases.services import CaseServices
from tests.api_server import People, running
from tests.conftest import PERSON, SPEC_EXAMPLE


@pytest.fixture
def api(services: CaseServices) -> Iterator[tuple[str, People]]:
    with running(services) as base:
        people = People(services, base)
        yield base, people
        people.close()


def open_case(people: People, **fields: object) -> dict:  # type: ignore[type-arg]
    r = people["ORP-NE"].post("/api/cases", json={
        "confirm_duplicate": True,  # the same person again, on purpose
        "route": "reseau-cii", "person": PERSON,
        "consent": {"grantor": "Jean Muster"}, "fields": {"age": 48, **fields}, "reason": "Dos"})
    assert r.status_code == 201, r.text
    assert r.headers["ETag"] == '"1"'
    return r.json()  # type: ignore[no-any-return]


def fire(people: People, who: str, case: dict, event: str, **body: object) -> httpx.Response:  # type: ignore[type-arg]
    return people[who].post(f"/api/cases/{case['id']}/events", json={"event": event, **body})


def test_health_needs_no_token(api: tuple[str, People]) -> None:
    assert httpx.get(f"{api[0]}/healthz").json() == {"status": "ok"}


def test_no_token_or_a_bad_one_is_401_in_json(api: tuple[str, People]) -> None:
    base, _ = api
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}):
        r = httpx.get(f"{base}/api/cases", headers=headers)
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"


def test_journey_a_through_the_api(api: tuple[str, People]) -> None:
    _, people = api
    case = open_case(people)
    assert (case["state"], case["lead"], case["version"]) == ("signalement", "ORP-NE", 1)
    assert case["allowed_events"] == ["transmettre", "ecarter"]
    assert fire(people, "ORP-NE", case, "transmettre").json()["state"] == "triage"
    assert fire(people, "CII-NE:coordinator", case, "retenir").json()["state"] == "assessment"
    r = fire(people, "ORP-NE", case, "planifier", lead="OAI-NE")
    assert r.status_code == 202 and r.json()["signoff"]["awaited"] == ["AI", "SA"]
    assert fire(people, "OAI-NE", case, "planifier").status_code == 202
    r = fire(people, "SSR-NE", case, "planifier")
    body = r.json()
    assert r.status_code == 202 and body["pending_handoff"]["to"] == "OAI-NE"
    assert body["lead"] == "ORP-NE"
    r = people["OAI-NE"].post(f"/api/handoffs/{body['pending_handoff']['id']}/accept")
    assert r.status_code == 200 and (r.json()["lead"], r.json()["state"]) == ("OAI-NE", "plan")
    assert fire(people, "OAI-NE", case, "lancer").json()["state"] == "mesures"
    assert fire(people, "OAI-NE", case, "solution_trouvee").json()["state"] == "suivi"
    r = fire(people, "OAI-NE", case, "cloturer", outcome="emploi_partiel")
    assert r.json()["closed"] is True and r.json()["outcome"] == "emploi_partiel"
    history = people["OAI-NE"].get(f"/api/cases/{case['id']}/history").json()
    assert [h["kind"] for h in history][:3] == ["case_opened", "transitioned", "transitioned"]
    assert {"at", "actor", "institution", "event", "from", "to", "reason"} <= set(history[1])


def test_a_refusal_needs_a_reason(api: tuple[str, People]) -> None:
    _, people = api
    case = open_case(people)
    fire(people, "ORP-NE", case, "transmettre")
    fire(people, "CII-NE:coordinator", case, "retenir")
    for who in ("ORP-NE", "OAI-NE", "SSR-NE"):
        body = fire(people, who, case, "planifier", **({"lead": "OAI-NE"} if who == "ORP-NE"
                                                        else {})).json()
    hid = body["pending_handoff"]["id"]
    assert people["OAI-NE"].post(f"/api/handoffs/{hid}/refuse").status_code == 422
    r = people["OAI-NE"].post(f"/api/handoffs/{hid}/refuse", json={"reason": "Incomplet"})
    assert r.status_code == 200 and r.json()["lead"] == "ORP-NE"
    assert r.json()["pending_handoff"] is None


def test_an_event_not_allowed_is_409_with_the_allowed_events(api: tuple[str, People]) -> None:
    _, people = api
    case = open_case(people)
    r = fire(people, "ORP-NE", case, "cloturer", outcome="emploi_plein")
    assert r.status_code == 409
    assert r.json()["error"] == "event_not_allowed"
    assert r.json()["allowed_events"] == ["transmettre", "ecarter"]


def test_a_stale_if_match_is_412_and_a_fresh_one_works(api: tuple[str, People]) -> None:
    _, people = api
    case = open_case(people)
    ok = people["ORP-NE"].post(f"/api/cases/{case['id']}/events", json={
        "event": "transmettre"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'
    stale = people["CII-NE:coordinator"].post(f"/api/cases/{case['id']}/events", json={
        "event": "retenir"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["error"] == "stale_version"


def test_concurrent_clients_on_one_case_one_wins(api: tuple[str, People]) -> None:
    _, people = api
    case = open_case(people)
    client = people["ORP-NE"]
    results: list[int] = []

    def go() -> None:
        r = client.post(f"/api/cases/{case['id']}/events", json={"event": "transmettre"},
                        headers={"If-Match": '"1"'})
        results.append(r.status_code)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results)[0] == 200 and results.count(200) == 1
    assert all(code in (200, 409, 412) for code in results)


@pytest.mark.parametrize(("body", "status"), [
    ({"route": "reseau-cii", "person": {**PERSON, "avs": "756.1234.5678.98"}}, 422),
    ({"route": "nulle-part", "person": PERSON}, 404),
    ({"route": "reseau-cii", "person": PERSON, "fields": {"age": "vieux"}}, 422),
    ({"route": "reseau-cii", "person": PERSON, "extra": 1}, 422),
    ({"route": "reseau-cii"}, 422),
    ({"route": "reseau-cii", "person": PERSON, "reason": "x" * 5000}, 422),
    ([], 422),
])
def test_bad_input_gets_a_4xx_with_a_sentence(api: tuple[str, People], body: object,
                                              status: int) -> None:
    r = api[1]["ORP-NE"].post("/api/cases", json=body)
    assert r.status_code == status, r.text
    assert set(r.json()) >= {"error", "message"} and r.json()["message"]


def test_garbage_paths_and_bodies_are_4xx(api: tuple[str, People]) -> None:
    client = api[1]["ORP-NE"]
    assert client.get("/api/cases/%00%ff").status_code == 422
    assert client.get("/api/cases/pas-un-cas").status_code == 404
    assert client.post("/api/cases", json={"route": "reseau-cii", "person": PERSON,
                                           "reason": "a\x00b"}).status_code == 422
    assert client.get("/api/nothing").json()["error"] == "not_found"
    assert client.post("/api/cases", content=b"{not json",
                       headers={"Content-Type": "application/json"}).status_code == 422
    assert client.post("/api/cases", content=b"x" * (2 * 1024 * 1024)).status_code == 413
    assert client.get("/api/cases?cursor=%%%").status_code == 422
    assert client.get("/api/cases?limit=0").status_code == 422


def test_an_institution_not_taking_part_cannot_know_the_case_exists(
        api: tuple[str, People]) -> None:
    _, people = api
    case = open_case(people)
    assert people["SSR-LCF"].get(f"/api/cases/{case['id']}").status_code == 404
    assert people["SSR-LCF"].get(f"/api/cases/{case['id']}/history").status_code == 404
    assert fire(people, "SSR-LCF", case, "transmettre").status_code == 404
    assert people["SSR-LCF"].get("/api/cases").json()["items"] == []
    assert people["CII-NE:coordinator"].get(f"/api/cases/{case['id']}").status_code == 200
    fire(people, "ORP-NE", case, "transmettre")
    fire(people, "CII-NE:coordinator", case, "retenir")  # a joint step: SA takes part now
    assert people["SSR-NE"].get(f"/api/cases/{case['id']}").status_code == 200  # its partner
    assert people["SSR-LCF"].get(f"/api/cases/{case['id']}").status_code == 404  # not chosen


def test_a_partner_that_sees_the_case_still_cannot_move_it(api: tuple[str, People]) -> None:
    _, people = api
    case = open_case(people)
    assert people["CII-NE:coordinator"].get(f"/api/cases/{case['id']}").status_code == 200
    r = fire(people, "CII-NE:coordinator", case, "transmettre")
    assert r.status_code == 403 and r.json()["error"] == "forbidden"


def test_steering_users_get_aggregates_and_no_case(api: tuple[str, People]) -> None:
    _, people = api
    case = open_case(people)
    steering = people["CII-NE:steering"]
    assert steering.get(f"/api/cases/{case['id']}").status_code == 403
    assert steering.get("/api/cases").status_code == 403
    figures = steering.get("/api/steering/indicators").json()
    assert figures["referred"] == "<5" and figures["open_by_state"] == {"signalement": "<5"}
    # without dates: the 366 days up to the services' day (the test clock's), as the pages
    assert (figures["from"], figures["to"]) == ("2025-03-02T00:00:00+00:00",
                                                "2026-03-03T00:00:00+00:00")
    assert steering.get("/api/steering/flows").json() == []
    assert people["ORP-NE"].get("/api/steering/indicators").status_code == 403
    far = steering.get("/api/steering/flows", params={"to": "9999-12-31"})
    assert far.status_code == 422 and far.json()["error"] == "invalid_input"


def test_routes_are_validated_published_and_drawn(api: tuple[str, People]) -> None:
    _, people = api
    coord, manager = people["CII-NE:coordinator"], people["ORP-NE"]
    yaml_headers = {"Content-Type": "application/yaml"}
    bad = SPEC_EXAMPLE.read_text().replace("to: plan\n", "to: plann\n", 1)
    r = manager.post("/api/routes/validate", content=bad, headers=yaml_headers)
    assert r.status_code == 422 and r.json()["valid"] is False
    assert {"line", "path", "message"} <= set(r.json()["errors"][0])
    good = SPEC_EXAMPLE.read_text().replace("id: reseau-cii", "id: exemple")
    assert manager.post("/api/routes/validate", content=good,
                        headers=yaml_headers).json() == {"valid": True}
    assert manager.post("/api/routes", content=good, headers=yaml_headers).status_code == 403
    assert coord.post("/api/routes", content=good, headers=yaml_headers).status_code == 201
    other = good.replace("5 working days", "6 working days")
    assert coord.post("/api/routes", content=other, headers=yaml_headers).status_code == 409
    routes = {r["id"]: r["versions"] for r in manager.get("/api/routes").json()}
    assert routes["exemple"] == [1] and "cmfp" in routes
    svg = manager.get("/api/routes/exemple/versions/1/diagram.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert manager.get("/api/routes/exemple/versions/9/diagram.svg").status_code == 404


def test_deadlines_lists_the_callers_cases_soonest_first(api: tuple[str, People]) -> None:
    _, people = api
    case = open_case(people)
    due = people["ORP-NE"].get("/api/deadlines", params={"before": "2030-01-01T00:00:00Z"})
    assert [d["case"] for d in due.json()] == [case["id"]]
    assert people["SSR-LCF"].get("/api/deadlines",
                                 params={"before": "2030-01-01T00:00:00Z"}).json() == []


def test_every_read_of_a_case_file_is_logged(api: tuple[str, People],
                                             services: CaseServices) -> None:
    from sqlalchemy import select

    from relais.cases.store.tables import read_t
    _, people = api
    case = open_case(people)
    people["ORP-NE"].get(f"/api/cases/{case['id']}")
    people["ORP-NE"].get(f"/api/cases/{case['id']}/history")
    with services.engine.connect() as conn:  # the referral's answer shows the file too
        assert sorted(r.what for r in conn.execute(select(read_t.c.what))) == \
            ["case", "case", "history"]


def test_cursor_pagination_walks_every_case_once(api: tuple[str, People]) -> None:
    _, people = api
    ids = {open_case(people)["id"] for _ in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = people["ORP-NE"].get("/api/cases", params=params).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)


def test_medical_data_go_out_only_with_consent_and_exchanges_are_recorded(
        api: tuple[str, People]) -> None:
    _, people = api
    case = open_case(people, incapacite_travail_pct=100)
    cid = case["id"]
    assert case["fields"]["incapacite_travail_pct"] == 100  # the lead's own file
    fire(people, "ORP-NE", case, "transmettre")
    fire(people, "CII-NE:coordinator", case, "retenir")
    seen_by_ai = people["OAI-NE"].get(f"/api/cases/{cid}").json()
    assert seen_by_ai["legal_basis"]["situation"] == "LACI art. 85f"
    assert "incapacite_travail_pct" not in seen_by_ai["fields"]
    assert "medical" in seen_by_ai["withheld"] and seen_by_ai["person"] is not None
    assert people["SSR-NE"].get(f"/api/cases/{cid}").json()["fields"].get(
        "incapacite_travail_pct") is None
    r = people["ORP-NE"].post(f"/api/cases/{cid}/consents", json={
        "grantor": "Jean Muster", "recipients": ["AI"], "categories": ["medical"],
        "purpose": "Assessment commun CII"})
    assert r.status_code == 201
    consent = r.json()["id"]
    assert people["OAI-NE"].post(f"/api/cases/{cid}/consents", json={
        "grantor": "x", "recipients": ["AI"], "categories": ["medical"],
        "purpose": "p"}).status_code == 403  # only the lead records consents
    seen = people["OAI-NE"].get(f"/api/cases/{cid}").json()
    assert seen["fields"]["incapacite_travail_pct"] == 100
    assert seen["legal_basis"]["medical"] == "consentement / consent"
    exchanges = people["ORP-NE"].get(f"/api/cases/{cid}/exchanges").json()
    statutory = [e for e in exchanges if e["legal_basis"] == "LACI art. 85f"
                 and e["recipient"] == "OAI-NE"]
    assert statutory and all(e["inform_person"] and e["informed_on"] is None for e in statutory)
    done = people["ORP-NE"].post(f"/api/cases/{cid}/exchanges/{statutory[0]['id']}/informed",
                                 json={"on": "2026-03-02"})
    assert done.status_code == 204
    assert people["ORP-NE"].post(f"/api/consents/{consent}/revoke").status_code == 200
    assert "medical" in people["OAI-NE"].get(f"/api/cases/{cid}").json()["withheld"]


def accept_pending(people: People, who: str, body: dict) -> dict:  # type: ignore[type-arg]
    r = people[who].post(f"/api/handoffs/{body['pending_handoff']['id']}/accept")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_journey_b_through_the_api(api: tuple[str, People]) -> None:
    """SA -> AI -> partial pension, with a refusal on the way."""
    _, people = api
    r = people["SSR-LCF"].post("/api/cases", json={
        "route": "reseau-cii", "person": {**PERSON, "avs": "756.9217.0769.85"},
        "consent": {"grantor": "Jean Muster"},
        "fields": {"age": 31, "signal": "apres_fin_de_droit"}})
    case = r.json()
    assert r.status_code == 201 and case["lead"] == "SSR-LCF"
    fire(people, "SSR-LCF", case, "transmettre")
    fire(people, "CII-NE:coordinator", case, "retenir")
    for who in ("SSR-LCF", "ORP-LCF", "OAI-NE"):  # the partners recorded for it
        body = fire(people, who, case, "planifier",
                    **({"lead": "OAI-NE"} if who == "SSR-LCF" else {})).json()
    hid = body["pending_handoff"]["id"]
    refused = people["OAI-NE"].post(f"/api/handoffs/{hid}/refuse",
                                    json={"reason": "Rapport psychiatrique manquant"})
    assert refused.json()["lead"] == "SSR-LCF"
    # the plan all three signed still holds: its handoff is proposed again, no new signatures
    body = fire(people, "SSR-LCF", case, "planifier", lead="OAI-NE").json()
    assert accept_pending(people, "OAI-NE", body)["lead"] == "OAI-NE"
    fire(people, "OAI-NE", case, "lancer")
    closed = fire(people, "OAI-NE", case, "cloturer", outcome="rente_ai_partielle",
                  reason="Rente 50 %, emploi 50 %").json()
    assert (closed["closed"], closed["outcome"], closed["transfers"]) == \
        (True, "rente_ai_partielle", 1)
    flows = people["CII-NE:steering"].get("/api/steering/flows").json()
    assert flows == [{"from": "SA", "to": "AI", "count": "<5"}]


def test_journey_c_through_the_api(api: tuple[str, People]) -> None:
    """Migration -> vocational training; an AI side branch does not change the lead."""
    _, people = api
    r = people["SMIG-NE"].post("/api/cases", json={
        "route": "cmfp", "person": {**PERSON, "avs": "756.0000.0000.02"},
        "fields": {"age": 19, "statut_sejour": "admission_provisoire",
                   "problematiques_multiples": True, "suivi_deja_assure": False}})
    assert r.status_code == 201, r.text
    case = r.json()
    body = fire(people, "SMIG-NE", case, "transmettre")
    assert body.status_code == 202
    assert accept_pending(people, "OFIJ-NE", body.json())["state"] == "examen_entree"
    fire(people, "OFIJ-NE", case, "admettre")
    fire(people, "OFIJ-NE", case, "accompagner")
    fire(people, "OFIJ-NE", case, "demander_bilan_ai", reason="Dyslexie suspectée")
    side = fire(people, "OAI-NE", case, "bilan_rendu").json()
    assert (side["state"], side["lead"]) == ("accompagnement", "OFIJ-NE")
    closed = fire(people, "OFIJ-NE", case, "cloturer", outcome="cfc_afp").json()
    assert closed["closed"] and closed["outcome"] == "cfc_afp"
