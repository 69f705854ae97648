"""The sign-off over the API, on a real server, SQLite and PostgreSQL: each signatory sees
the proposal and approves or refuses it; the history credits the proposal's author; the
coordination's settlement resumes the signed step on the signatures already given."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from relais.cases.services import CaseServices
from tests.api_server import People, running
from tests.conftest import PERSON


@pytest.fixture
def api(services: CaseServices) -> Iterator[People]:
    with running(services) as base:
        people = People(services, base)
        yield people
        people.close()


def fire(people: People, who: str, case: dict[str, Any], event: str,
         **body: object) -> httpx.Response:
    return people[who].post(f"/api/cases/{case['id']}/events", json={"event": event, **body})


def in_assessment(people: People) -> dict[str, Any]:
    r = people["ORP-NE"].post("/api/cases", json={
        "route": "reseau-cii", "person": PERSON,
        "fields": {"age": 48}, "consent": {"grantor": "Jean Muster"}, "reason": "Dos"})
    assert r.status_code == 201, r.text
    case: dict[str, Any] = r.json()
    assert fire(people, "ORP-NE", case, "transmettre").status_code == 200
    assert fire(people, "CII-NE:coordinator", case, "retenir").status_code == 200
    return case


def signoff_of(people: People, who: str, case: dict[str, Any]) -> dict[str, Any]:
    r = people[who].get(f"/api/cases/{case['id']}")
    assert r.status_code == 200, r.text
    s: dict[str, Any] = r.json()["signoff"]
    return s


def post(people: People, who: str, case: dict[str, Any], what: str,
         **body: object) -> httpx.Response:
    return people[who].post(f"/api/cases/{case['id']}/signoff/{what}", json=body)


def test_each_signatory_sees_the_proposal_and_approves_or_refuses_it(api: People) -> None:
    people = api
    case = in_assessment(people)
    r = fire(people, "OAI-NE", case, "planifier", lead="OAI-NE",
             reason="Atteinte à la santé au premier plan")
    assert r.status_code == 202
    s = signoff_of(people, "SSR-NE", case)
    assert (s["event"], s["status"], s["signed"], s["awaited"]) == \
        ("planifier", "open", ["OAI-NE"], ["AC", "SA"])
    assert s["proposal"]["lead"] == "OAI-NE"
    assert s["proposal"]["reason"] == "Atteinte à la santé au premier plan"
    assert s["proposed_by"] == {"user": "oai-ne", "institution": "OAI-NE"}
    assert s["proposed_at"] is not None
    assert s["signatures"] == [{"name": "AI", "institution": "OAI-NE"}]
    assert s["allowed"] == ["approve", "refuse"]
    assert signoff_of(people, "OAI-NE", case)["allowed"] == ["withdraw"]

    # naming another lead is answered with what to do instead
    r = fire(people, "SSR-NE", case, "planifier", lead="SSR-NE")
    assert r.status_code == 409 and "refuser" in r.json()["message"]
    # a refusal needs a reason; with one, the proposal goes back to its author
    assert post(people, "SSR-NE", case, "refuse").status_code == 422
    r = post(people, "SSR-NE", case, "refuse", reason="Les mesures SSR manquent au plan")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["lead"], body["state"]) == ("ORP-NE", "assessment")
    s = body["signoff"]
    assert (s["status"], s["signed"], s["refusal"]["institution"], s["refusal"]["reason"]) == \
        ("refused", [], "SSR-NE", "Les mesures SSR manquent au plan")
    assert signoff_of(people, "OAI-NE", case)["allowed"] == ["propose", "withdraw"]
    assert post(people, "ORP-NE", case, "approve").status_code == 409

    # the author proposes again; the others approve as it stands (no lead named)
    r = fire(people, "OAI-NE", case, "planifier", reason="Plan complété des mesures SSR")
    assert r.status_code == 202 and r.json()["signoff"]["status"] == "open"
    assert post(people, "SSR-NE", case, "approve", reason="Accord SSR").status_code == 202
    r = post(people, "ORP-NE", case, "approve")
    assert r.status_code == 202 and r.json()["pending_handoff"]["to"] == "OAI-NE"

    # finding 4: the handoff is the author's, with its reason; each line keeps its own
    history = people["ORP-NE"].get(f"/api/cases/{case['id']}/history").json()
    proposed = next(h for h in history if h["kind"] == "handoff_proposed")
    assert (proposed["actor"], proposed["institution"], proposed["reason"]) == \
        ("oai-ne", "OAI-NE", "Plan complété des mesures SSR")
    signed = [(h["institution"], h["reason"]) for h in history if h["kind"] == "signed"]
    assert ("SSR-NE", "Accord SSR") in signed and ("ORP-NE", None) in signed
    refused = next(h for h in history if h["kind"] == "signoff_refused")
    assert (refused["institution"], refused["reason"]) == \
        ("SSR-NE", "Les mesures SSR manquent au plan")


def test_the_author_withdraws_and_nothing_else_changes(api: People) -> None:
    people = api
    case = in_assessment(people)
    fire(people, "SSR-NE", case, "planifier", lead="SSR-NE", reason="Aide sociale d'abord")
    assert post(people, "OAI-NE", case, "withdraw").status_code == 403
    version = people["SSR-NE"].get(f"/api/cases/{case['id']}").headers["ETag"]
    stale = people["SSR-NE"].post(f"/api/cases/{case['id']}/signoff/withdraw", json={},
                                  headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    r = people["SSR-NE"].post(f"/api/cases/{case['id']}/signoff/withdraw",
                              json={"reason": "Attendre l'expertise"},
                              headers={"If-Match": version})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["signoff"], body["lead"], body["state"]) == (None, "ORP-NE", "assessment")
    assert post(people, "SSR-NE", case, "withdraw").status_code == 404


def test_a_settlement_resumes_the_signed_step_on_the_signatures_given(api: People) -> None:
    people = api
    case = in_assessment(people)
    fire(people, "ORP-NE", case, "planifier", lead="OAI-NE", reason="Santé")
    post(people, "OAI-NE", case, "approve")
    body = post(people, "SSR-NE", case, "approve").json()
    for _ in range(2):  # refused twice: escalated
        r = people["OAI-NE"].post(f"/api/handoffs/{body['pending_handoff']['id']}/refuse",
                                  json={"reason": "Dossier médical incomplet"})
        assert r.status_code == 200, r.text
        assert r.json()["signoff"]["status"] == "complete"  # its signatures still hold
        if not r.json()["escalated"]:
            body = fire(people, "ORP-NE", case, "planifier").json()  # no new signatures
            assert body["pending_handoff"]["to"] == "OAI-NE"
    url = f"/api/cases/{case['id']}/escalation/settle"
    assert people["ORP-NE"].post(url, json={"reason": "Moi"}).status_code == 403
    r = people["CII-NE:coordinator"].post(url, json={"reason": "Compétence SSR",
                                                     "lead": "SSR-NE", "step": "plan"})
    assert r.status_code == 409 and "OAI-NE" in r.json()["message"]
    r = people["CII-NE:coordinator"].post(url, json={"reason": "Compétence AI",
                                                     "lead": "OAI-NE", "step": "suivi"})
    assert r.status_code == 422
    r = people["CII-NE:coordinator"].post(url, json={"reason": "Compétence AI",
                                                     "lead": "OAI-NE", "step": "plan"})
    assert r.status_code == 200, r.text
    settled = r.json()
    assert (settled["state"], settled["lead"], settled["escalated"], settled["signoff"]) == \
        ("plan", "OAI-NE", False, None)
    assert settled["allowed_events"]  # the plan's step runs: the new lead can act
