"""The coordinators' pages: the published routes, the route workshop (validate, draw, compare,
publish) and the coordination page (escalations to settle, revolving-door cases).

One journey in a real browser, then the rules over HTTP: who may publish, uploads, files
that cannot be read, publishing twice, CSRF."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import cast

import httpx
import pytest
from playwright.sync_api import Page
from sqlalchemy import func, select

from relais.cases.domain.decide import EventInput
from relais.cases.services import CaseServices
from relais.cases.store.tables import event_t
from relais.wiring import standard_route_texts
from relais.workflows.engine.located_yaml import MAX_BYTES
from tests.browser import PHONE, Site, csrf_of, shoot, signed_in_client
from tests.conftest import COORD, OAI, ORP, PERSON, SSR, refer

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
    case = refer(s, route="reseau-cii", person=PERSON, actor=ORP,
                       fields={"age": 48}).case.id
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
    person = {**PERSON, "avs": "756.1000.0007.71", "official_name": "Rochat", "first_name": "Léa"}
    case = refer(s, route="reseau-cii", person=person, actor=ORP,
                       fields={"age": 48}).case.id
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
    case = s.open_case(route="ne-eso", person={**PERSON, "avs": "7569217076985",
                                               "official_name": "Favre", "first_name": "Noé"},
                       actor=SSR, fields={}).case.id
    now = datetime.now(UTC)
    s.sweep_deadlines(now + timedelta(days=30))
    s.sweep_deadlines(now + timedelta(days=60))
    assert s.get(case).escalated
    return case


def read(answer: httpx.Response) -> str:
    """The page's text with its entities read, as a person sees it."""
    return html.unescape(answer.text)


def events(s: CaseServices) -> int:
    with s.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(event_t)).scalar_one())


def client_of(site: Site, name: str, institution: str, role: str) -> closing[httpx.Client]:
    """An httpx client signed in as a person, asking for pages as a browser does."""
    return closing(signed_in_client(site.base, site.person(name, institution, role)))


@pytest.fixture
def coordinator(site: Site) -> Iterator[httpx.Client]:
    with client_of(site, "c.perrin", "CII-NE", "coordinator") as client:
        yield client


def validate(client: httpx.Client, text: str | None = None, *,
             file: tuple[str, bytes, str] | None = None) -> httpx.Response:
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
    # beyond what the application reads at all: still a page with a sentence, not JSON
    huge = validate(coordinator, file=("huge.yaml", b"#" * (2 * 1024 * 1024), "text/yaml"))
    assert huge.status_code == 413 and "<h1>Demande refusée</h1>" in huge.text
    assert "corps de requête trop grand" in huge.text
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


