"""Partners as a recorded membership, over a real server (SQLite and PostgreSQL): journey C's
social service keeps taking part in the plan it co-signed; a partner leaves on record; an
institution of the same kind that never took part knows nothing of the case."""

from __future__ import annotations

import httpx

from tests.api_server import People
from tests.conftest import PERSON


def fire(people: People, who: str, cid: str, event: str, **body: object) -> httpx.Response:
    return people[who].post(f"/api/cases/{cid}/events", json={"event": event, **body})


def planned(people: People) -> str:
    """Journey C up to the plan: ORP-NE refers, the coordination takes the case on, ORP, OAI
    and SSR sign the plan with the OAI as lead, the OAI accepts the handoff."""
    r = people["ORP-NE"].post("/api/cases", json={
        "route": "reseau-cii", "person": PERSON,
        "fields": {"age": 48},
        "consent": {"grantor": "Jean Muster"}, "reason": "Certificats médicaux"})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert fire(people, "ORP-NE", cid, "transmettre").status_code == 200
    assert fire(people, "CII-NE:coordinator", cid, "retenir").json()["state"] == "assessment"
    for who in ("ORP-NE", "OAI-NE", "SSR-NE"):
        r = fire(people, who, cid, "planifier", **({"lead": "OAI-NE"} if who == "ORP-NE"
                                                   else {}))
        assert r.status_code == 202, r.text
    hid = r.json()["pending_handoff"]["id"]
    r = people["OAI-NE"].post(f"/api/handoffs/{hid}/accept")
    assert r.status_code == 200 and (r.json()["lead"], r.json()["state"]) == ("OAI-NE", "plan")
    return cid


def test_a_signatory_of_the_plan_keeps_taking_part(people: People) -> None:
    cid = planned(people)
    # taking part gives knowledge of the case; the categories follow the basis: the OAI's
    # statute for what is not sensitive, a consent for the medical data
    seen = people["SSR-NE"].get(f"/api/cases/{cid}").json()
    assert seen["legal_basis"] == {"identite": "LAI art. 68bis", "situation": "LAI art. 68bis"}
    assert "medical" in seen["withheld"]
    r = people["OAI-NE"].post(f"/api/cases/{cid}/consents", json={
        "grantor": "Jean Muster", "recipients": ["SSR-NE"], "categories": ["medical"],
        "purpose": "CII"})
    assert r.status_code == 201, r.text
    seen = people["SSR-NE"].get(f"/api/cases/{cid}").json()
    assert seen["legal_basis"]["medical"] == "consentement / consent"
    for who in ("SSR-NE", "ORP-NE", "OAI-NE"):
        case = people[who].get(f"/api/cases/{cid}")
        assert case.status_code == 200, (who, case.text)
        assert people[who].get(f"/api/cases/{cid}/history").status_code == 200
        listed = people[who].get("/api/cases").json()["items"]
        assert cid in [c["id"] for c in listed], who
    # the lead goes on: the signatories still take part while the plan runs
    assert fire(people, "OAI-NE", cid, "lancer").json()["state"] == "mesures"
    assert people["SSR-NE"].get(f"/api/cases/{cid}").status_code == 200
    # an institution of the same kind that never took part knows nothing of the case
    assert people["SSR-LCF"].get(f"/api/cases/{cid}").status_code == 404
    assert cid not in [c["id"] for c in people["SSR-LCF"].get("/api/cases").json()["items"]]


def read_by(people: People, cid: str, institution: str) -> list[str]:
    """What the read record holds of ``institution``'s reads of case ``cid``."""
    from sqlalchemy import select

    from relais.cases.store.tables import read_t
    with people.services.engine.connect() as conn:
        return list(conn.execute(select(read_t.c.what).where(
            read_t.c.case_id == cid, read_t.c.institution == institution).order_by(
            read_t.c.id)).scalars())


