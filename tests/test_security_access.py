"""Issue 11, findings 2–6, played as the attacks they were, over a real HTTP server on SQLite
and PostgreSQL: a curious institution of the same kind as a partner (ORP-LCF beside ORP-NE)
tries to read and change what is not its own, and every read lands on the record.

The scene: SSR-NE (social assistance, Neuchâtel) leads a complex case of Ana Čović; at the
joint assessment the conventions choose ORP-NE and OAI-NE as its partners; OAI-NE's medical
report is on file; SSR-NE recorded the person's consent for OAI-NE.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from relais.cases.domain.results import Document
from relais.cases.services import CaseServices
from relais.cases.store.tables import contact_t, read_t
from tests.api_server import People, running
from tests.browser import signed_in_client

ANA = {"avs": "756.1000.0007.71", "official_name": "Čović", "first_name": "Ana",
       "birth_date": "1983-09-12", "email": "ana.covic@example.ch", "phone": "079 555 12 34",
       "address": {"street": "Rue des Parcs 4", "postcode": "2000", "town": "Neuchâtel"}}
DIAGNOSIS = "Épisode dépressif sévère F32.2, suivi psychiatrique"


@dataclass
class Scene:
    services: CaseServices
    people: People
    case: str
    report: int  # OAI-NE's medical report
    consent: str  # SSR-NE's consent for OAI-NE


@pytest.fixture
def scene(services: CaseServices) -> Iterator[Scene]:
    with running(services) as base:
        people = People(services, base)
        ssr = people["SSR-NE"]
        made = ssr.post("/api/cases", json={
            "confirm_duplicate": True,  # the same person again, on purpose
            "route": "reseau-cii", "person": ANA, "reason": DIAGNOSIS,
            "consent": {"grantor": "Jean Muster"},
            "fields": {"age": 43, "signal": "certificats_medicaux"}})
        assert made.status_code == 201, made.text
        cid = made.json()["id"]
        assert ssr.post(f"/api/cases/{cid}/events", json={
            "event": "transmettre", "reason": DIAGNOSIS}).status_code in (200, 202)
        assert people["CII-NE:coordinator"].post(f"/api/cases/{cid}/events", json={
            "event": "retenir"}).status_code in (200, 202)
        # taken on, the person withdraws the network's consent: SA then discloses nothing
        [network] = ssr.get(f"/api/cases/{cid}/consents").json()
        assert ssr.post(f"/api/consents/{network['id']}/revoke").status_code == 200
        services.record_action(cid, key=f"{cid}:gather", action="gather_files", summary={},
                               documents=[Document("dossier-OAI-NE", "file", "OAI-NE",
                                                   "medical", "Rapport médical",
                                                   "application/pdf", b"%PDF-1.4 F32.2")])
        consent = ssr.post(f"/api/cases/{cid}/consents", json={
            "grantor": "Ana Čović", "recipients": ["OAI-NE"],
            "categories": ["identite", "situation", "aide_sociale"],
            "purpose": "Expertise psychiatrique pour l'AI"})
        assert consent.status_code == 201, consent.text
        report = next(d["id"] for d in
                      people["OAI-NE"].get(f"/api/cases/{cid}/documents").json()["items"]
                      if d["name"] == "dossier-OAI-NE")
        try:
            yield Scene(services, people, cid, report, consent.json()["id"])
        finally:
            people.close()


def own_case_of_ana(people: People, who: str = "ORP-LCF") -> str:
    """The attacker opens a case of its own for the same person (the same identity)."""
    made = people[who].post("/api/cases", json={
        "confirm_duplicate": True,  # the same person again, on purpose
        "route": "reseau-cii", "person": {**ANA, "email": "attacker@example.org",
                                          "phone": "+41790000000",
                                          "address": {"street": "Rue Fausse 1",
                                                      "postcode": "2300",
                                                      "town": "La Chaux-de-Fonds"}},
        "fields": {"age": 43}})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


# -- finding 2: a consent in one's own favour opens nothing ---------------------------------

def test_a_case_manager_cannot_grant_itself_consent_and_read_another_institutions_file(
        scene: Scene) -> None:
    lcf = scene.people["ORP-LCF"]
    own = own_case_of_ana(scene.people)
    for recipients in (["ORP-LCF"], ["AC"]):
        granted = lcf.post(f"/api/cases/{own}/consents", json={
            "grantor": "Ana Čović", "recipients": recipients,
            "categories": ["identite", "situation", "medical", "aide_sociale"],
            "purpose": "tout"})
        assert granted.status_code == 403, granted.text
        assert granted.json()["error"] == "forbidden"
    # a consent it may record (for another institution) is its own case's, nothing more
    other = lcf.post(f"/api/cases/{own}/consents", json={
        "grantor": "Ana Čović", "recipients": ["ORP-NE"], "categories": ["medical"],
        "purpose": "x"})
    assert other.status_code == 201
    assert lcf.get(f"/api/cases/{scene.case}").status_code == 404
    assert lcf.get(f"/api/cases/{scene.case}/documents/{scene.report}").status_code == 404
    assert lcf.get(f"/api/cases/{scene.case}/documents").status_code == 404
    # and the case's partner ORP-NE gains nothing from a consent on another case
    orp = scene.people["ORP-NE"].get(f"/api/cases/{scene.case}").json()
    assert "medical" in orp["withheld"]


def test_a_consent_is_revoked_only_by_the_institution_that_recorded_it(scene: Scene) -> None:
    assert scene.people["ORP-LCF"].post(
        f"/api/consents/{scene.consent}/revoke").status_code == 404
    assert scene.people["ORP-NE"].post(  # a partner of the case, not the recorder
        f"/api/consents/{scene.consent}/revoke").status_code == 404
    assert scene.people["OAI-NE"].get(f"/api/cases/{scene.case}").json()["person"] is not None
    assert scene.people["SSR-NE"].post(
        f"/api/consents/{scene.consent}/revoke").status_code == 200


# -- finding 3: a known AVS number reveals and overwrites nothing ---------------------------

def test_a_known_avs_number_with_invented_names_reveals_nothing(scene: Scene) -> None:
    lcf = scene.people["ORP-LCF"]
    probe = lcf.post("/api/cases", json={
        "route": "reseau-cii", "person": {"avs": ANA["avs"], "official_name": "X",
                                          "first_name": "Y", "birth_date": "1990-01-01",
                                          "email": "attacker@example.org"},
        "consent": {"grantor": "Jean Muster"}, "fields": {"age": 35}})
    assert probe.status_code == 409, probe.text
    for secret in ("Čović", "Ana", "1983", "ana.covic", "555", "Parcs", "@example.ch"):
        assert secret not in probe.text
    assert probe.json()["error"] == "identity_mismatch"


def test_a_referral_of_a_known_person_changes_nothing_another_institution_holds(
        scene: Scene) -> None:
    lcf, ssr = scene.people["ORP-LCF"], scene.people["SSR-NE"]
    own = own_case_of_ana(scene.people)
    mine = lcf.get(f"/api/cases/{own}").json()["person"]
    assert (mine["email"], mine["phone"]) == ("attacker@example.org", "+41790000000")
    held = ssr.get(f"/api/cases/{scene.case}").json()["person"]
    assert (held["email"], held["phone"], held["address"]["street"]) == \
        ("ana.covic@example.ch", "+41795551234", "Rue des Parcs 4")
    with scene.services.engine.connect() as conn:
        stored = conn.execute(select(contact_t).where(contact_t.c.case_id == scene.case)).one()
    assert stored.email == "ana.covic@example.ch"
    # the person's consents on SSR-NE's case are not the attacker's to list or revoke
    assert lcf.get(f"/api/cases/{own}/consents").json() == []
    assert lcf.post(f"/api/consents/{scene.consent}/revoke").status_code == 404


def test_a_contact_change_is_an_event_with_who_and_why(scene: Scene) -> None:
    ssr = scene.people["SSR-NE"]
    new = {"email": "ana@example.ch", "phone": "+41795551234",
           "address": {"street": "Rue du Seyon 2", "postcode": "2000", "town": "Neuchâtel"}}
    assert ssr.put(f"/api/cases/{scene.case}/contact", json={"contact": new}).status_code == 422
    assert scene.people["ORP-NE"].put(f"/api/cases/{scene.case}/contact", json={
        "contact": new, "reason": "x"}).status_code == 403
    changed = ssr.put(f"/api/cases/{scene.case}/contact", json={
        "contact": new, "reason": "Déménagement annoncé au guichet"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["person"]["address"]["street"] == "Rue du Seyon 2"
    last = ssr.get(f"/api/cases/{scene.case}/history").json()[-1]
    assert (last["kind"], last["institution"], last["reason"]) == \
        ("contact_changed", "SSR-NE", "Déménagement annoncé au guichet")


# -- finding 4: partners are those the conventions chose, not every institution of a kind ---

def test_an_institution_of_a_partners_kind_neither_sees_nor_moves_the_joint_step(
        scene: Scene) -> None:
    lcf = scene.people["ORP-LCF"]
    assert lcf.get(f"/api/cases/{scene.case}").status_code == 404
    interrupted = lcf.post(f"/api/cases/{scene.case}/events", json={
        "event": "interrompre", "outcome": "abandon", "reason": "x"})
    assert interrupted.status_code == 404
    assert all(c["id"] != scene.case for c in lcf.get("/api/cases").json()["items"])
    seen = scene.people["ORP-NE"].get(f"/api/cases/{scene.case}").json()
    assert seen["state"] == "assessment" and seen["partners"] == ["ORP-NE", "OAI-NE"]
    assert scene.people["SSR-LCF"].get(f"/api/cases/{scene.case}").status_code == 404


# -- finding 5: withheld categories do not leak through text and side lists ----------------

def test_with_every_category_withheld_a_partner_reads_no_reason_grantor_purpose_or_plan(
        scene: Scene) -> None:
    orp = scene.people["ORP-NE"]  # a partner; SA discloses nothing without consent
    seen = orp.get(f"/api/cases/{scene.case}").json()
    assert seen["person"] is None and seen["fields"] == {} and seen["legal_basis"] == {}
    history = orp.get(f"/api/cases/{scene.case}/history")
    assert DIAGNOSIS not in history.text
    assert [h["reason"] for h in history.json()] == [None] * len(history.json())
    given = orp.get(f"/api/cases/{scene.case}/consents").json()
    [consent] = [c for c in given if c["recipients"] == ["OAI-NE"]]
    [network] = [c for c in given if c is not consent]
    assert (consent["grantor"], consent["purpose"], consent["recorded_by"]) == \
        (None, None, "SSR-NE")
    assert network["revoked_on"] is not None and network["grantor"] is None
    plan = orp.get(f"/api/cases/{scene.case}/measures").json()
    assert plan["withheld"] is True and plan["measures"] == []
    # the lead itself and the consent's recipient read them
    oai = scene.people["OAI-NE"]
    assert DIAGNOSIS in oai.get(f"/api/cases/{scene.case}/history").text
    assert [c["grantor"] for c in oai.get(f"/api/cases/{scene.case}/consents").json()
            if c["recipients"] == ["OAI-NE"]] == ["Ana Čović"]


def test_the_case_page_shows_a_partner_no_withheld_text(scene: Scene) -> None:
    from relais.cases.store.users import add_user, set_password
    from tests.browser import PASSWORD
    s = scene.services
    add_user(s.engine, s.registry, name="orp.page", institution="ORP-NE",
             role="case_manager", now=s.clock())
    set_password(s.engine, "orp.page", PASSWORD)
    with contextlib.closing(signed_in_client(scene.people.base, "orp.page")) as client:
        page = client.get(f"/dossiers/{scene.case}")
        assert page.status_code == 200
        for secret in ("F32", "Čović", "Expertise psychiatrique", "ana.covic"):
            assert secret not in page.text


# -- finding 6: every read of a person's data is on record ---------------------------------

def reads(services: CaseServices) -> list[tuple[str, str, str]]:
    with services.engine.connect() as conn:
        return [(r.institution, r.case_id, r.what) for r in conn.execute(
            select(read_t).order_by(read_t.c.id))]


@pytest.mark.parametrize(("path", "what"), [
    ("/api/cases", "list"), ("/api/cases/{case}/documents", "documents"),
    ("/api/cases/{case}/consents", "consents"), ("/api/cases/{case}/exchanges", "exchanges"),
    ("/api/cases/{case}/measures", "measures"),
    ("/api/deadlines?before=2100-01-01T00:00:00Z", "deadlines")])
def test_every_read_path_lands_on_the_read_record(scene: Scene, path: str, what: str) -> None:
    before = len(reads(scene.services))
    answer = scene.people["OAI-NE"].get(path.format(case=scene.case))
    assert answer.status_code == 200, answer.text
    assert ("OAI-NE", scene.case, what) in reads(scene.services)[before:]


def test_tasks_and_the_inbox_page_are_on_the_read_record(scene: Scene) -> None:
    from relais.cases.domain.results import TASK_PROVIDE_FILE, Task
    from relais.cases.store.users import add_user, set_password
    from tests.browser import PASSWORD
    s = scene.services
    s.record_action(scene.case, key=f"{scene.case}:task", action="gather_files", summary={},
                    tasks=[Task("ORP-NE", TASK_PROVIDE_FILE, "Déposer le dossier")])
    assert scene.people["ORP-NE"].get("/api/tasks").json()
    assert ("ORP-NE", scene.case, "tasks") in reads(s)
    add_user(s.engine, s.registry, name="oai.page", institution="OAI-NE",
             role="case_manager", now=s.clock())
    set_password(s.engine, "oai.page", PASSWORD)
    with contextlib.closing(signed_in_client(scene.people.base, "oai.page")) as client:
        assert "Čović" in client.get("/dossiers").text
    assert ("OAI-NE", scene.case, "inbox") in reads(s)


def test_a_refusing_receiver_reads_nothing_of_the_case_in_the_answer(
        services: CaseServices) -> None:
    with running(services) as base:
        people = People(services, base)
        made = people["ORP-NE"].post("/api/cases", json={
            "confirm_duplicate": True,  # the same person again, on purpose
            "route": "reseau-cii", "person": ANA, "consent": {"grantor": "Jean Muster"},
                                                  "fields": {"age": 43}})
        cid = made.json()["id"]
        people["ORP-NE"].post(f"/api/cases/{cid}/events", json={"event": "transmettre"})
        out = people["CII-NE:coordinator"].post(f"/api/cases/{cid}/events", json={
            "event": "orienter", "lead": "SSR-LCF", "reason": "Compétence SA"}).json()
        refused = people["SSR-LCF"].post(
            f"/api/handoffs/{out['pending_handoff']['id']}/refuse", json={"reason": "Non"})
        assert refused.status_code == 200
        assert refused.json()["person"] is None and refused.json()["fields"] == {}
        people.close()


def test_the_coordination_adds_a_partner_on_record_and_only_it(scene: Scene) -> None:
    body = {"institutions": ["SSR-LCF"], "reason": "La personne déménage à La Chaux-de-Fonds"}
    assert scene.people["ORP-NE"].post(f"/api/cases/{scene.case}/partners",
                                       json=body).status_code == 403
    added = scene.people["CII-NE:coordinator"].post(f"/api/cases/{scene.case}/partners",
                                                    json=body)
    assert added.status_code == 200, added.text
    assert added.json()["partners"] == ["ORP-NE", "OAI-NE", "SSR-LCF"]
    assert scene.people["SSR-LCF"].get(f"/api/cases/{scene.case}").status_code == 200
    again = scene.people["CII-NE:coordinator"].post(f"/api/cases/{scene.case}/partners",
                                                    json=body)
    assert again.status_code == 409


def test_an_upgraded_database_records_the_partners_of_joint_steps_already_entered(
        services: CaseServices) -> None:
    """A case that entered its joint step before partners were recorded: the upgrade
    records the conventions' choice once, by an event of the system."""
    from dataclasses import replace

    from sqlalchemy import update

    from relais.cases.store.codec import case_values
    from relais.cases.store.tables import case_t, event_t
    from tests.conftest import COORD, ORP, refer
    cid = refer(services, route="reseau-cii", person=ANA, actor=ORP,
                             fields={"age": 43}).case.id
    services.fire(cid, "transmettre", actor=ORP)
    entered = services.fire(cid, "retenir", actor=COORD).events[-1]
    # as a database written before 0011c holds it: no partners in the event or the row
    data = {k: v for k, v in entered.data.items() if k != "partners"}
    old = replace(entered, data=data).sealed()
    case = replace(services.get(cid), partners=(), last_hash=old.hash)
    with services.engine.begin() as conn:
        conn.execute(update(event_t).where(event_t.c.case_id == cid, event_t.c.seq == old.seq)
                     .values(data=data, hash=old.hash))
        conn.execute(update(case_t).where(case_t.c.id == cid).values(
            memory=case_values(case)["memory"], last_hash=old.hash))
    assert services.get(cid).partners == ()
    assert services.record_missing_partners() == 1
    assert services.get(cid).partners == ("OAI-NE", "SSR-NE")
    assert services.record_missing_partners() == 0
    assert services.history(cid)[-1].kind == "partners_joined"


