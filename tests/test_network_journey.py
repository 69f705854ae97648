"""The network at its seams, as its people live it: on a fresh `make run DEMO=1` (`relais
serve --demo`, its orchestration embedded), in chromium, each person acting from the page
they read (each form carries the version of the case it was read at):

the ORP refers a person with their consent and contact; the coordination triages seeing
whom it is about; the ORP, the OAI and the social service assess; the OAI proposes, the
social service refuses with a reason, the OAI proposes again and all sign; the OAI accepts
and leads; the social service still follows the case and its history; the OAI's
convocation is a letter written to the OAI. Screenshots under artefacts/screenshots/."""

from __future__ import annotations

import re
import time
from typing import Any

from relais.cases.domain.avs import ean13_check_digit, format_avs
from tests.browser import demo_page, shoot
from tests.pdf_text import pdf_lines, pdf_text

FIRST12 = "756987654321"
AVS = format_avs(FIRST12 + str(ean13_check_digit(FIRST12)))
NAME, FIRST = "Đorđević-Šimić", "Milica"
LISTED = f"{NAME} {FIRST}"  # as lists show a person: official name, first name


def _case_page(page: Any, case_id: str) -> None:
    page.goto(f"/dossiers/{case_id}")
    page.wait_for_load_state()


def _told(page: Any) -> str:
    return str(page.get_by_role("status").inner_text())


def _documents(page: Any, case_id: str, deadline_s: float = 120) -> list[str]:
    """The case page's links to its gathered files and letters, once the background
    actions have written the convocations (the page is read again until then)."""
    end = time.monotonic() + deadline_s
    while True:
        _case_page(page, case_id)
        links = page.locator("#h-documents ~ * a[href*='/documents/'], "
                             "section[aria-labelledby='h-documents'] a[href*='/documents/']")
        hrefs = sorted({str(a.get_attribute("href")) for a in links.all()})
        if len([h for h in hrefs if h]) >= 4 or time.monotonic() > end:
            return hrefs
        time.sleep(1)


