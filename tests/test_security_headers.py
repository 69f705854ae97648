"""Answers' headers as OWASP ASVS level 2 asks (issue 11, finding 11), over a real server.

Every answer forbids framing and sniffing, sends no referrer out, and carries a Content
Security Policy that allows no inline script or style and nothing from another site; pages
and API answers with personal data are never stored by a browser or a shared cache, static
files are. Documents are downloads (never shown inline by the browser) of a media type from a
short list, refused at upload otherwise. The interactive API docs, which loaded scripts from
a CDN, are off. A crawler walks the pages as each kind of user; chromium loads the main
pages and reports no CSP violation while they keep working.
"""

from __future__ import annotations

import base64
import re
from collections import deque
from contextlib import closing
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import httpx
import pytest

from relais.api.headers import CSP
from relais.cases.domain.decide import EventInput
from relais.cases.domain.results import Document
from relais.cases.services import CaseServices
from relais.cases.store.users import add_user, set_password
from tests.api_server import People, running
from tests.browser import PASSWORD, Site, signed_in_client
from tests.conftest import COORD, OAI, ORP, PERSON, SSR, refer

WHO = {"m.robert": ("ORP-NE", "case_manager"), "c.perrin": ("CII-NE", "coordinator"),
       "g.pilotage": ("CII-NE", "steering")}
LINK = re.compile(r'(?:href|src|action)="(/[^"#]*)"')
SKIP = ("/deconnexion", "/langue/")  # a post; and the language switch, walked once below


def _people(s: CaseServices) -> None:
    for name, (institution, role) in WHO.items():
        add_user(s.engine, s.registry, name=name, institution=institution, role=role,
                 now=datetime.now(UTC))
        set_password(s.engine, name, PASSWORD)


def _network(s: CaseServices) -> str:
    """A case at the plan step with a document of each kind, one stored long ago as
    ``text/html`` (what an upload could be before the list), and a refused handoff."""
    fields = {"age": 48, "incapacite_travail_pct": 87, "signal": "certificats_medicaux"}
    case_id = refer(s, route="reseau-cii", person=PERSON, actor=ORP, fields=fields,
                          reason="certificats").case.id
    s.fire(case_id, "transmettre", actor=ORP)
    s.fire(case_id, "retenir", actor=COORD)
    for signer in (ORP, OAI, SSR):
        s.fire(case_id, "planifier", actor=signer, data=EventInput(lead="ORP-NE"))
    s.add_document(case_id, Document("certificat", "file", "ORP-NE", "situation",
                                     "Certificat", "application/pdf", b"%PDF-1.4 x"), actor=ORP)
    s.add_document(case_id, Document('piege"\r\nX-Injecte: 1', "file", "ORP-NE", "situation",
                                     "Ancien dépôt", "text/html",
                                     b"<script>alert(document.cookie)</script>"), actor=ORP)
    return case_id


def _check(path: str, answer: httpx.Response) -> list[str]:
    """What is wrong with one answer's headers (empty: nothing)."""
    h, problems = answer.headers, []
    for name, want in (("x-content-type-options", "nosniff"), ("x-frame-options", "DENY"),
                       ("referrer-policy", "same-origin")):
        if h.get(name) != want:
            problems.append(f"{path}: {name}={h.get(name)!r}")
    csp = h.get("content-security-policy", "")
    if "frame-ancestors 'none'" not in csp or "unsafe-inline" in csp.split("style-src")[0]:
        problems.append(f"{path}: content-security-policy={csp!r}")
    if h.get("content-type", "").startswith("text/html") and "/rapport" not in path \
            and csp != CSP:
        problems.append(f"{path}: a page's CSP {csp!r}")
    cache = h.get("cache-control", "")
    if path.startswith("/static/"):
        if "no-store" in cache or "max-age" not in cache:
            problems.append(f"{path}: static cache-control={cache!r}")
    elif cache != "no-store":
        problems.append(f"{path}: cache-control={cache!r}")
    return problems