def test_the_referral_page_says_a_mismatched_identity_under_the_avs_number(
        scene: Scene) -> None:
    from relais.cases.store.users import add_user, set_password
    from tests.browser import PASSWORD, csrf_of
    s = scene.services
    add_user(s.engine, s.registry, name="lcf.page", institution="ORP-LCF",
             role="case_manager", now=s.clock())
    set_password(s.engine, "lcf.page", PASSWORD)
    with contextlib.closing(signed_in_client(scene.people.base, "lcf.page")) as client:
        form = client.get("/dossiers/nouveau", params={"route": "reseau-cii"}).text
        answer = client.post("/dossiers/nouveau", data={
            "csrf": csrf_of(form), "route": "reseau-cii", "avs": ANA["avs"],
            "official_name": "Inventé", "first_name": "Nom", "birth_date": "1990-01-01",
            "champ.age": "36", "champ.consentement": "oui"})
        assert answer.status_code == 409
        assert "ne correspond pas à ce numéro AVS" in answer.text
        for secret in ("Čović", "1983-09-12", "12.09.1983", "ana.covic"):
            assert secret not in answer.text


def test_in_chromium_a_partner_reads_the_case_without_its_withheld_text_even_at_phone_width(
        site: object) -> None:
    """As a case manager would, in the browser: ORP-NE, a partner of SSR-NE's assessment,
    sees the case, its partners and the consent's existence, no name, reason or purpose;
    OAI-NE, the consent's recipient, sees Ana Čović and the purpose. Screenshots of both."""
    from relais.cases.domain.decide import EventInput
    from tests.browser import Site, shoot
    from tests.conftest import COORD, SSR, refer
    assert isinstance(site, Site)
    s = site.services
    cid = refer(s, route="reseau-cii", person=ANA, actor=SSR, reason=DIAGNOSIS,
                      fields={"age": 43}).case.id
    s.fire(cid, "transmettre", actor=SSR, data=EventInput(reason=DIAGNOSIS))
    s.fire(cid, "retenir", actor=COORD)
    from relais.cases.sharing import Sharing
    [(network, _)] = Sharing(s).consents(s.get(cid))
    Sharing(s).revoke(SSR, network.id)  # taken on, the person withdraws the network's consent
    Sharing(s).record(SSR, s.get(cid), grantor="Ana Čović", recipients=["OAI-NE"],
                      categories=["identite", "situation", "aide_sociale"],
                      purpose="Expertise psychiatrique pour l'AI", valid_until=None)
    page = site.signed_in(site.person("orp.partner", "ORP-NE"),
                          viewport={"width": 360, "height": 800})
    page.goto(f"/dossiers/{cid}")  # type: ignore[attr-defined]
    text = page.inner_text("main")  # type: ignore[attr-defined]
    for secret in ("Čović", "F32", "Expertise psychiatrique"):
        assert secret not in text
    assert "SSR-NE" in text and "retenu" in text
    assert "Institutions partenaires : ORP-NE, OAI-NE" in text
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= 360, "the page never scrolls sideways at phone width"
    shoot(page, "security-partner-withheld-phone")
    page.context.close()  # type: ignore[attr-defined]
    page = site.signed_in(site.person("oai.recipient", "OAI-NE"))
    page.goto(f"/dossiers/{cid}")  # type: ignore[attr-defined]
    text = page.inner_text("main")  # type: ignore[attr-defined]
    assert "Čović" in text and "Expertise psychiatrique pour l'AI" in text
    shoot(page, "security-consent-recipient")
    page.context.close()  # type: ignore[attr-defined]


