"""Documents and tasks over HTTP: each institution sees its own files, others only on a
legal basis; a file the gathering missed is a task until its institution adds it."""

from __future__ import annotations

import base64

from relais.cases.domain.results import TASK_PROVIDE_FILE, Document, Task
from relais.cases.services import CaseServices
from tests.api_server import People, running
from tests.conftest import PERSON


def test_files_are_shown_on_a_legal_basis_and_a_missing_one_is_a_task(
        services: CaseServices) -> None:
    with running(services) as base:
        people = People(services, base)
        orp, oai, ssr = people["ORP-NE"], people["OAI-NE"], people["SSR-NE"]
        case = orp.post("/api/cases", json={"route": "reseau-cii", "person": PERSON,
                                            "consent": {"grantor": "Jean Muster"},
                                            "fields": {"age": 40}}).json()
        cid = case["id"]
        # what gather_files brings back: ORP's file, OAI's medical file, nothing from SSR
        services.record_action(cid, key=f"{cid}:9:gather_files", action="gather_files",
                               summary={"missing": {"SSR-NE": "aucun dossier"}},
                               documents=[
            Document("dossier-ORP-NE-1", "file", "ORP-NE", "situation", "Dossier AC",
                     "application/json", b'{"indemnites_restantes": 120}'),
            Document("dossier-OAI-NE-1", "file", "OAI-NE", "medical", "Dossier AI",
                     "application/pdf", b"%PDF-1.4 rapport")],
                               tasks=[Task("SSR-NE", TASK_PROVIDE_FILE, "Déposer le dossier")])

        def names(client: object) -> tuple[list[str], int]:
            body = client.get(f"/api/cases/{cid}/documents").json()  # type: ignore[attr-defined]
            return [d["name"] for d in body["items"]], body["withheld"]

        # ORP (lead): its own file; OAI's medical file needs the person's consent
        assert names(orp) == (["dossier-ORP-NE-1"], 1)
        # OAI takes part once it is a partner of the joint step; here the case is at the
        # referral, so OAI does not know the case exists
        assert oai.get(f"/api/cases/{cid}/documents").status_code == 404
        own = orp.get(f"/api/cases/{cid}/documents").json()["items"][0]
        got = orp.get(f"/api/cases/{cid}/documents/{own['id']}")
        assert got.status_code == 200 and got.json() == {"indemnites_restantes": 120}
        assert got.headers["content-type"].startswith("application/json")
        # the lead cannot record a consent in its own favour on OAI's data
        own_favour = orp.post(f"/api/cases/{cid}/consents", json={
            "grantor": "Jean Muster", "recipients": ["AC"], "categories": ["medical"],
            "purpose": "Assessment CII"})
        assert own_favour.status_code == 403, own_favour.text
        # OAI, once a partner, records the consent the person signed at its office
        orp.post(f"/api/cases/{cid}/events", json={"event": "transmettre"})
        people["CII-NE:coordinator"].post(f"/api/cases/{cid}/events",
                                          json={"event": "retenir"})
        given = oai.post(f"/api/cases/{cid}/consents", json={
            "grantor": "Jean Muster", "recipients": ["ORP-NE"], "categories": ["medical"],
            "purpose": "Assessment CII"})
        assert given.status_code == 201, given.text
        items = orp.get(f"/api/cases/{cid}/documents").json()["items"]
        assert [(d["name"], d["legal_basis"]) for d in items][1] == \
            ("dossier-OAI-NE-1", "consentement / consent")
        # the missing SSR file is SSR's task, seen by SSR and by the coordination
        assert [t["institution"] for t in ssr.get("/api/tasks").json()] == ["SSR-NE"]
        assert orp.get("/api/tasks").json() == []
        assert len(people["CII-NE:coordinator"].get("/api/tasks").json()) == 1
        # SSR cannot add to a case it does not take part in; the lead adds its own
        body = {"title": "Budget", "category": "aide_sociale", "media_type": "text/plain",
                "content_base64": base64.b64encode(b"1031 CHF").decode()}
        assert people["SSR-LCF"].post(f"/api/cases/{cid}/documents",
                                      json=body).status_code == 404
        bad = orp.post(f"/api/cases/{cid}/documents", json={**body, "content_base64": "%%"})
        assert bad.status_code == 422 and bad.json()["error"] == "invalid_input"
        added = orp.post(f"/api/cases/{cid}/documents", json=body)
        assert added.status_code == 201 and added.json()["legal_basis"] == "propre / own file"
        history = orp.get(f"/api/cases/{cid}/history").json()
        assert [h["kind"] for h in history][-1] == "document_added"
        people.close()


def test_the_operator_sees_the_outbox_and_the_timer_lag(services: CaseServices) -> None:
    with running(services) as base:
        people = People(services, base)
        people["ORP-NE"].post("/api/cases", json={"route": "reseau-cii", "person": PERSON,
                                                  "fields": {}})
        status = people["CII-NE:admin"].get("/api/ops/status").json()
        assert status["outbox_pending"] == 1 and status["timer_events_24h"] == 0
        assert status["outbox_oldest_waiting_s"] is not None
        people.close()
