"""A second open case for one person on one route: the referral answers 409
``duplicate_case`` with the way forward, saying only what the caller may know, unless the
referrer confirms (``"confirm_duplicate": true``)."""

from __future__ import annotations

from cases.services import CaseServices
from tests.api_server import People, running
from tests.conftest import PERSON

BODY = {"route": "reseau-cii", "person": PERSON, "consent": {"grantor": "Jean Muster"},
        "fields": {"age": 40, "capacite_adaptee_pct": 80}}


def test_a_second_open_case_on_the_route_is_refused_unless_confirmed(
        services: CaseServices) -> None:
    with running(services) as base:
        people = People(services, base)
        first = people["ORP-NE"].post("/api/cases", json=BODY)
        assert first.status_code == 201, first.text
        cid = first.json()["id"]
        again = people["ORP-NE"].post("/api/cases", json=BODY)
        assert again.status_code == 409, again.text
        problem = again.json()
        assert problem["error"] == "duplicate_case"
        assert problem["case"] == cid and problem["lead"] == "ORP-NE"  # its own: named
        assert "transfert" in problem["message"] and "participer" in problem["message"]
        # the SSR does not take part in the ORP's case: told that one exists, not which
        other = people["SSR-NE"].post("/api/cases", json=BODY)
        assert other.status_code == 409, other.text
        assert other.json()["error"] == "duplicate_case"
        assert "case" not in other.json() and "lead" not in other.json()
        assert cid not in other.text and "ORP" not in other.text
        # nothing opened by the refusals
        assert [c["id"] for c in people["ORP-NE"].get("/api/cases").json()["items"]] == [cid]
        confirmed = people["SSR-NE"].post("/api/cases", json={**BODY, "confirm_duplicate": True})
        assert confirmed.status_code == 201, confirmed.text
        people.close()


def test_another_identity_is_a_mismatch_not_a_duplicate(services: CaseServices) -> None:
    with running(services) as base:
        people = People(services, base)
        assert people["ORP-NE"].post("/api/cases", json=BODY).status_code == 201
        wrong = people["SSR-NE"].post("/api/cases", json={
            **BODY, "person": {**PERSON, "first_name": "Paul"}})
        assert wrong.json()["error"] == "identity_mismatch"  # no probing by AVS number
        people.close()
