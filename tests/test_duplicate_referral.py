"""A second open case for one person on one route: the referral answers 409
``duplicate_case`` with the way forward, saying only what the caller may know, unless the
referrer confirms (``"confirm_duplicate": true``)."""

from __future__ import annotations

import contextlib
from html import unescape

from relais.cases.services import CaseServices
from tests.api_server import People, running
from tests.browser import Site, csrf_of, signed_in_client
from tests.conftest import NETWORK_CONSENT, ORP, PERSON, refer

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


def test_the_referral_page_warns_with_the_way_forward_then_opens_when_confirmed(
        site: Site) -> None:
    s = site.services
    refer(s, route="reseau-cii", person=PERSON, actor=ORP, fields={"age": 48},
          consent=NETWORK_CONSENT)
    site.person("m.robert", "ORP-NE")
    form_data = {"route": "reseau-cii", **PERSON, "champ.age": "48",
                 "consentement_reseau": "oui", "motif": "dos"}
    with contextlib.closing(signed_in_client(site.base, "m.robert")) as client:
        answer = client.post("/dossiers/nouveau", data={
            "csrf": csrf_of(client.get("/dossiers/nouveau").text), **form_data})
        assert answer.status_code == 409
        text = unescape(answer.text)
        assert "déjà un dossier ouvert sur cette route" in text and "transfert" in text
        assert "Ouvrir quand même un second dossier" in text
        again = client.post("/dossiers/nouveau", data={
            "csrf": csrf_of(answer.text), **form_data, "doublon_confirme": "oui"})
        assert again.status_code == 303, again.text