def test_a_coordinator_validates_fixes_publishes_a_route_and_settles_an_escalation(
        site: Site) -> None:
    s = site.services
    refused, late, revolving = refused_twice(s), overdue(s), back_and_forth(s)
    site.person("c.perrin", "CII-NE", "coordinator")
    page = cast(Page, site.signed_in("c.perrin"))
    assert page.url.endswith("/coordination")

    # the routes, each with its published versions
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Routes").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Routes publiées"
    assert page.get_by_role("link", name="Dessin et résumé ne-eso v2").is_visible()
    shoot(page, "coordinator-routes")
    page.get_by_role("link", name="Dessin et résumé ne-eso v2").click()
    assert page.locator("figure.diagram svg[role=img]").is_visible()
    assert page.get_by_role("row", name=re.compile("Candidature")).inner_text().count(
        "10 jours ouvrables") == 1
    shoot(page, "coordinator-route-version")
    page.go_back()

    # the workshop: two mistakes, each on its line
    page.get_by_role("link", name="Atelier : valider et publier une route").click()
    text = page.get_by_label("Texte de la route (YAML)")
    text.fill(TWO_ERRORS)
    page.get_by_role("button", name="Valider").click()
    problems = page.locator("ol.problems > li")
    assert problems.count() == 2
    wrong_state, wrong_deadline = line_of(TWO_ERRORS, "entretein"), line_of(TWO_ERRORS, "cinq")
    assert problems.all_inner_texts() == [  # in the order of the file
        f"Ligne {wrong_deadline} · states.entretien.deadline : délai « cinq jours » illisible ; "
        "écrire N jours ouvrables | N jours | N semaines | N mois (ou N working days | N days "
        "| N weeks | N months)",
        f"Ligne {wrong_state} · transitions[0].to : « entretein » ne désigne aucun état"]
    assert text.input_value() == TWO_ERRORS  # kept, to be fixed
    assert text.get_attribute("aria-invalid") == "true"
    shoot(page, "coordinator-workshop-errors")
    problems.nth(1).get_by_role("link", name=f"Ligne {wrong_state}").click()
    assert page.url.endswith(f"#ligne-{wrong_state}")
    target = page.locator(":target")
    assert target.get_attribute("class") == "bad" and "entretein" in target.inner_text()
    assert target.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"

    # fixed into version 3, sent with the keyboard: drawn and compared with version 2
    text.fill(NE_ESO_V3)
    page.keyboard.press("Tab")  # to the file field
    page.keyboard.press("Tab")  # to the button
    assert page.evaluate("document.activeElement.textContent") == "Valider"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("heading", name=re.compile("Route valide")).is_visible()
    assert page.locator("svg[role=img] g.state[data-state=entretien]").count() == 1
    changes = page.locator("table.changes")
    assert "de v2 à v3" in changes.locator("caption").inner_text()
    assert "État entretien" in changes.inner_text()
    deadline = changes.get_by_role("row", name=re.compile("^État candidature"))
    assert "10 jours ouvrables" in deadline.inner_text()
    assert "15 jours ouvrables" in deadline.inner_text()
    assert page.locator("pre.diff .add", has_text="+  entretien:").count() == 1
    shoot(page, "coordinator-workshop-comparison")
    # a walk through the new version before publishing it
    page.get_by_label("Événements, un par ligne").fill("convoquer\nadmettre_stage")
    page.get_by_label(re.compile("Données du dossier")).fill("aide_sociale: true")
    page.get_by_role("button", name="Simuler").click()
    assert page.locator("ol.walk li.taken").count() == 2
    assert "Stage d'observation" in page.locator(".simulation").get_by_role(
        "status").inner_text()
    assert page.locator("svg g.state.current").get_attribute("data-state") == \
        "stage_observation"
    shoot(page, "coordinator-workshop-simulation")
    page.get_by_role("button", name="Publier la version 3").click()
    page.wait_for_load_state()
    assert page.url.endswith("/routes/ne-eso/versions/3?fait=publiee")
    assert "Version publiée" in page.get_by_role("status").inner_text()
    page.get_by_role("link", name="Toutes les routes").click()
    assert page.get_by_role("link", name="Dessin et résumé ne-eso v3").is_visible()

    # the coordination: two escalations, the twice-refused one settled by a decision
    page.get_by_role("link", name="Coordination", exact=True).click()
    cards = page.locator("article.escalation")
    assert cards.count() == 2
    card = cards.filter(has_text="Transfert refusé deux fois")
    assert "Toujours pas de notre ressort" in card.inner_text()
    assert "OAI-NE" in card.get_by_role("definition").nth(3).inner_text()
    assert cards.filter(has_text="Délai dépassé").count() == 1
    tourniquet = page.locator("table.revolving tbody tr")
    assert tourniquet.count() == 1
    assert tourniquet.locator("ol.chain li").all_inner_texts()[0].startswith("ORP-NE")
    assert [li.split()[0] for li in tourniquet.locator("ol.chain li").all_inner_texts()] == [
        "ORP-NE", "OAI-NE", "ORP-NE"]
    assert tourniquet.get_by_role("link").get_attribute("href") == f"/dossiers/{revolving}"
    shoot(page, "coordinator-coordination")
    card.get_by_label("Institution responsable après règlement").select_option("OAI-NE")
    card.get_by_label("Motif de la décision (obligatoire)").fill(
        "Table ronde du 3 : l'AI est compétente, elle reprend le dossier.")
    card.get_by_role("button", name=re.compile("Régler l'escalade")).click()
    page.wait_for_load_state()
    assert "Escalade réglée" in page.get_by_role("status").inner_text()
    assert page.locator("article.escalation").count() == 1
    after = s.get(refused)
    assert (after.lead, after.escalated) == ("OAI-NE", False)
    assert s.get(late).escalated
    page.context.close()


