"""« Qui a consulté ce dossier » : the read record of one case, for the lead's case managers
and the coordination, over the API (SQLite and PostgreSQL) and as a page."""

from __future__ import annotations

from contextlib import closing
from typing import Any

from relais.cases.services import CaseServices
from tests.api_server import People
from tests.browser import Site, shoot, signed_in_client
from tests.conftest import ORP, PERSON, refer


def test_the_lead_and_the_coordination_read_who_consulted_the_case(people: People) -> None:
    orp, coord = people["ORP-NE"], people["CII-NE:coordinator"]
    case = orp.post("/api/cases", json={"route": "reseau-cii", "person": PERSON,
                                        "fields": {"age": 48},
                                        "consent": {"grantor": "Jean Muster"}}).json()
    orp.post(f"/api/cases/{case['id']}/events", json={"event": "transmettre"})
    coord.get(f"/api/cases/{case['id']}")
    coord.get(f"/api/cases/{case['id']}/history")
    seen = orp.get(f"/api/cases/{case['id']}/reads")
    assert seen.status_code == 200, seen.text
    body = seen.json()
    latest = [(r["institution"], r["what"]) for r in body["items"][:3]]
    assert latest == [("ORP-NE", "reads"), ("CII-NE", "history"), ("CII-NE", "case")]
    assert body["total"] == len(body["items"]) >= 5
    assert coord.get(f"/api/cases/{case['id']}/reads").status_code == 200
    # an institution of the same kind that does not take part: nothing said of the case
    assert people["ORP-LCF"].get(f"/api/cases/{case['id']}/reads").status_code == 404
    assert people["CII-NE:steering"].get(f"/api/cases/{case['id']}/reads").status_code == 403


def test_a_partner_that_does_not_lead_may_not_read_the_record(people: People) -> None:
    orp = people["ORP-NE"]
    case = orp.post("/api/cases", json={"route": "reseau-cii", "person": PERSON,
                                        "fields": {"age": 48},
                                        "consent": {"grantor": "Jean Muster"}}).json()
    orp.post(f"/api/cases/{case['id']}/events", json={"event": "transmettre"})
    people["CII-NE:coordinator"].post(f"/api/cases/{case['id']}/events",
                                      json={"event": "retenir"})
    oai = people["OAI-NE"]
    assert oai.get(f"/api/cases/{case['id']}").status_code == 200  # a partner now
    refused = oai.get(f"/api/cases/{case['id']}/reads")
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"


def test_the_page_lists_the_reads_in_words_and_swiss_dates(site: Site) -> None:
    s: CaseServices = site.services
    case_id = refer(s, route="reseau-cii", person=PERSON, actor=ORP,
                    fields={"age": 48}).case.id
    site.person("orp", "ORP-NE")
    with closing(signed_in_client(site.base, "orp")) as c:
        assert f'href="/dossiers/{case_id}/consultations"' in c.get(f"/dossiers/{case_id}").text
        answer = c.get(f"/dossiers/{case_id}/consultations")
    assert answer.status_code == 200
    assert "Qui a consulté ce dossier" in answer.text and "le dossier" in answer.text
    page: Any = site.signed_in("orp")
    page.goto(f"/dossiers/{case_id}/consultations")
    rows = page.locator("tbody tr").all_inner_texts()
    assert rows and "ORP-NE" in rows[0] and "ce journal" in rows[0]
    assert page.locator("tbody tr td").first.inner_text()[2] == "."  # dd.mm.yyyy
    shoot(page, "case-reads")