def test_a_case_crosses_the_network_and_nobody_is_bounced(
        fresh_relais: tuple[str, str], browser: object) -> None:
    base, _ = fresh_relais
    orp: Any = demo_page(browser, base, "m.robert")
    coord: Any = demo_page(browser, base, "c.perrin")
    oai: Any = demo_page(browser, base, "p.girard")
    ssr: Any = demo_page(browser, base, "n.berset")

    # 1. the ORP refers the person, with the consent they signed and how to reach them
    orp.goto("/dossiers/nouveau?route=reseau-cii")
    orp.get_by_label("Numéro AVS").fill(AVS)
    orp.get_by_label("Nom officiel").fill(NAME)
    orp.get_by_label("Prénom").fill(FIRST)
    orp.get_by_label("Date de naissance").fill("1979-11-23")
    orp.get_by_label("Rue et numéro").fill("Rue des Fahys 7")
    orp.get_by_label("NPA").fill("2000")
    orp.get_by_label("Localité").fill("Neuchâtel")
    orp.get_by_label("E-mail").fill("milica.dj@example.ch")
    orp.get_by_label("Téléphone mobile").fill("079 555 01 02")
    orp.get_by_label(re.compile("La personne a signé le formulaire de consentement")).check()
    shoot(orp, "network-1-referral")
    orp.get_by_role("button", name="Ouvrir le dossier").click()
    orp.wait_for_load_state()
    assert "?fait=ouvert" in orp.url
    case_id = orp.url.split("/dossiers/")[1].split("?")[0]
    orp.get_by_role("button", name="Transmettre à la coordination CII").click()
    orp.wait_for_load_state()
    assert "Examen d'entrée" in orp.locator("main").inner_text()

    # 2. the coordination triages knowing whom it is about
    coord.goto("/dossiers")
    coord.get_by_role("link", name=LISTED).first.click()
    coord.wait_for_load_state()
    assert NAME in coord.get_by_role("heading", level=1).inner_text()
    assert "Rue des Fahys 7, 2000 Neuchâtel" in coord.locator("main").inner_text()
    shoot(coord, "network-2-triage-sees-the-person")
    coord.get_by_role("button", name="Retenir le cas").click()
    coord.wait_for_load_state()
    assert "Assessment commun" in coord.locator("main").inner_text()

    # 3. the OAI reads the case; the joint step's actions (files, convocations) are
    # recorded meanwhile; the OAI proposes itself as lead from the page it read
    _case_page(oai, case_id)
    read_at = oai.locator("#ev-planifier input[name=version]").input_value()
    hrefs = _documents(ssr, case_id)  # the background work is done (another reader waits)
    assert len(hrefs) >= 4, hrefs
    plan = oai.locator("#ev-planifier")
    assert plan.locator("input[name=version]").input_value() == read_at  # not reloaded
    plan.get_by_label("Institution responsable").select_option("OAI-NE")
    plan.get_by_label("Motif").fill("La santé est au premier plan : réadaptation AI.")
    plan.get_by_role("button", name="Adopter le plan d'intégration").click()
    oai.wait_for_load_state()
    assert "Votre proposition est enregistrée" in _told(oai), _told(oai)

    # 4. the social service reads the proposal and refuses it with its reason
    ssr.goto("/dossiers")
    ssr.get_by_role("table", name=re.compile("Plans à signer")).get_by_role(
        "link", name=LISTED).click()
    ssr.wait_for_load_state()
    card = ssr.locator("#signatures")
    assert "p.girard (OAI-NE)" in card.inner_text()
    assert "La santé est au premier plan" in card.inner_text()
    card.get_by_label("Motif du refus").fill("Le plan ne dit rien du budget d'aide sociale.")
    card.get_by_role("button", name="Refuser la proposition").click()
    ssr.wait_for_load_state()
    assert "revient à OAI-NE" in _told(ssr)
    shoot(ssr, "network-4-refused-with-a-reason")

    # 5. the OAI proposes again; the ORP and the social service sign
    _case_page(oai, case_id)
    assert "budget d'aide sociale" in oai.locator("#signatures").inner_text()
    plan = oai.locator("#ev-planifier")
    plan.get_by_label("Motif").fill("Plan complété : l'aide sociale couvre le budget.")
    plan.get_by_role("button", name="Adopter le plan d'intégration").click()
    oai.wait_for_load_state()
    for signer in (orp, ssr):
        _case_page(signer, case_id)
        signer.locator("#signatures").get_by_role(
            "button", name="Approuver la proposition").click()
        signer.wait_for_load_state()
    told = _told(ssr)
    assert "vous restez responsable" not in told and "ORP-NE reste responsable" in told
    shoot(ssr, "network-5-all-signed")

    # 6. the OAI accepts the lead from its inbox
    oai.goto("/dossiers")
    oai.get_by_role("table", name=re.compile("Transferts en attente")).get_by_role(
        "button", name=re.compile("^Accepter")).first.click()
    oai.wait_for_load_state()
    assert "votre institution est responsable" in _told(oai)
    shoot(oai, "network-6-oai-leads")

    # 7. the social service still follows the case: its inbox, the case, the history
    ssr.goto("/dossiers")
    assert ssr.get_by_role("link", name=LISTED).count() >= 1
    answer = ssr.goto(f"/dossiers/{case_id}")
    assert answer.status == 200
    page = ssr.locator("main").inner_text()
    assert "Institutions partenaires" in page and "OAI-NE" in page
    timeline = ssr.locator(".timeline").inner_text()
    assert "Proposition refusée" in timeline and "Transfert proposé" in timeline
    line = ssr.locator(".timeline li", has_text="Transfert proposé").first.inner_text()
    assert "p.girard (OAI-NE)" in line  # credited to the proposal's author
    shoot(ssr, "network-7-ssr-still-follows")

    # 8. the OAI's convocation is a letter to the OAI, not the person's
    letters = [oai.request.get(f"{base}{h}") for h in _documents(oai, case_id)]
    to_oai = [r.body() for r in letters
              if r.ok and r.body().startswith(b"%PDF")
              and any("assurance-invalidité" in line.text and line.x_mm > 100
                      for line in pdf_lines(r.body()))]
    assert to_oai, "a convocation addressed to the OAI"
    text = pdf_text(to_oai[0])
    assert "votre situation" not in text.lower()
    assert NAME in text  # the OAI sees the person (LACI art. 85f): their name prints as written
    assert "85f" in text