def test_at_phone_width_the_numbered_text_scrolls_sideways_and_the_page_does_not(
        site: Site) -> None:
    refused_twice(site.services)
    back_and_forth(site.services)
    site.person("c.perrin", "CII-NE", "coordinator")
    page = cast(Page, site.signed_in("c.perrin", viewport=PHONE))
    page.goto("/routes/atelier?depuis=ne-eso")
    text = page.get_by_label("Texte de la route (YAML)")
    assert text.input_value() == NE_ESO  # started from the published version
    text.fill(TWO_ERRORS)
    page.get_by_role("button", name="Valider").click()
    view = page.locator(".yaml-view").first
    assert view.evaluate("e => e.scrollWidth > e.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, "coordinator-workshop-phone")
    page.goto("/coordination")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("link", name="English").click()
    assert page.get_by_role("heading", level=1).inner_text() == "CII coordination"
    shoot(page, "coordinator-coordination-phone-en")
    page.context.close()


def test_settling_needs_a_reason_and_a_lead_of_the_route_said_next_to_each_field(
        site: Site, coordinator: httpx.Client) -> None:
    case = refused_twice(site.services)
    path = f"/coordination/escalations/{case}"
    token = csrf_of(coordinator.get("/coordination").text)
    no_reason = coordinator.post(path, data={"csrf": token, "lead": "OAI-NE", "reason": " "})
    assert no_reason.status_code == 422
    assert re.search(rf'id="reason-erreur-{case}">un motif est requis', no_reason.text)
    assert f'aria-invalid="true" aria-describedby="reason-erreur-{case}"' in no_reason.text
    assert '<option value="OAI-NE" selected>' in no_reason.text  # the choice is kept
    elsewhere = coordinator.post(path, data={"csrf": token, "lead": "OFIJ-NE",
                                             "reason": "Essai"})
    assert elsewhere.status_code == 422
    assert re.search(rf'id="lead-erreur-{case}">OFIJ-NE ne peut pas être responsable',
                     elsewhere.text)
    assert ">Essai</textarea>" in elsewhere.text
    assert site.services.get(case).escalated
    settled = coordinator.post(path, data={"csrf": token, "lead": "ORP-NE",
                                           "reason": "L'ORP garde le dossier"})
    assert settled.status_code == 303 and settled.headers["location"].startswith(
        "/coordination?fait=reglee")
    assert site.services.get(case).lead == "ORP-NE" and not site.services.get(case).escalated
    twice = coordinator.post(path, data={"csrf": token, "lead": "ORP-NE", "reason": "Encore"})
    assert twice.status_code == 409 and "rien à régler" in read(twice)


def test_the_coordination_page_is_the_coordinators_own(site: Site) -> None:
    case = refused_twice(site.services)
    with client_of(site, "m.robert", "ORP-NE", "case_manager") as manager:
        assert manager.get("/coordination").status_code == 403
        token = csrf_of(manager.get("/routes").text)
        answer = manager.post(f"/coordination/escalations/{case}",
                              data={"csrf": token, "lead": "ORP-NE", "reason": "Moi"})
        assert answer.status_code == 403
    assert site.services.get(case).escalated


def test_a_simulation_walks_the_route_and_stops_at_the_first_refused_event(
        site: Site, coordinator: httpx.Client) -> None:
    token = csrf_of(coordinator.get("/routes/atelier").text)
    events_before = events(site.services)
    walk = coordinator.post("/routes/atelier/simuler", data={
        "csrf": token, "texte": NE_ESO_V3,
        "evenements": "convoquer\nadmettre_stage\nengager\ncloturer",
        "champs": "aide_sociale: true\ntaux_activite_pct: 40"})
    assert walk.status_code == 200
    moves = re.findall(r'<li class="(taken|refused)">', walk.text)
    assert moves == ["taken", "taken", "refused"]  # cloturer is never tried
    # which condition failed, with the value it read
    assert "condition non remplie : taux_activite_pct >= 50 (taux_activite_pct : 40)" in \
        read(walk)
    assert 'class="state current" data-state="stage_observation"' in walk.text
    unknown = coordinator.post("/routes/atelier/simuler", data={
        "csrf": token, "texte": NE_ESO_V3, "evenements": "convoquer", "champs": "age: 48"})
    assert unknown.status_code == 422
    assert re.search(r'id="champs-erreur">champ inconnu « age »', read(unknown))
    assert events(site.services) == events_before  # nothing was recorded
    with site.services.engine.connect() as conn:
        assert site.services.routes.versions(conn)["ne-eso"] == [2]


def test_the_route_format_guide_is_a_page_of_the_workshop(site: Site,
                                                          coordinator: httpx.Client) -> None:
    """The workshop pointed to docs/routes.md, which a browser cannot open: the guide is a
    page of the application, the same text, nothing of it run as HTML."""
    workshop = coordinator.get("/routes/atelier").text
    assert 'href="/routes/guide"' in workshop and "docs/routes.md" not in workshop
    guide = coordinator.get("/routes/guide")
    assert guide.status_code == 200
    assert "<h1" in guide.text and "jours ouvrables" in guide.text
    assert "<code>N working days | N days | N weeks | N months</code>" in guide.text
    assert "<script" not in guide.text.split("<main", 1)[1]
    with client_of(site, "p.girard", "OAI-NE", "case_manager") as case_manager:
        assert case_manager.get("/routes/guide").status_code == 403
