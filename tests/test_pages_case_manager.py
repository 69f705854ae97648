"""The case managers' pages: the inbox, the case page, the referral form.

One journey in a real browser (an ORP case manager refers a person, works the case and hands
it on; the OAI's case manager accepts it from their inbox, hands it back, and the ORP
refuses), and the rules over plain HTTP: who gets a 404, what is withheld, stale versions,
refusals without a reason, the read log, CSRF on every form.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from relais.api.pages.inbox import urgency, week_end
from relais.cases.domain.actors import Actor
from relais.cases.domain.case import Deadline
from relais.cases.domain.decide import EventInput
from relais.cases.domain.results import Document
from relais.cases.queries import CaseQueries
from relais.cases.services import CaseServices
from relais.cases.sharing import Sharing
from relais.cases.store.tables import read_t
from relais.institutions.registry import Kind, Role
from tests.browser import PHONE, Site, csrf_of, shoot, signed_in_client
from tests.conftest import COORD, NETWORK_CONSENT, OAI, ORP, PERSON, SSR, refer

M_ROBERT = Actor("m.robert", "ORP-NE", Kind.AC, Role.case_manager)
P_GIRARD = Actor("p.girard", "OAI-NE", Kind.AI, Role.case_manager)
S_FAVRE = Actor("s.favre", "SSR-NE", Kind.SA, Role.case_manager)
C_PERRIN = Actor("c.perrin", "CII-NE", Kind.CII, Role.coordinator)
# the page's width, and the widest element that is not inside a sideways-scrolling box
WIDEST = """() => {
  let worst = [0, ""];
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest(".table-wrap, .diagram")) continue;
    const r = el.getBoundingClientRect().right;
    if (r > worst[0]) worst = [r, el.tagName + "." + el.className + "#" + el.id];
  }
  return [document.documentElement.scrollWidth, worst];
}"""
FIELDS = {"age": 48, "incapacite_travail_pct": 87,
          "signal": "certificats_medicaux"}


def _client(site: Site, who: Actor) -> httpx.Client:
    """An httpx client signed in as ``who`` (asking for pages, as a browser does)."""
    return signed_in_client(site.base, site.person(who.user, who.institution, who.role))


def _open(s: CaseServices, fields: dict[str, object] | None = None, *,
          consent: bool = True) -> str:
    return refer(s, route="reseau-cii", person=PERSON, actor=M_ROBERT,
                 fields=FIELDS if fields is None else fields, reason="certificats",
                 consent=NETWORK_CONSENT if consent else None).case.id


def _to_measures(s: CaseServices, case_id: str) -> None:
    """Referral → triage → assessment → plan (signed by AC, AI, SA; the ORP stays lead) →
    measures, through the case services as each institution would."""
    s.fire(case_id, "transmettre", actor=M_ROBERT)
    s.fire(case_id, "retenir", actor=C_PERRIN)
    for signer in (M_ROBERT, P_GIRARD, S_FAVRE):
        s.fire(case_id, "planifier", actor=signer, data=EventInput(lead="ORP-NE"))
    s.fire(case_id, "lancer", actor=M_ROBERT)


def _hand_to_oai(s: CaseServices, case_id: str) -> str:
    out = s.fire(case_id, "confier", actor=M_ROBERT,
                 data=EventInput(reason="capacité à examiner par l'AI", lead="OAI-NE"))
    assert out.case.handoff is not None
    return out.case.handoff.id


# -- the browser journey -------------------------------------------------------------------

def test_a_case_manager_refers_works_and_hands_on_a_case_and_the_receiver_accepts_it(
        site: Site) -> None:
    s = site.services
    for who in (M_ROBERT, P_GIRARD, S_FAVRE, C_PERRIN):
        site.person(who.user, who.institution, who.role)
    orp: Any = site.signed_in("m.robert")
    assert orp.url.endswith("/dossiers")
    assert orp.get_by_text("Votre institution n'a aucun dossier ouvert").is_visible()

    # the referral: a wrong AVS number is caught as it is typed, then the server agrees
    orp.get_by_role("link", name="Nouveau signalement").first.click()
    orp.get_by_label("Route", exact=True).select_option("reseau-cii")
    orp.locator("form.referral").wait_for()  # in place: the script hid the button
    avs = orp.get_by_label("Numéro AVS")
    avs.fill("756.9876.5432.18")
    live = orp.locator("#p-avs-error")
    assert live.get_attribute("aria-live") == "polite"
    assert live.inner_text() == "Chiffre de contrôle erroné : vérifiez le numéro AVS."
    assert avs.get_attribute("aria-invalid") == "true"
    orp.get_by_label("Nom officiel").fill("Muster")
    orp.get_by_label("Prénom").fill("Jean")
    orp.get_by_label("Date de naissance").fill("1978-05-01")
    orp.get_by_label("La personne a signé le formulaire de consentement du réseau CII").check()
    orp.get_by_role("button", name="Ouvrir le dossier").click()
    orp.wait_for_load_state()
    assert orp.locator("#p-avs-error").inner_text() == \
        "« 756.9876.5432.18 » : chiffre de contrôle erroné"
    assert orp.get_by_label("Prénom").input_value() == "Jean"
    shoot(orp, "case-manager-referral-error")
    avs = orp.get_by_label("Numéro AVS")
    avs.fill("756.9876.5432.17")
    assert live.inner_text() == "Numéro AVS valable."
    orp.get_by_role("button", name="Ouvrir le dossier").click()
    orp.wait_for_load_state()
    assert orp.get_by_role("status").inner_text() == "Le dossier est ouvert."
    case_id = orp.url.rsplit("/", 1)[1].split("?")[0]

    # the inbox lists it, with the person's name (the ORP leads: its own file)
    orp.get_by_role("link", name="Boîte de réception").first.click()
    assert orp.get_by_role("link", name="Muster Jean").is_visible()
    shoot(orp, "case-manager-inbox")

    # an event: refer to the coordination; then the others move it to the measures
    orp.get_by_role("link", name="Muster Jean").click()
    orp.get_by_role("button", name="Transmettre à la coordination CII").click()
    orp.wait_for_load_state()
    assert "Examen d'entrée" in orp.locator(".summary").inner_text()
    s.fire(case_id, "retenir", actor=C_PERRIN)
    for signer in (M_ROBERT, P_GIRARD, S_FAVRE):
        s.fire(case_id, "planifier", actor=signer, data=EventInput(lead="ORP-NE"))
    s.fire(case_id, "lancer", actor=M_ROBERT)

    # hand the case on: without a reason, the message sits under the reason field
    orp.reload()
    hand = orp.locator("#ev-confier")
    hand.get_by_label("Institution responsable").select_option("OAI-NE")
    hand.get_by_role("button", name="Confier le cas à une autre institution").click()
    orp.wait_for_load_state()
    hand = orp.locator("#ev-confier")
    reason = hand.get_by_label("Motif")
    assert reason.get_attribute("aria-invalid") == "true"
    assert hand.locator("#ev-confier-motif-error").inner_text() == "un motif est requis"
    assert hand.get_by_label("Institution responsable").input_value() == "OAI-NE"  # kept
    reason.fill("La capacité de travail relève de l'AI.")
    hand.get_by_role("button", name="Confier le cas à une autre institution").click()
    orp.wait_for_load_state()
    assert "Le transfert est proposé" in orp.get_by_role("status").inner_text()
    shoot(orp, "case-manager-case-page")

    # the OAI's case manager accepts it from their inbox
    oai: Any = site.signed_in("p.girard")
    waiting = oai.get_by_role("table", name=re.compile("Transferts en attente"))
    assert waiting.get_by_role("link", name="Muster Jean", exact=True).is_visible()
    shoot(oai, "case-manager-inbox-handoff")
    waiting.get_by_role("button", name=re.compile("^Accepter")).click()
    oai.wait_for_load_state()
    assert "votre institution est responsable" in oai.get_by_role("status").inner_text()
    assert s.get(case_id).lead == "OAI-NE"

    # the OAI hands it back; the ORP refuses, first without a reason, with the keyboard
    s.fire(case_id, "confier", actor=P_GIRARD,
           data=EventInput(reason="retour au placement", lead="ORP-NE"))
    orp.goto(f"/dossiers/{case_id}")
    orp.get_by_label("Motif du refus").focus()
    orp.keyboard.press("Tab")
    assert orp.evaluate("document.activeElement.textContent") == "Refuser le transfert"
    orp.keyboard.press("Enter")
    orp.wait_for_load_state()
    assert orp.locator("#refus-motif-error").inner_text() == "un refus doit être motivé"
    assert s.get(case_id).handoff is not None
    orp.get_by_label("Motif du refus").focus()
    orp.keyboard.type("Les mesures AC sont épuisées.")
    orp.keyboard.press("Tab")
    orp.keyboard.press("Enter")
    orp.wait_for_load_state()
    assert "Transfert refusé" in orp.get_by_role("status").inner_text()
    assert s.get(case_id).handoff is None and s.get(case_id).lead == "OAI-NE"

    phone: Any = site.signed_in("p.girard", viewport=PHONE)
    phone.goto(f"/dossiers/{case_id}")
    shoot(phone, "case-manager-case-page-phone")
    wide = phone.evaluate(WIDEST)
    assert wide[0] <= PHONE["width"], f"the page scrolls sideways at 360 px: {wide}"


# -- the rules, over HTTP ------------------------------------------------------------------

def test_a_case_manager_of_an_uninvolved_institution_gets_404_as_from_the_api(
        site: Site) -> None:
    case_id = _open(site.services)
    ssr = _client(site, S_FAVRE)
    page = ssr.get(f"/dossiers/{case_id}")
    assert page.status_code == 404 and "Muster" not in page.text
    assert ssr.get(f"/dossiers/{case_id}/documents/1").status_code == 404
    unknown = ssr.get("/dossiers/00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404 and unknown.text.count("Introuvable") == page.text.count(
        "Introuvable")  # a case one may not see looks like one that does not exist
    orp = _client(site, M_ROBERT)
    assert orp.get(f"/dossiers/{case_id}").status_code == 200


def test_withheld_data_never_appear_in_the_html(site: Site) -> None:
    s = site.services
    case_id = _open(s)
    _to_measures(s, case_id)
    _hand_to_oai(s, case_id)  # the OAI takes part: identity and situation on LACI art. 85f
    html = _client(site, P_GIRARD).get(f"/dossiers/{case_id}").text
    assert "Muster" in html and "LACI art. 85f" in html
    assert "Incapacité de travail" not in html and ">87<" not in html
    assert "Données médicales</strong> — retenu" in html
    inbox = _client(site, P_GIRARD).get("/dossiers").text
    assert "Muster Jean" in inbox and "Incapacité" not in inbox


def test_a_stale_version_re_renders_with_the_message_and_the_new_state(site: Site) -> None:
    s = site.services
    case_id = _open(s)
    orp = _client(site, M_ROBERT)
    html = orp.get(f"/dossiers/{case_id}").text
    seen = re.search(r'name="version" value="(\d+)"', html)
    assert seen is not None
    s.fire(case_id, "transmettre", actor=M_ROBERT)  # someone else, meanwhile
    answer = orp.post(f"/dossiers/{case_id}/evenements", data={
        "csrf": csrf_of(html), "evenement": "ecarter", "version": seen.group(1),
        "motif": "doublon"})
    assert answer.status_code == 409
    text = unescape(answer.text)
    assert "Quelqu'un a modifié le dossier entre-temps" in text
    assert "il est maintenant à l'étape « Examen d'entrée »" in text
    assert s.get(case_id).state == "triage"


def test_a_refusal_without_a_reason_gives_422_and_the_handoff_stays(site: Site) -> None:
    s = site.services
    case_id = _open(s)
    _to_measures(s, case_id)
    hid = _hand_to_oai(s, case_id)
    oai = _client(site, P_GIRARD)
    token = csrf_of(oai.get(f"/dossiers/{case_id}").text)
    answer = oai.post(f"/dossiers/{case_id}/transfert/refuser",
                      data={"csrf": token, "transfert": hid, "motif": "   "})
    assert answer.status_code == 422
    assert re.search(r'aria-invalid="true"', answer.text)
    assert '<p class="field-error" id="refus-motif-error">un refus doit être motivé</p>' \
        in answer.text
    case = s.get(case_id)
    assert case.handoff is not None and case.handoff.id == hid and case.lead == "ORP-NE"


def test_reading_the_case_page_logs_a_read(site: Site) -> None:
    s = site.services
    case_id = _open(s)

    def reads() -> int:
        with s.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(read_t).where(
                read_t.c.case_id == case_id, read_t.c.user == "m.robert",
                read_t.c.what == "case")).scalar_one())

    before = reads()
    assert _client(site, M_ROBERT).get(f"/dossiers/{case_id}").status_code == 200
    assert reads() == before + 1


def test_every_form_of_the_case_pages_needs_the_session_token(site: Site) -> None:
    s = site.services
    case_id = _open(s)
    orp = _client(site, M_ROBERT)
    version = s.get(case_id).version
    posts = {
        f"/dossiers/{case_id}/evenements": {"evenement": "ecarter", "version": str(version),
                                             "motif": "x"},
        f"/dossiers/{case_id}/transfert/accepter": {"transfert": "x"},
        f"/dossiers/{case_id}/transfert/refuser": {"transfert": "x", "motif": "x"},
        f"/dossiers/{case_id}/consentements": {"concedant": "J. Muster", "but": "CII",
                                                "destinataires": "OAI-NE",
                                                "categories": "medical"},
        f"/dossiers/{case_id}/consentements/x/revoquer": {},
        "/dossiers/nouveau": {"route": "reseau-cii", **PERSON},
    }
    for path, data in posts.items():
        for token in (None, "forged"):
            sent = data if token is None else {**data, "csrf": token}
            assert orp.post(path, data=sent).status_code == 403, path
    assert s.get(case_id).version == version  # nothing changed
    assert not site.services.history(case_id)[1:]
    assert not CaseQueries(s).open_cases(M_ROBERT)[1:]  # no second case opened


def test_an_event_missing_a_field_value_keeps_the_typed_values(site: Site) -> None:
    s = site.services
    case_id = _open(s, {})  # no age: retenir's guard (consentement and age >= 18) waits
    s.fire(case_id, "transmettre", actor=M_ROBERT)
    coord = _client(site, COORD)
    html = coord.get(f"/dossiers/{case_id}").text
    answer = coord.post(f"/dossiers/{case_id}/evenements", data={
        "csrf": csrf_of(html), "evenement": "retenir", "version": "2",
        "champ.age": "quarante-huit"})
    assert answer.status_code == 422
    assert 'id="ev-retenir-champ-age-error"' in answer.text
    assert 'value="quarante-huit"' in answer.text
    fine = coord.post(f"/dossiers/{case_id}/evenements", data={
        "csrf": csrf_of(html), "evenement": "retenir", "version": "2", "champ.age": "48"})
    assert fine.status_code == 303 and s.get(case_id).state == "assessment"


def test_consents_are_recorded_and_revoked_from_the_case_page(site: Site) -> None:
    s = site.services
    case_id = _open(s, consent=False)
    orp = _client(site, M_ROBERT)
    token = csrf_of(orp.get(f"/dossiers/{case_id}").text)
    missing = orp.post(f"/dossiers/{case_id}/consentements", data={
        "csrf": token, "concedant": "Jean Muster", "but": "assessment", "categories": "medical"})
    assert missing.status_code == 422 and 'id="consent-recipients-error"' in missing.text
    done = orp.post(f"/dossiers/{case_id}/consentements", data={
        "csrf": token, "concedant": "Jean Muster", "but": "assessment",
        "categories": "medical", "destinataires": "OAI-NE"})
    assert done.status_code == 303
    [(consent, _)] = Sharing(s).consents(s.get(case_id))
    revoked = orp.post(f"/dossiers/{case_id}/consentements/{consent.id}/revoquer",
                       data={"csrf": token})
    assert revoked.status_code == 303
    assert "révoqué le" in orp.get(f"/dossiers/{case_id}").text


# -- the inbox's query and urgency -------------------------------------------------------

def test_open_cases_leave_out_closed_cases_and_the_ones_the_actor_may_not_see(
        services: CaseServices) -> None:
    q = CaseQueries(services)
    kept = refer(services, route="reseau-cii", person=PERSON, actor=ORP,
                              fields={}).case.id
    closed = services.open_case(route="reseau-cii", person=PERSON, actor=ORP).case.id
    services.fire(closed, "ecarter", actor=ORP, data=EventInput(reason="doublon"))
    assert [c.id for c in q.open_cases(ORP)] == [kept]
    assert q.open_cases(SSR) == [] and q.open_cases(OAI) == []
    assert [c.id for c in q.open_cases(COORD, state="signalement")] == [kept]
    assert q.open_cases(COORD, route="cmfp") == []


@pytest.mark.parametrize(("due", "group"), [
    (datetime(2026, 3, 30, 9, 0, tzinfo=UTC), "late"),
    (datetime(2026, 4, 10, 21, 0, tzinfo=UTC), "week"),  # Good Friday, Easter Monday off
    (datetime(2026, 4, 13, 9, 0, tzinfo=UTC), "later"),
])
def test_due_this_week_counts_the_working_days_of_the_routes_canton(
        services: CaseServices, due: datetime, group: str) -> None:
    case = services.open_case(route="reseau-cii", person=PERSON, actor=ORP).case
    route = services.route_of(case)
    now = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)  # a Wednesday before Easter
    assert week_end(route, now).date().isoformat() == "2026-04-11"
    assert urgency(case.but(deadline=Deadline(due)), route, now) == group


def test_documents_are_listed_and_downloaded_only_where_their_category_is_disclosed(
        site: Site) -> None:
    s = site.services
    case_id = _open(s)
    _to_measures(s, case_id)
    s.add_document(case_id, Document("certificat", "file", "ORP-NE", "medical",
                                     "Certificat médical", "application/pdf", b"%PDF-1.4 x"),
                   actor=M_ROBERT)
    s.add_document(case_id, Document("cv", "file", "ORP-NE", "situation", "Curriculum vitae",
                                     "application/pdf", b"%PDF-1.4 cv"), actor=M_ROBERT)
    _hand_to_oai(s, case_id)
    orp, oai = _client(site, M_ROBERT), _client(site, P_GIRARD)
    own = orp.get(f"/dossiers/{case_id}").text
    links = dict((t, i) for i, t in re.findall(
        rf'href="/dossiers/{case_id}/documents/(\d+)">([^<]+)</a>', own))
    assert set(links) == {"Certificat médical", "Curriculum vitae"}
    got = orp.get(f"/dossiers/{case_id}/documents/{links['Certificat médical']}")
    assert got.status_code == 200 and got.content == b"%PDF-1.4 x"
    theirs = unescape(oai.get(f"/dossiers/{case_id}").text)
    assert "Curriculum vitae" in theirs and "Certificat médical" not in theirs
    assert "1 document(s) retenu(s)" in theirs
    assert oai.get(f"/dossiers/{case_id}/documents/{links['Certificat médical']}"
                   ).status_code == 404


def test_an_event_someone_may_not_fire_answers_with_the_reason_on_the_page(site: Site) -> None:
    s = site.services
    case_id = _open(s)
    _to_measures(s, case_id)
    _hand_to_oai(s, case_id)
    oai = _client(site, P_GIRARD)
    html = oai.get(f"/dossiers/{case_id}").text
    assert 'name="evenement"' not in html  # the lead acts here, not the OAI
    answer = oai.post(f"/dossiers/{case_id}/evenements", data={
        "csrf": csrf_of(html), "evenement": "cloturer", "version": str(s.get(case_id).version),
        "issue": "abandon"})
    assert answer.status_code == 403
    assert "ne peut pas agir sur ce cas" in unescape(answer.text)
    assert s.get(case_id).is_open


def test_escalated_cases_show_in_the_inbox_of_the_lead_and_of_the_coordination(
        site: Site) -> None:
    s = site.services
    case_id = _open(s)
    other = s.open_case(route="reseau-cii", person={**PERSON, "avs": "756.9876.5432.17"},
                        actor=P_GIRARD).case.id  # the OAI's own case: not the ORP's business
    later = datetime.now(UTC) + timedelta(days=60)
    s.sweep_deadlines(later)  # the owner is reminded, with a grace period...
    s.sweep_deadlines(later + timedelta(days=60))  # ...then the coordination is alerted
    assert s.get(case_id).escalated and s.get(other).escalated

    def escalations(who: Actor) -> str:
        html = _client(site, who).get("/dossiers").text
        return html.split('id="h-escalades"')[1].split('id="h-dossiers"')[0]

    mine, network = escalations(M_ROBERT), escalations(C_PERRIN)
    assert case_id in mine and other not in mine
    assert case_id in network and other in network
    assert "Aucun dossier escaladé" in escalations(S_FAVRE)


def test_the_case_pages_switch_to_english_and_keep_swiss_dates(site: Site) -> None:
    case_id = _open(site.services)
    orp = _client(site, M_ROBERT)
    orp.get("/langue/en")
    inbox = unescape(orp.get("/dossiers").text)
    assert "<h1>Inbox" in inbox and "Due this week (5 working days)" in inbox
    html = unescape(orp.get(f"/dossiers/{case_id}").text)
    assert "Step: <strong class=\"state\">Referral</strong>" in html
    assert re.search(r"Step deadline: <strong>\d\d\.\d\d\.\d{4}</strong>", html)
    assert "Birth date</dt><dd>01.05.1978" in html
    assert "basis: own file" in html
    referral = unescape(orp.get("/dossiers/nouveau?route=reseau-cii").text)
    assert "New referral" in referral and 'data-msg-check="Wrong check digit' in referral
