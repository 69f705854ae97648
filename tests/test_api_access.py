"""The access matrix: every endpoint × role × institution, allowed or refused as the
contract says (401 without a token, 403 without the right, 404 for a case one may not know)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from relais.cases.services import CaseServices
from tests.api_server import People, running
from tests.catalogue_helpers import catalogue
from tests.conftest import PERSON, SPEC_EXAMPLE, Clock

CALLERS = {
    "lead": "ORP-NE",                        # case manager of the lead institution
    "outsider": "SMIG-NE",                   # case manager of an institution not taking part
    "coordinator": "CII-NE:coordinator",
    "steering": "CII-NE:steering",
    "admin": "CII-NE:admin",
}
OK, CREATED, ACCEPTED = 200, 201, 202
# endpoint -> expected status for: lead, outsider, coordinator, steering, admin, no token
MATRIX = {
    "GET /api/cases/{case}":              (OK, 404, OK, 403, 403, 401),
    "GET /api/cases/{case}/history":      (OK, 404, OK, 403, 403, 401),
    "GET /api/cases":                     (OK, OK, OK, 403, 403, 401),
    "POST /api/cases":                    (CREATED, 403, 403, 403, 403, 401),
    "POST /api/cases/{case}/events":      (OK, 404, 403, 403, 403, 401),
    "POST /api/handoffs/{handoff}/accept": (403, 403, 403, 403, 403, 401),
    "POST /api/handoffs/{handoff}/refuse": (403, 403, 403, 403, 403, 401),
    "GET /api/routes":                    (OK, OK, OK, OK, OK, 401),
    "POST /api/routes/validate":          (OK, OK, OK, OK, OK, 401),
    "POST /api/routes":                   (403, 403, CREATED, 403, 403, 401),
    "GET /api/routes/reseau-cii/versions/4/diagram.svg": (OK, OK, OK, OK, OK, 401),
    "GET /api/deadlines":                 (OK, OK, OK, 403, 403, 401),
    "GET /api/steering/indicators":       (403, 403, OK, OK, OK, 401),
    "GET /api/steering/flows":            (403, 403, OK, OK, OK, 401),
    "GET /healthz":                       (OK, OK, OK, OK, OK, OK),
    "GET /api/cases/{case}/consents":     (OK, 404, OK, 403, 403, 401),
    "POST /api/cases/{case}/consents":    (CREATED, 404, CREATED, 403, 403, 401),
    "GET /api/cases/{case}/exchanges":    (OK, 404, OK, 403, 403, 401),
    "POST /api/consents/nope/revoke":     (404, 404, 404, 403, 403, 401),
    "GET /api/cases/{case}/documents":    (OK, 404, OK, 403, 403, 401),
    # ORP's own file: the coordination (kind CII) has no statutory basis, but the consent
    # recorded at the referral names it for the situation
    "GET /api/cases/{case}/documents/{document}": (OK, 404, OK, 403, 403, 401),
    "POST /api/cases/{case}/documents":   (CREATED, 404, CREATED, 403, 403, 401),
    "GET /api/tasks":                     (OK, OK, OK, 403, 403, 401),
    "GET /api/ops/status":                (403, 403, OK, 403, OK, 401),
    "GET /api/programmes":                (OK, OK, OK, OK, OK, 401),
    "GET /api/programmes/atelier-recyclage/places": (OK, OK, OK, 403, 403, 401),
    "GET /api/cases/{case}/measures":     (OK, 404, OK, 403, 403, 401),
    # the coordination may plan too: 409 because the lead just took that period's place
    "POST /api/cases/{case}/measures":    (CREATED, 404, 409, 403, 403, 401),
    # the lead starts (then ends) the planned measure; the coordination finds it done
    "POST /api/cases/{case}/measures/{measure}/start": (OK, 404, 409, 403, 403, 401),
    "POST /api/cases/{case}/measures/{measure}/end": (OK, 404, 409, 403, 403, 401),
    "GET /api/steering/occupancy":        (403, 403, OK, OK, OK, 401),
    "GET /api/cases/{case}/partners":     (OK, 404, OK, 403, 403, 401),
    # the coordination alone records that a partner leaves (here the SSR, a signatory)
    "POST /api/cases/{case}/partners/SSR-NE/leave": (403, 403, OK, 403, 403, 401),
}
FILE = {"title": "Attestation", "category": "situation", "media_type": "text/plain",
        "content_base64": "QXR0ZXN0YXRpb24="}


@pytest.fixture
def world(services: CaseServices, clock: Clock
          ) -> Iterator[tuple[People, str, str, int, str]]:
    """A case led by ORP-NE with a file of ORP-NE's, a handoff to OAI-NE pending and a
    measure planned for the next day, which has come."""
    catalogue(services)
    with running(services) as base:
        people = People(services, base)
        case = people["ORP-NE"].post("/api/cases", json={
            "route": "reseau-cii", "person": PERSON,
            "consent": {"grantor": "Jean Muster"},
            "fields": {"age": 40, "capacite_adaptee_pct": 80}}).json()
        cid = case["id"]
        document = people["ORP-NE"].post(f"/api/cases/{cid}/documents", json=FILE).json()["id"]
        people["ORP-NE"].post(f"/api/cases/{cid}/events", json={"event": "transmettre"})
        people["CII-NE:coordinator"].post(f"/api/cases/{cid}/events", json={"event": "retenir"})
        for who in ("ORP-NE", "OAI-NE", "SSR-NE"):
            body = {"event": "planifier", **({"lead": "OAI-NE"} if who == "ORP-NE" else {})}
            last = people[who].post(f"/api/cases/{cid}/events", json=body).json()
        measure = people["ORP-NE"].post(f"/api/cases/{cid}/measures", json={
            "programme": "formation-horlogerie", "start": "2026-03-03"}).json()["id"]
        clock.advance(days=1)
        yield people, cid, last["pending_handoff"]["id"], document, measure
        people.close()


def request(people: People, who: str | None, line: str, case: str, handoff: str,
            n: int, document: int, measure: str) -> int:
    method, path = line.split(" ", 1)
    path = path.format(case=case, handoff=handoff, document=document, measure=measure)
    client = people[CALLERS[who]] if who else people.anonymous()
    kwargs: dict[str, object] = {}
    if path == "/api/cases":
        kwargs["json"] = {"route": "reseau-cii", "fields": {},
                          "person": {**PERSON, "avs": "7569217076985"}}
    elif path.endswith("/events"):
        kwargs["json"] = {"event": "nothing"}  # refused (409) once the caller may act
    elif path.endswith("/consents") and method == "POST":
        kwargs["json"] = {"grantor": "P", "recipients": ["AI"], "categories": ["medical"],
                          "purpose": "CII"}
    elif path.endswith("/documents") and method == "POST":
        kwargs["json"] = FILE
    elif path.endswith("/measures") and method == "POST":
        kwargs["json"] = {"programme": "atelier-recyclage"}
    elif path.endswith("/refuse") or path.endswith("/leave"):
        kwargs["json"] = {"reason": "non"}
    elif path.startswith("/api/routes") and method == "POST":
        text = SPEC_EXAMPLE.read_text().replace("id: reseau-cii", f"id: matrice-{n}")
        kwargs["content"] = text
        kwargs["headers"] = {"Content-Type": "application/yaml"}
    return client.request(method, path, **kwargs).status_code  # type: ignore[arg-type]


def test_the_access_matrix(world: tuple[People, str, str, int, str]) -> None:
    people, case, handoff, document, measure = world
    wrong = []
    for n, (line, expected) in enumerate(MATRIX.items()):
        for who, want in zip([*CALLERS, None], expected, strict=True):
            got = request(people, who, line, case, handoff, n, document, measure)
            if want == OK and line.endswith("/events") and who in ("lead",):
                want = 409  # allowed to act, but "nothing" is no event: refused as such
            if got != want:
                wrong.append(f"{line} as {who}: {got}, expected {want}")
    assert wrong == [], "\n".join(wrong)
