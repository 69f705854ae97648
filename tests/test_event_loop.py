"""Nothing blocks the event loop (issue 14): every request of the API and the pages does its
database work in FastAPI's worker threads, never on the thread that runs the event loop,
where one slow statement would hold every other request of the process behind it.

A pool ``checkout`` listener notes every connection taken by a thread that is running an
asyncio loop; every route of the application is then driven once, with a seeded case, as
its users would (a token for the API, a signed-in session and its CSRF token for the pages),
and none may have taken one there. A route added to the application without a request here
fails the coverage check, so that it is driven too.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import event

from relais.api.app import create_app
from relais.cases.domain.actors import Actor
from relais.cases.domain.decide import EventInput
from relais.cases.services import CaseServices
from relais.cases.store.users import add_user, set_password
from relais.institutions.registry import Kind, Role
from tests.browser import PASSWORD, csrf_of
from tests.catalogue_helpers import catalogue
from tests.conftest import PERSON, SPEC_EXAMPLE, refer

ORP = Actor("m.robert", "ORP-NE", Kind.AC, Role.case_manager)
OAI = Actor("p.girard", "OAI-NE", Kind.AI, Role.case_manager)
SSR = Actor("s.favre", "SSR-NE", Kind.SA, Role.case_manager)
COORD = Actor("c.perrin", "CII-NE", Kind.CII, Role.coordinator)
STEER = Actor("g.pilote", "CII-NE", Kind.CII, Role.steering)
FIELDS = {"age": 48, "incapacite_travail_pct": 87,
          "signal": "certificats_medicaux"}


def _routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every endpoint, through the routers the application includes."""
    found: set[tuple[str, str]] = set()

    def walk(routes: list[Any], prefix: str) -> None:
        for r in routes:
            if hasattr(r, "original_router"):  # FastAPI's included router
                walk(r.original_router.routes, prefix + r.include_context.prefix)
            elif isinstance(r, APIRoute):
                found.update((m, prefix + r.path) for m in r.methods)

    walk(app.routes, "")
    return found


def _handed_to_oai(s: CaseServices) -> tuple[str, str]:
    """A case in its measures, handed on to the OAI: (case id, pending handoff id)."""
    case_id = refer(s, route="reseau-cii", person=PERSON, actor=ORP, fields=FIELDS,
                          reason="certificats").case.id
    s.fire(case_id, "transmettre", actor=ORP)
    s.fire(case_id, "retenir", actor=COORD)
    for signer in (ORP, OAI, SSR):
        s.fire(case_id, "planifier", actor=signer, data=EventInput(lead="ORP-NE"))
    s.fire(case_id, "lancer", actor=ORP)
    out = s.fire(case_id, "confier", actor=ORP,
                 data=EventInput(reason="capacité à examiner", lead="OAI-NE"))
    assert out.case.handoff is not None
    return case_id, out.case.handoff.id


class LoopGuard:
    """The requests during which a connection was checked out on an event loop's thread."""

    def __init__(self) -> None:
        self.current = ""
        self.offences: list[str] = []

    def checkout(self, *_: Any) -> None:
        if not self.current:  # the test's own seeding, between requests: nothing to hold up
            return  # (and Playwright's sync API leaves a loop marked running on this thread)
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a worker thread: no loop to hold up
            return
        self.offences.append(self.current)


@pytest.fixture
def guard(services: CaseServices) -> Iterator[LoopGuard]:
    g = LoopGuard()
    event.listen(services.engine, "checkout", g.checkout)
    yield g
    event.remove(services.engine, "checkout", g.checkout)


