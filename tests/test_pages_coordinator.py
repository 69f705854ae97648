"""The coordinators' pages: the published routes, the route workshop (validate, draw, compare,
publish) and the coordination page (escalations to settle, revolving-door cases).

One journey in a real browser, then the rules over HTTP: who may publish, uploads, files
that cannot be read, publishing twice, CSRF."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from cases.domain.decide import EventInput
from cases.services import CaseServices
from relais.wiring import standard_route_texts
from tests.browser import PASSWORD, PHONE, Site, shoot
from tests.conftest import COORD, OAI, ORP, PERSON, SSR
from workflows.engine.located_yaml import MAX_BYTES

NE_ESO = standard_route_texts()["ne-eso.yaml"]
# ne-eso v3: a longer application deadline and an interview before the placement
NE_ESO_V3 = (NE_ESO.replace("version: 2", "version: 3")
             .replace("deadline: 10 working days", "deadline: 15 working days", 1)
             .replace("  clos:\n", "  entretien:\n    title: {fr: Entretien d'admission, en: "
                      "Admission interview}\n    owner: lead\n    deadline: 5 working days\n"
                      "  clos:\n", 1)
             .replace("  - event: admettre_stage\n    from: candidature\n",
                      "  - event: convoquer\n    from: candidature\n    to: entretien\n"
                      "  - event: admettre_stage\n    from: [candidature, entretien]\n", 1))
# the same with two mistakes: a state misspelt in a transition, a deadline nobody can read
TWO_ERRORS = (NE_ESO_V3.replace("    to: entretien\n", "    to: entretein\n", 1)
              .replace("deadline: 5 working days", "deadline: cinq jours", 1))


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), 1) if fragment in line)


def refused_twice(s: CaseServices) -> str:
    """A case the coordination sent to the AI, which refused it twice: escalated."""
    case = s.open_case(route="reseau-cii", person=PERSON, actor=ORP,
                       fields={"age": 48, "consentement": True}).case.id
    s.fire(case, "transmettre", actor=ORP)
    for reason in ("Pas de notre ressort", "Toujours pas de notre ressort"):
        out = s.fire(case, "orienter", actor=COORD, data=EventInput(lead="OAI-NE",
                                                                    reason="Compétence AI"))
        assert out.case.handoff is not None
        s.refuse_handoff(out.case.handoff.id, actor=OAI, reason=reason)
    assert s.get(case).escalated
    return case


def back_and_forth(s: CaseServices) -> str:
    """A case the ORP handed to the AI, which handed it back: a revolving door."""
    case = s.open_case(route="reseau-cii", person={**PERSON, "avs": "7561234567897"},
                       actor=ORP, fields={"age": 48, "consentement": True}).case.id
    s.fire(case, "transmettre", actor=ORP)
    s.fire(case, "retenir", actor=COORD)
    s.fire(case, "planifier", actor=ORP, data=EventInput(lead="OAI-NE"))
    s.fire(case, "planifier", actor=OAI)
    out = s.fire(case, "planifier", actor=SSR)
    assert out.case.handoff is not None
    s.accept_handoff(out.case.handoff.id, actor=OAI)
    out = s.fire(case, "confier", actor=OAI, data=EventInput(lead="ORP-NE",
                                                              reason="Capacité retrouvée"))
    assert out.case.handoff is not None
    assert s.accept_handoff(out.case.handoff.id, actor=ORP).case.revolving_door
    return case


def overdue(s: CaseServices) -> str:
    """A ne-eso application left unanswered past its deadline and the reminder: escalated."""
    case = s.open_case(route="ne-eso", person={**PERSON, "avs": "7569217076985"}, actor=SSR,
                       fields={}).case.id
    now = datetime.now(UTC)
    s.sweep_deadlines(now + timedelta(days=30))
    s.sweep_deadlines(now + timedelta(days=60))
    assert s.get(case).escalated
    return case


def read(answer: httpx.Response) -> str:
    """The page's text with its entities read, as a person sees it."""
    return html.unescape(answer.text)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "every form carries the session's CSRF token"
    return found.group(1)


@contextmanager
def client_of(site: Site, name: str, institution: str, role: str) -> Iterator[httpx.Client]:
    """An httpx client signed in as a person, asking for pages as a browser does."""
    site.person(name, institution, role)
    with httpx.Client(base_url=site.base, headers={"accept": "text/html"}) as client:
        token = csrf_of(client.get("/connexion").text)
        signed = client.post("/connexion", data={"name": name, "password": PASSWORD,
                                                 "csrf": token})
        assert signed.status_code == 303
        yield client


@pytest.fixture
def coordinator(site: Site) -> Iterator[httpx.Client]:
    with client_of(site, "c.perrin", "CII-NE", "coordinator") as client:
        yield client


def validate(client: httpx.Client, text: str | None = None, *,
             file: tuple[str, bytes] | None = None) -> httpx.Response:
    token = csrf_of(client.get("/routes/atelier").text)
    return client.post("/routes/atelier", data={"csrf": token, "texte": text or ""},
                       files={"fichier": file or ("", b"", "application/octet-stream")})