def test_the_coordination_records_that_a_partner_leaves(people: People) -> None:
    cid = planned(people)
    assert people["SSR-NE"].get(f"/api/cases/{cid}/history").status_code == 200
    before = read_by(people, cid, "SSR-NE")
    assert "history" in before
    members = people["OAI-NE"].get(f"/api/cases/{cid}/partners").json()
    assert [(m["institution"], m["role"]) for m in members] == [
        ("OAI-NE", "lead"), ("SSR-NE", "partner"), ("ORP-NE", "past_lead")]
    ssr = members[1]
    assert (ssr["kind"], ssr["by_kind"], ssr["by_event"], ssr["by_institution"]) == (
        "SA", "transitioned", "retenir", "CII-NE")
    url = f"/api/cases/{cid}/partners/SSR-NE/leave"
    # only the coordination, with a reason
    assert people["OAI-NE"].post(url, json={"reason": "Fin"}).status_code == 403
    assert people["CII-NE:coordinator"].post(url, json={"reason": " "}).status_code == 422
    # the lead does not leave; an institution that never took part cannot
    assert people["CII-NE:coordinator"].post(
        f"/api/cases/{cid}/partners/OAI-NE/leave", json={"reason": "x"}).status_code == 409
    assert people["CII-NE:coordinator"].post(
        f"/api/cases/{cid}/partners/SSR-LCF/leave", json={"reason": "x"}).status_code == 409
    r = people["CII-NE:coordinator"].post(url, json={
        "reason": "L'aide sociale ne finance plus de mesure"})
    assert r.status_code == 200, r.text
    assert "SSR-NE" not in r.json()["partners"]
    # from now on SSR-NE knows nothing of the case, in the API and in the lists
    assert people["SSR-NE"].get(f"/api/cases/{cid}").status_code == 404
    assert people["SSR-NE"].get(f"/api/cases/{cid}/history").status_code == 404
    assert cid not in [c["id"] for c in people["SSR-NE"].get("/api/cases").json()["items"]]
    # its past reads stay on record
    assert read_by(people, cid, "SSR-NE")[:len(before)] == before
    # the history says who left, when, by whom and why
    history = people["OAI-NE"].get(f"/api/cases/{cid}/history").json()
    left = [h for h in history if h["kind"] == "partners_left"]
    assert len(left) == 1 and left[0]["institution"] == "CII-NE"
    assert left[0]["reason"] == "L'aide sociale ne finance plus de mesure"
    assert [m["institution"] for m in people["OAI-NE"].get(
        f"/api/cases/{cid}/partners").json()] == ["OAI-NE", "ORP-NE"]
    # a second leave is a conflict; the past lead leaves too; the coordination may bring
    # SSR-NE back, on record
    assert people["CII-NE:coordinator"].post(url, json={"reason": "x"}).status_code == 409
    assert people["CII-NE:coordinator"].post(
        f"/api/cases/{cid}/partners/ORP-NE/leave", json={"reason": "Fin de droit"}
    ).status_code == 200
    assert people["ORP-NE"].get(f"/api/cases/{cid}").status_code == 404
    back = people["CII-NE:coordinator"].post(f"/api/cases/{cid}/partners", json={
        "institutions": ["SSR-NE"], "reason": "Reprise de l'aide sociale"})
    assert back.status_code == 200, back.text
    assert people["SSR-NE"].get(f"/api/cases/{cid}").status_code == 200


def test_an_institution_whose_file_is_awaited_stays_until_it_gives_it(people: People) -> None:
    from relais.cases.domain.results import TASK_PROVIDE_FILE, Task
    cid = planned(people)
    people.services.record_action(cid, key=f"{cid}:gather", action="gather_files",
                                  summary={}, tasks=[Task("SSR-NE", TASK_PROVIDE_FILE,
                                                          "Déposer le dossier")])
    url = f"/api/cases/{cid}/partners/SSR-NE/leave"
    r = people["CII-NE:coordinator"].post(url, json={"reason": "Fin"})
    assert r.status_code == 409 and "SSR-NE" in r.json()["message"]
    assert people["SSR-NE"].get(f"/api/cases/{cid}").status_code == 200
    assert [t["case_id"] for t in people["SSR-NE"].get("/api/tasks").json()] == [cid]
    up = people["SSR-NE"].post(f"/api/cases/{cid}/documents", json={
        "title": "Dossier SSR", "category": "aide_sociale", "media_type": "text/plain",
        "content_base64": "RG9zc2llcg=="})
    assert up.status_code == 201, up.text
    assert people["SSR-NE"].get("/api/tasks").json() == []
    assert people["CII-NE:coordinator"].post(url, json={"reason": "Fin"}).status_code == 200
    assert people["SSR-NE"].get(f"/api/cases/{cid}").status_code == 404


def test_an_institution_that_left_is_no_longer_asked_nor_told(people: People) -> None:
    """The flows' partners (files asked, convocations, notices) are the members: one that
    left is not among them, even where the network's convention would pick it by kind."""
    from relais.orchestration.facts import partners_of
    from relais.orchestration.runtime import Runtime
    cid = planned(people)
    s = people.services
    rt = Runtime(s, None, None, None)  # type: ignore[arg-type]
    last = s.get(cid)
    assert last is not None
    assert "SSR-NE" in [i.code for i in partners_of(rt, rt.outbox.case_at(cid, last.version))]
    assert people["CII-NE:coordinator"].post(f"/api/cases/{cid}/partners/SSR-NE/leave", json={
        "reason": "Fin de l'aide sociale"}).status_code == 200
    last = s.get(cid)
    assert last is not None
    told = [i.code for i in partners_of(rt, rt.outbox.case_at(cid, last.version))]
    # nor another social service in its place (SSR-LCF, of the OAI's town, never took part)
    assert "OAI-NE" in told and not {"SSR-NE", "SSR-LCF"} & set(told)