def _walk(client: httpx.Client, start: list[str], limit: int = 150) -> tuple[int, list[str]]:
    """Every page reachable from ``start`` by GET links, forms' actions and scripts of this
    site (up to ``limit``): how many were fetched, and what is wrong with their headers."""
    seen, todo, problems = set(start), deque(start), []
    while todo and len(seen) <= limit:
        path = todo.popleft()
        answer = client.get(path)
        problems += _check(path, answer)
        if answer.headers.get("content-type", "").startswith("text/html"):
            for found in LINK.findall(answer.text):
                link = unescape(found)
                if link not in seen and not link.startswith(SKIP):
                    seen.add(link)
                    todo.append(link)
    return len(seen), problems


def test_every_answer_each_kind_of_user_reaches_carries_the_security_headers(
        services: CaseServices) -> None:
    _people(services)
    case_id = _network(services)
    with running(services) as base:
        walked = {}
        with httpx.Client(base_url=base, timeout=60, headers={"accept": "text/html"}) as anon:
            walked["anonymous"] = _walk(anon, ["/", "/connexion", "/nulle-part",
                                               "/langue/en?suite=/connexion", "/healthz",
                                               "/openapi.json", "/static/relais.css"])
        for name in WHO:
            with closing(signed_in_client(base, name)) as client:
                walked[name] = _walk(client, ["/", f"/dossiers/{case_id}", "/routes",
                                              "/mesures", "/pilotage", "/langue/en?suite=/"])
        people = People(services, base)
        orp = people["ORP-NE"]
        api = [f"/api/cases/{case_id}", f"/api/cases/{case_id}/history",
               f"/api/cases/{case_id}/documents", "/api/cases", "/api/tasks"]
        for path in api:
            walked.setdefault("api", (0, []))
            answer = orp.get(path)
            assert answer.status_code == 200, path
            walked["api"] = (walked["api"][0] + 1, walked["api"][1] + _check(path, answer))
        refused = orp.post("/api/cases", content=b"x" * (2 * 1024 * 1024))
        walked["api"][1].extend(_check("/api/cases (413)", refused))
        people.close()
    print({who: n for who, (n, _) in walked.items()})
    assert all(n >= 5 for n, _ in walked.values())
    assert [p for _, problems in walked.values() for p in problems] == []


def test_documents_are_downloads_of_a_vetted_media_type(services: CaseServices) -> None:
    case_id = _network(services)
    with running(services) as base:
        people = People(services, base)
        orp = people["ORP-NE"]
        items = {d["title"]: d["id"] for d in
                 orp.get(f"/api/cases/{case_id}/documents").json()["items"]}

        def upload(media_type: str) -> httpx.Response:
            return orp.post(f"/api/cases/{case_id}/documents", json={
                "title": "Dépôt", "category": "situation", "media_type": media_type,
                "content_base64": base64.b64encode(b"<html><script>x()</script>").decode()})

        for refused in ("text/html", "image/svg+xml", "application/xhtml+xml",
                        "text/javascript", "application/octet-stream"):
            answer = upload(refused)
            assert answer.status_code == 415, refused
            assert answer.json()["error"] == "unsupported_media_type"
            assert "application/pdf" in answer.json()["message"]
        for accepted in ("application/pdf", "image/png", "text/plain; charset=utf-8",
                         "application/vnd.oasis.opendocument.text"):
            assert upload(accepted).status_code == 201, accepted
        # an old row of another type: an opaque download, its name made safe
        old = orp.get(f"/api/cases/{case_id}/documents/{items['Ancien dépôt']}")
        assert old.status_code == 200
        assert old.headers["content-type"] == "application/octet-stream"
        disposition = old.headers["content-disposition"]
        assert disposition.startswith("attachment; filename=\"")
        assert "\r" not in disposition and "\n" not in disposition
        assert "x-injecte" not in {k.lower() for k in old.headers}
        assert re.fullmatch(r'attachment; filename="[A-Za-z0-9._-]+"; '
                            r"filename\*=UTF-8''[A-Za-z0-9._~%-]+", disposition), disposition
        pdf = orp.get(f"/api/cases/{case_id}/documents/{items['Certificat']}")
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"].startswith(
            'attachment; filename="certificat.pdf"')
        people.close()
        _people(services)
        with closing(signed_in_client(base, "m.robert")) as page:
            got = page.get(f"/dossiers/{case_id}/documents/{items['Ancien dépôt']}")
            assert got.headers["content-type"] == "application/octet-stream"
            assert got.headers["content-disposition"] == disposition