class Driver:
    """Clients for each user of the seeded network, and the routes they drove."""

    def __init__(self, app: FastAPI, s: CaseServices, guard: LoopGuard) -> None:
        self.app, self.s, self.guard = app, s, guard
        self.covered: set[tuple[str, str]] = set()
        self.clients: dict[str, TestClient] = {}

    def api(self, who: Actor) -> TestClient:
        key = f"api:{who.user}"
        if key not in self.clients:
            token = add_user(self.s.engine, self.s.registry, name=f"{who.user}.api",
                             institution=who.institution, role=who.role, now=datetime.now(UTC))
            self.clients[key] = TestClient(self.app, headers={
                "Authorization": f"Bearer {token}"}, raise_server_exceptions=False)
        return self.clients[key]

    def page(self, who: Actor) -> TestClient:
        key = f"page:{who.user}"
        if key not in self.clients:
            add_user(self.s.engine, self.s.registry, name=who.user,
                     institution=who.institution, role=who.role, now=datetime.now(UTC))
            set_password(self.s.engine, who.user, PASSWORD)
            client = TestClient(self.app, follow_redirects=False, headers={
                "accept": "text/html"}, raise_server_exceptions=False)
            self.clients[key] = client
            self.call(client, "GET", "/connexion")
            self.call(client, "POST", "/connexion", data={
                "name": who.user, "password": PASSWORD, "csrf": self.csrf(client)})
        return self.clients[key]

    @staticmethod
    def csrf(client: TestClient) -> str:
        return csrf_of(client.get("/connexion").text)

    def call(self, client: TestClient, method: str, template: str, path: str | None = None,
             **kw: Any) -> httpx.Response:
        """One request, for the route ``template`` (``path`` when it has parameters)."""
        self.covered.add((method, template))
        self.guard.current = f"{method} {template}"
        r = client.request(method, path or template, **kw)
        self.guard.current = ""
        assert r.status_code < 500, f"{method} {template}: {r.status_code} {r.text[:300]}"
        return r

    def form(self, who: Actor, template: str, path: str | None = None,
             data: dict[str, Any] | None = None) -> httpx.Response:
        client = self.page(who)
        return self.call(client, "POST", template, path,
                         data={**(data or {}), "csrf": self.csrf(client)})


def _drive_api(d: Driver, case_id: str, handoffs: list[str]) -> None:
    orp, oai, coord, steer = d.api(ORP), d.api(OAI), d.api(COORD), d.api(STEER)
    c = f"/api/cases/{case_id}"
    d.call(orp, "GET", "/healthz")
    d.call(orp, "GET", "/readyz")  # the database read of the checks: in a worker thread
    d.call(orp, "GET", "/favicon.ico")
    d.call(orp, "GET", "/metrics")  # and the scrape's
    opened = d.call(orp, "POST", "/api/cases", json={
        "confirm_duplicate": True,  # the same person again, on purpose
        "route": "reseau-cii", "person": PERSON, "fields": FIELDS, "reason": "dos",
        "consent": {"grantor": "Jean Muster"}}).json()
    d.call(orp, "GET", "/api/cases")
    d.call(orp, "GET", "/api/cases/{case_id}", c)
    d.call(orp, "GET", "/api/cases/{case_id}/history", f"{c}/history")
    d.call(orp, "POST", "/api/cases/{case_id}/events", f"/api/cases/{opened['id']}/events",
           json={"event": "transmettre"})
    d.call(orp, "PUT", "/api/cases/{case_id}/contact", f"{c}/contact",
           json={"contact": {"email": "jean@example.ch"}, "reason": "nouvelle adresse"})
    d.call(coord, "POST", "/api/cases/{case_id}/partners", f"{c}/partners",
           json={"institutions": ["OFIJ-NE"], "reason": "formation"})
    d.call(orp, "POST", "/api/cases/{case_id}/signoff/{answer}", f"{c}/signoff/approve",
           json={})
    d.call(coord, "POST", "/api/cases/{case_id}/escalation/settle", f"{c}/escalation/settle",
           json={"reason": "arbitrage", "step": "triage"})
    d.call(orp, "GET", "/api/cases/{case_id}/partners", f"{c}/partners")
    d.call(orp, "GET", "/api/cases/{case_id}/reads", f"{c}/reads")
    d.call(coord, "POST", "/api/cases/{case_id}/partners/{institution}/leave",
           f"{c}/partners/OFIJ-NE/leave", json={"reason": "hors formation"})
    d.call(oai, "POST", "/api/handoffs/{handoff_id}/accept", f"/api/handoffs/{handoffs[0]}/accept")
    d.call(oai, "POST", "/api/handoffs/{handoff_id}/refuse", f"/api/handoffs/{handoffs[1]}/refuse",
           json={"reason": "pas de capacité"})
    route_text = SPEC_EXAMPLE.read_text(encoding="utf-8")
    d.call(orp, "GET", "/api/routes")
    d.call(orp, "POST", "/api/routes/validate", content=route_text.encode(),
           headers={"content-type": "application/yaml"})
    d.call(coord, "POST", "/api/routes", content=route_text.encode(),
           headers={"content-type": "application/yaml"})
    d.call(orp, "GET", "/api/routes/{route_id}/versions/{version}/diagram.svg",
           "/api/routes/reseau-cii/versions/1/diagram.svg")
    consent = d.call(orp, "POST", "/api/cases/{case_id}/consents", f"{c}/consents", json={
        "grantor": "Jean Muster", "recipients": ["OAI-NE"], "categories": ["medical"],
        "purpose": "évaluation"}).json()
    d.call(orp, "GET", "/api/cases/{case_id}/consents", f"{c}/consents")
    d.call(oai, "GET", "/api/cases/{case_id}", c)  # a disclosure to another institution
    exchanges = d.call(orp, "GET", "/api/cases/{case_id}/exchanges", f"{c}/exchanges").json()
    exchange = exchanges[0]["id"] if exchanges else 1
    d.call(orp, "POST", "/api/cases/{case_id}/exchanges/{exchange_id}/informed",
           f"{c}/exchanges/{exchange}/informed", json={"on": "2026-03-03"})
    d.call(orp, "POST", "/api/consents/{consent_id}/revoke",
           f"/api/consents/{consent.get('id', 'x')}/revoke")
    added = d.call(orp, "POST", "/api/cases/{case_id}/documents", f"{c}/documents", json={
        "title": "Attestation", "category": "situation", "media_type": "application/pdf",
        "content_base64": base64.b64encode(b"%PDF-1.4 test").decode()}).json()
    d.call(orp, "GET", "/api/cases/{case_id}/documents", f"{c}/documents")
    d.call(orp, "POST", "/api/cases/{case_id}/notes", f"{c}/notes",
           json={"text": "entretien", "category": "situation"})
    d.call(orp, "GET", "/api/cases/{case_id}/documents/{document_id}",
           f"{c}/documents/{added.get('id', 1)}")
    d.call(orp, "GET", "/api/tasks")
    d.call(coord, "GET", "/api/ops/status")
    d.call(coord, "GET", "/api/deadlines")
    for path in ("/api/steering/indicators", "/api/steering/flows", "/api/steering/tables",
                 "/api/steering/tables.xlsx", "/api/steering/flows.svg",
                 "/api/steering/report.html", "/api/steering/report.pdf",
                 "/api/steering/occupancy", "/api/steering/figures.json",
                 "/api/steering/figures.csv"):
        d.call(steer, "GET", path)
    d.call(steer, "GET", "/api/steering/tables/{key}.csv", "/api/steering/tables/review.csv")
    d.call(steer, "GET", "/api/steering/tables/{key}.xlsx", "/api/steering/tables/review.xlsx")
    d.call(orp, "GET", "/api/programmes")
    d.call(orp, "GET", "/api/programmes/{code}/places", "/api/programmes/atelier-recyclage/places")
    measure = d.call(orp, "POST", "/api/cases/{case_id}/measures", f"{c}/measures",
                     json={"programme": "atelier-recyclage"}).json()
    d.call(orp, "GET", "/api/cases/{case_id}/measures", f"{c}/measures")
    m = f"{c}/measures/{measure.get('id', 'x')}"
    d.call(orp, "POST", "/api/cases/{case_id}/measures/{measure_id}/start", f"{m}/start")
    d.call(orp, "POST", "/api/cases/{case_id}/measures/{measure_id}/end", f"{m}/end")


