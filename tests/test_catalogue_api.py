"""The catalogue over real HTTP: programmes, places, a case's measures, steering figures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from relais.cases.services import CaseServices
from tests.api_server import People, running
from tests.catalogue_helpers import catalogue, open_case

RECYCLAGE = "atelier-recyclage"


@pytest.fixture
def api(services: CaseServices) -> Iterator[People]:
    catalogue(services)
    with running(services) as base:
        people = People(services, base)
        yield people
        people.close()


def test_every_role_reads_the_programmes_with_their_places(api: People) -> None:
    for who in ("ORP-NE", "CII-NE:steering", "CII-NE:admin"):
        answer = api[who].get("/api/programmes")
        assert answer.status_code == 200
    recyclage = next(p for p in answer.json() if p["code"] == RECYCLAGE)
    assert recyclage["type"] == "occupation" and recyclage["payer"] == "AC"
    assert recyclage["places"][0] == {"period": {"from": "2026-01-01", "to": "2026-06-30"},
                                      "capacity": 2}
    assert api.anonymous().get("/api/programmes").status_code == 401


def test_a_place_is_given_201_then_the_waiting_list_answers_202(
        api: People, services: CaseServices) -> None:
    cases = [open_case(services, i) for i in range(3)]
    orp = api["ORP-NE"]
    given = [orp.post(f"/api/cases/{c}/measures", json={"programme": RECYCLAGE}) for c in cases]
    assert [g.status_code for g in given] == [201, 201, 202]
    first, waiting = given[0].json(), given[2].json()
    assert (first["status"], first["start"], first["end"], first["cost_chf"]) == (
        "active", "2026-03-02", "2026-06-01", 6000)
    assert (waiting["status"], waiting["position"]) == ("waiting", 1)
    plan = orp.get(f"/api/cases/{cases[0]}/measures").json()
    assert plan["cost_by_payer"] == {"AC": 6000}
    history = orp.get(f"/api/cases/{cases[2]}/history").json()
    assert history[-1]["kind"] == "measure_waitlisted"


def test_ending_a_measure_offers_the_place_and_the_lead_starts_it(
        api: People, services: CaseServices) -> None:
    orp = api["ORP-NE"]
    cases = [open_case(services, i) for i in range(3)]
    ids = [orp.post(f"/api/cases/{c}/measures", json={"programme": RECYCLAGE}).json()["id"]
           for c in cases]
    ended = orp.post(f"/api/cases/{cases[0]}/measures/{ids[0]}/end",
                     json={"reason": "emploi trouvé"})
    assert (ended.status_code, ended.json()["status"]) == (200, "ended")
    offered = orp.get(f"/api/cases/{cases[2]}/measures").json()["measures"][0]
    assert (offered["status"], offered["offered"]) == ("planned", True)
    started = orp.post(f"/api/cases/{cases[2]}/measures/{ids[2]}/start")
    assert (started.status_code, started.json()["status"]) == (200, "active")
    again = orp.post(f"/api/cases/{cases[2]}/measures/{ids[2]}/start")
    assert again.status_code == 409 and again.json()["error"] == "conflict"


def test_refusals_are_json_and_french_first(api: People, services: CaseServices) -> None:
    orp = api["ORP-NE"]
    young = open_case(services, 1, age=16)
    refused = orp.post(f"/api/cases/{young}/measures", json={"programme": RECYCLAGE})
    assert refused.status_code == 409
    body = refused.json()
    assert body["error"] == "not_eligible" and body["message"].startswith("conditions non")
    case = open_case(services, 2)
    unknown = orp.post(f"/api/cases/{case}/measures", json={"programme": "nope"})
    assert (unknown.status_code, unknown.json()["error"]) == (404, "not_found")
    closed = orp.post(f"/api/cases/{case}/measures",
                      json={"programme": RECYCLAGE, "start": "2030-01-01"})
    assert (closed.status_code, closed.json()["error"]) == (422, "invalid_input")
    assert api["OAI-NE"].post(f"/api/cases/{case}/measures",
                              json={"programme": RECYCLAGE}).status_code == 404
    assert orp.post(f"/api/cases/{case}/measures/nope/end").status_code == 404
    bad = orp.post(f"/api/cases/{case}/measures", json={"programme": RECYCLAGE, "x": 1})
    assert bad.status_code == 422


def test_places_give_exact_occupancy_to_case_workers(api: People,
                                                    services: CaseServices) -> None:
    orp = api["ORP-NE"]
    for i in range(3):
        orp.post(f"/api/cases/{open_case(services, i)}/measures", json={"programme": RECYCLAGE})
    figures = orp.get(f"/api/programmes/{RECYCLAGE}/places",
                      params={"from": "2026-03-01", "to": "2026-03-31"}).json()
    assert figures == [{"programme": RECYCLAGE,
                        "period": {"from": "2026-01-01", "to": "2026-06-30"},
                        "capacity": 2, "occupied": 2, "free": 0, "waiting": 1,
                        "assignments": 2, "cost_by_payer": {"AC": 12000}}]
    assert len(orp.get(f"/api/programmes/{RECYCLAGE}/places").json()) == 2
    assert orp.get("/api/programmes/nope/places").status_code == 404
    assert orp.get(f"/api/programmes/{RECYCLAGE}/places",
                   params={"from": "2026-05-01", "to": "2026-01-01"}).status_code == 422
    assert api["CII-NE:steering"].get(f"/api/programmes/{RECYCLAGE}/places").status_code == 403


def test_the_steering_group_reads_aggregates_with_small_counts_hidden(
        api: People, services: CaseServices) -> None:
    orp = api["ORP-NE"]
    for i in range(3):
        orp.post(f"/api/cases/{open_case(services, i)}/measures", json={"programme": RECYCLAGE})
    figures = api["CII-NE:steering"].get("/api/steering/occupancy").json()
    spring = next(p for p in figures["programmes"]
                  if p["code"] == RECYCLAGE and p["period"]["from"] == "2026-01-01")
    assert (spring["capacity"], spring["occupied"], spring["waiting"]) == (2, "<5", "<5")
    assert "free" not in spring, "capacity minus free would give the count back"
    assert figures["by_payer"] == {"AC": {"assignments": "<5", "cost_chf": None}}
    assert figures["by_type"]["professionnel"] == {"capacity": 5, "occupied": 0, "waiting": 0}
    assert "case" not in str(figures) and "avs" not in str(figures)


def test_steering_counts_are_rounded_and_costs_shown_from_five_assignments(
        api: People, services: CaseServices) -> None:
    orp = api["ORP-NE"]
    for i in range(7):
        orp.post(f"/api/cases/{open_case(services, i, capacite_adaptee_pct=80)}/measures",
                 json={"programme": "formation-horlogerie"})
    figures = api["CII-NE:coordinator"].get(
        "/api/steering/occupancy", params={"from": "2026-01-01", "to": "2026-12-31"}).json()
    watch = next(p for p in figures["programmes"] if p["code"] == "formation-horlogerie")
    assert (watch["capacity"], watch["occupied"], watch["waiting"]) == (5, 5, "<5")
    # 5 assignments of 6 months at CHF 3000 (from 2 March): 90000
    assert figures["by_payer"] == {"AI": {"assignments": 5, "cost_chf": 90000}}