def test_the_interactive_api_docs_are_off_and_the_schema_stays(services: CaseServices) -> None:
    with running(services) as base:
        for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
            assert httpx.get(f"{base}{path}").status_code == 404
        schema = httpx.get(f"{base}/openapi.json")
        assert schema.status_code == 200 and schema.json()["info"]["title"] == "Relais"


# --- in a real browser: the policy holds and the pages keep working -------------------------

def _watch(page: Any, violations: list[str]) -> None:
    def console(message: Any) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            violations.append(f"{page.url}: {message.text}")
    page.on("console", console)
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                         "console.error('Content Security Policy: ' + e.violatedDirective + "
                         "' ' + e.blockedURI))")


def test_the_main_pages_of_each_kind_of_user_break_no_rule_of_the_policy(site: Site) -> None:
    s = site.services
    for name, (institution, role) in WHO.items():
        site.person(name, institution, role)
    case_id = _network(s)
    s.fire(case_id, "lancer", actor=ORP)
    violations: list[str] = []

    manager: Any = site.signed_in("m.robert")
    _watch(manager, violations)
    for path in ("/dossiers", f"/dossiers/{case_id}", "/mesures"):
        manager.goto(path)
        assert manager.locator("h1").count() >= 1
    manager.goto("/dossiers/nouveau?route=reseau-cii")
    avs = manager.locator("#p-avs")
    avs.fill("756.1234.5678.90")
    avs.blur()
    # the AVS check script ran: a wrong check digit, said under the field
    assert manager.locator("#p-avs-error").inner_text().startswith("Chiffre de contrôle")

    coordinator: Any = site.signed_in("c.perrin")
    _watch(coordinator, violations)
    for path in ("/coordination", "/routes", "/routes/reseau-cii/versions/2"):
        coordinator.goto(path)
        assert coordinator.locator("h1").count() >= 1
    coordinator.goto("/routes/atelier?depuis=ne-eso")
    coordinator.get_by_role("button", name="Valider").click()
    coordinator.wait_for_load_state()
    assert coordinator.locator("svg").count() >= 1  # the workshop drew the checked route

    steering: Any = site.signed_in("g.pilotage")
    _watch(steering, violations)
    today = s.clock().date()
    steering.goto(f"/pilotage?from={today - timedelta(days=30)}&to={today}&route=reseau-cii")
    assert steering.locator("svg").count() + steering.locator("img").count() >= 1
    steering.goto(f"/pilotage/rapport.html?from={today - timedelta(days=30)}&to={today}"
                  f"&route=reseau-cii")
    assert violations == []


@pytest.mark.parametrize("path", ["/static/relais.css", "/static/avs.js"])
def test_static_files_are_served_with_their_own_type_and_may_be_cached(
        services: CaseServices, path: str) -> None:
    with running(services) as base:
        answer = httpx.get(f"{base}{path}")
        assert answer.status_code == 200 and answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["content-type"].split(";")[0] in ("text/css", "text/javascript",
                                                                "application/javascript")
        assert "max-age" in answer.headers["cache-control"]


def test_the_favicon_is_there_for_every_page(people: People) -> None:
    """Browsers ask /favicon.ico on every page: an icon, not a 404 in the logs."""
    base = people.base
    icon = httpx.get(f"{base}/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    page = httpx.get(f"{base}/connexion")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page.text