def _drive_pages(d: Driver, case_id: str, handoffs: list[str]) -> None:
    orp, coord, steer = d.page(ORP), d.page(COORD), d.page(STEER)
    c = f"/dossiers/{case_id}"
    d.call(orp, "GET", "/")
    d.call(orp, "GET", "/langue/{lang}", "/langue/fr")
    d.call(orp, "GET", "/dossiers")
    d.call(orp, "GET", "/dossiers/nouveau")
    d.form(ORP, "/dossiers/nouveau", data={
        "route": "reseau-cii", **PERSON, "champ.age": "48", "consentement_reseau": "oui",
        "motif": "dos"})
    page = d.call(orp, "GET", "/dossiers/{case_id}", c).text
    version = page.split('name="version" value="', 1)[-1].split('"', 1)[0]
    d.form(ORP, "/dossiers/{case_id}/evenements", f"{c}/evenements",
           {"evenement": "transmettre", "version": version if version.isdigit() else "1"})
    d.form(ORP, "/dossiers/{case_id}/signature/{answer}", f"{c}/signature/refuser",
           {"version": version if version.isdigit() else "1", "motif": "non"})
    d.form(OAI, "/dossiers/{case_id}/transfert/accepter",
           f"/dossiers/{handoffs[2].split(':')[0]}/transfert/accepter",
           {"transfert": handoffs[2].split(":")[1]})
    d.form(OAI, "/dossiers/{case_id}/transfert/refuser",
           f"/dossiers/{handoffs[3].split(':')[0]}/transfert/refuser",
           {"transfert": handoffs[3].split(":")[1], "motif": "pas de capacité"})
    d.call(orp, "GET", "/dossiers/{case_id}/documents/{document_id}", f"{c}/documents/1")
    d.call(orp, "GET", "/dossiers/{case_id}/documents/{document_id}/fichier",
           f"{c}/documents/1/fichier")
    d.form(ORP, "/dossiers/{case_id}/notes", f"{c}/notes",
           {"note": "entretien", "categorie": "situation"})
    page = d.page(ORP)
    d.call(page, "POST", "/dossiers/{case_id}/documents/depot", f"{c}/documents/depot",
           data={"csrf": d.csrf(page), "titre": "CV", "categorie": "situation"},
           files={"fichier": ("cv.pdf", b"%PDF-1.4 cv", "application/pdf")})
    d.call(orp, "GET", "/dossiers/{case_id}/consultations", f"{c}/consultations")
    d.form(ORP, "/dossiers/{case_id}/consentements", f"{c}/consentements", {
        "concedant": "Jean Muster", "destinataires": "OAI-NE", "categories": "medical",
        "but": "évaluation"})
    d.form(ORP, "/dossiers/{case_id}/consentements/{consent_id}/revoquer",
           f"{c}/consentements/inconnu/revoquer")
    d.form(COORD, "/dossiers/{case_id}/partenaires", f"{c}/partenaires",
           {"institution": "SMIG-NE", "motif": "permis"})
    d.form(COORD, "/dossiers/{case_id}/partenaires/{code}/retirer",
           f"{c}/partenaires/SMIG-NE/retirer", {"motif": "hors migration"})
    d.call(orp, "GET", "/mesures")
    d.call(coord, "GET", "/coordination")
    d.form(COORD, "/coordination/escalations/{case_id}", f"/coordination/escalations/{case_id}",
           {"reason": "arbitrage", "lead": "ORP-NE"})
    d.call(coord, "GET", "/routes")
    d.call(coord, "GET", "/routes/{route_id}/versions/{version}", "/routes/reseau-cii/versions/1")
    d.call(coord, "GET", "/routes/{route_id}/versions/{version}/source.yaml",
           "/routes/reseau-cii/versions/1/source.yaml")
    route_text = SPEC_EXAMPLE.read_text(encoding="utf-8")
    d.call(coord, "GET", "/routes/atelier", params={"start": "reseau-cii"})
    d.call(coord, "GET", "/routes/guide")
    d.form(COORD, "/routes/atelier", data={"texte": route_text})
    d.form(COORD, "/routes/atelier/simuler", data={"texte": route_text, "evenements": ""})
    d.form(COORD, "/routes/atelier/publier", data={"texte": route_text})
    for path in ("/pilotage", "/pilotage/tableaux.xlsx", "/pilotage/rapport.html",
                 "/pilotage/rapport.pdf"):
        d.call(steer, "GET", path)
    d.call(steer, "GET", "/pilotage/tableaux/{key}.csv", "/pilotage/tableaux/review.csv")
    d.call(steer, "GET", "/pilotage/tableaux/{key}.xlsx", "/pilotage/tableaux/review.xlsx")
    d.call(orp, "GET", "/pas-une-page")  # an error page, with the person's navigation
    d.form(ORP, "/deconnexion")
    d.call(orp, "GET", "/connexion")


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_no_request_takes_a_connection_on_the_event_loop(services: CaseServices,
                                                          guard: LoopGuard) -> None:
    catalogue(services)
    handoffs = [_handed_to_oai(services)[1] for _ in range(2)]
    handoffs += [":".join(_handed_to_oai(services)) for _ in range(2)]
    case_id = refer(services, route="reseau-cii", person=PERSON, actor=ORP, fields=FIELDS,
                                 reason="dos").case.id
    app = create_app(services)
    d = Driver(app, services, guard)
    steps: list[Callable[[Driver, str, list[str]], None]] = [_drive_api, _drive_pages]
    for step in steps:
        step(d, case_id, handoffs)
    assert _routes(app) - d.covered == set(), "routes this test does not drive"
    blocking = sorted(set(guard.offences))
    assert not blocking, "database work on the event loop's thread:\n" + "\n".join(blocking)


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_guard_sees_a_checkout_on_the_loop(services: CaseServices,
                                               guard: LoopGuard) -> None:
    """The listener itself: a connection taken inside a coroutine is noted, one taken from
    a worker thread is not."""
    async def both() -> None:
        guard.current = "on the loop"
        with services.engine.connect():
            pass
        guard.current = "in a thread"
        await asyncio.to_thread(lambda: services.engine.connect().close())

    # in a thread of its own: a browser test of the same session may have left a loop
    # marked running on the main thread (Playwright's sync API)
    runner = threading.Thread(target=asyncio.run, args=(both(),))
    runner.start()
    runner.join()
    assert guard.offences == ["on the loop"]