def publish(client: httpx.Client, text: str) -> httpx.Response:
    token = csrf_of(client.get("/routes/atelier").text)
    return client.post("/routes/atelier/publier", data={"csrf": token, "texte": text})


def test_a_case_manager_may_neither_open_the_workshop_nor_publish(site: Site) -> None:
    with client_of(site, "m.robert", "ORP-NE", "case_manager") as manager:
        assert manager.get("/routes").status_code == 200  # every user may read the routes
        refused = manager.get("/routes/atelier")
        assert refused.status_code == 403 and "pas ouverte à votre rôle" in refused.text
        token = csrf_of(manager.get("/routes").text)
        for path in ("/routes/atelier", "/routes/atelier/publier"):
            answer = manager.post(path, data={"csrf": token, "texte": NE_ESO_V3})
            assert answer.status_code == 403
    with site.services.engine.connect() as conn:
        assert site.services.routes.versions(conn)["ne-eso"] == [2]


def test_an_uploaded_file_is_validated_like_pasted_text(coordinator: httpx.Client) -> None:
    pasted = validate(coordinator, TWO_ERRORS)
    uploaded = validate(coordinator, file=("ne-eso.yaml", TWO_ERRORS.encode(), "text/yaml"))
    assert pasted.status_code == uploaded.status_code == 422
    problems = [re.findall(r'<li id="probleme-\d+"><a href="#ligne-(\d+)">', a.text)
                for a in (pasted, uploaded)]
    assert problems[0] == problems[1] == sorted(
        [str(line_of(TWO_ERRORS, "to: entretein")), str(line_of(TWO_ERRORS, "cinq jours"))],
        key=int)
    assert "entretein" in uploaded.text.split('id="texte"')[1]  # the file's text kept to fix
    good = validate(coordinator, file=("ne-eso.yaml", NE_ESO_V3.encode(), "text/yaml"))
    assert good.status_code == 200 and "Publier la version 3" in good.text


def test_a_file_that_is_not_utf8_or_too_large_gets_a_sentence_next_to_the_file_field(
        coordinator: httpx.Client) -> None:
    latin = validate(coordinator, file=("ne-eso.yaml", NE_ESO.encode("latin-1"), "text/yaml"))
    assert latin.status_code == 422
    assert re.search(r'id="fichier-erreur"[^>]*>Le fichier n&#39;est pas en UTF-8', latin.text)
    assert 'aria-describedby="fichier-aide fichier-erreur"' in latin.text
    big = validate(coordinator, file=("big.yaml", b"# " + b"x" * MAX_BYTES, "text/yaml"))
    assert big.status_code == 413 and f"dépasse {MAX_BYTES // 1024} Ko" in big.text
    empty = validate(coordinator, "   ")
    assert empty.status_code == 422 and 'id="texte-erreur"' in empty.text


def test_publishing_the_same_text_twice_says_it_is_already_published(
        site: Site, coordinator: httpx.Client) -> None:
    first = publish(coordinator, NE_ESO_V3)
    assert first.status_code == 303
    assert first.headers["location"] == "/routes/ne-eso/versions/3?fait=publiee"
    assert "Version publiée" in coordinator.get(first.headers["location"]).text
    again = publish(coordinator, NE_ESO_V3 + "\n# relu une seconde fois\n")
    assert again.headers["location"] == "/routes/ne-eso/versions/3?fait=deja"
    assert "déjà publiée à l'identique" in read(coordinator.get(again.headers["location"]))
    # the workshop already says so before anyone presses publish
    checked = validate(coordinator, NE_ESO_V3)
    assert "déjà publiée telle quelle" in read(checked)
    assert "Publier la version" not in checked.text
    with site.services.engine.connect() as conn:
        assert site.services.routes.versions(conn)["ne-eso"] == [2, 3]


def test_other_content_under_a_published_version_asks_to_raise_the_version(
        site: Site, coordinator: httpx.Client) -> None:
    other = NE_ESO.replace("deadline: 10 working days", "deadline: 12 working days")
    answer = publish(coordinator, other)
    assert answer.status_code == 409
    assert "passez à « version: 3 »" in read(answer)
    assert "12 working days" in answer.text.split('id="texte"')[1]  # the text is kept
    assert site.services.routes.versions(site.services.engine.connect())["ne-eso"] == [2]


def test_every_form_of_the_coordinators_pages_needs_the_session_token(
        site: Site, coordinator: httpx.Client) -> None:
    case = refused_twice(site.services)
    for path, data in (("/routes/atelier", {"texte": NE_ESO_V3}),
                       ("/routes/atelier/publier", {"texte": NE_ESO_V3}),
                       (f"/coordination/escalations/{case}", {"reason": "x", "lead": "OAI-NE"})):
        assert coordinator.post(path, data=data).status_code == 403
        assert coordinator.post(path, data={**data, "csrf": "faux"}).status_code == 403
    assert site.services.get(case).escalated
    with site.services.engine.connect() as conn:
        assert site.services.routes.versions(conn)["ne-eso"] == [2]