def test_a_reader_without_the_situation_gets_only_the_course_of_the_case_from_events() -> None:
    """The rule itself, on every kind of event data: outcomes, measures and their payers,
    actions' summaries and contacts are dropped; who leads and who takes part stay."""
    from datetime import UTC, datetime

    from relais.cases.access import CaseView
    from relais.cases.domain.case import CaseState
    from relais.cases.domain.events import Event
    from relais.demo import actor
    from relais.institutions.registry import Kind
    from relais.wiring import standard_route_texts
    from relais.workflows.engine.validate import parse_route
    route, _ = parse_route(standard_route_texts()["reseau-cii.yaml"])
    assert route is not None
    now = datetime(2026, 3, 2, tzinfo=UTC)
    case = CaseState("c", 1, "reseau-cii", route.version, "plan", "SSR-NE", None, now)
    view = CaseView(actor("x", "ORP-NE", Kind.AC), case, route, {}, ["identite", "situation"])
    e = Event("c", 5, now, "measure_assigned", "u", "SSR-NE", reason=DIAGNOSIS, data={
        "programme": "PET", "payer": "SA", "outcome": "rente_ai_entiere", "lead": "OAI-NE",
        "partners": ["ORP-NE"], "summary": {"sent": "x"}, "contact": {"email": "a@b.ch"},
        "fields": {"age": 43}})
    seen = view.event(e)
    assert seen.reason is None
    assert seen.data == {"lead": "OAI-NE", "partners": ["ORP-NE"], "fields": {}}
