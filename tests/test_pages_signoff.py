"""The sign-off on the pages: the plan to sign in each awaited institution's inbox, the
proposal on the case page (who proposed, when, what), approve or refuse with a reason,
the author proposing again; the history crediting each line to its actor; each reader told
their own situation after acting. One journey in chromium, and the rules over HTTP."""

from __future__ import annotations

import re
from typing import Any

import httpx

from relais.cases.domain.actors import Actor
from relais.cases.domain.decide import EventInput
from relais.cases.services import CaseServices
from relais.institutions.registry import Kind, Role
from tests.browser import PHONE, Site, csrf_of, shoot, signed_in_client
from tests.conftest import PERSON, refer

M_ROBERT = Actor("m.robert", "ORP-NE", Kind.AC, Role.case_manager)
P_GIRARD = Actor("p.girard", "OAI-NE", Kind.AI, Role.case_manager)
S_FAVRE = Actor("s.favre", "SSR-NE", Kind.SA, Role.case_manager)
C_PERRIN = Actor("c.perrin", "CII-NE", Kind.CII, Role.coordinator)


def _client(site: Site, who: Actor) -> httpx.Client:
    return signed_in_client(site.base, site.person(who.user, who.institution, who.role))


def to_sign(inbox: str) -> str:
    """The inbox's section of the plans to sign."""
    return inbox.split('id="h-plans"')[1].split('id="h-transferts"')[0]


def _in_assessment(s: CaseServices) -> str:
    case_id = refer(s, route="reseau-cii", person=PERSON, actor=M_ROBERT,
                          fields={"age": 48}, reason="Dos").case.id
    s.fire(case_id, "transmettre", actor=M_ROBERT)
    s.fire(case_id, "retenir", actor=C_PERRIN)
    return case_id


def test_three_institutions_sign_a_plan_knowingly(site: Site) -> None:
    s = site.services
    for who in (M_ROBERT, P_GIRARD, S_FAVRE, C_PERRIN):
        site.person(who.user, who.institution, who.role)
    case_id = _in_assessment(s)

    # the OAI proposes itself as lead, with its reason
    oai: Any = site.signed_in("p.girard")
    oai.goto(f"/dossiers/{case_id}")
    plan = oai.locator("#ev-planifier")
    plan.get_by_label("Institution responsable").select_option("OAI-NE")
    plan.get_by_label("Motif").fill("L'atteinte à la santé est au premier plan.")
    plan.get_by_role("button", name="Adopter le plan d'intégration").click()
    oai.wait_for_load_state()
    told = oai.get_by_role("status").inner_text()
    assert "Votre proposition est enregistrée" in told and "AC, SA" in told

    # the SSR finds the plan to sign in its inbox, reads it and refuses it with a reason
    ssr: Any = site.signed_in("s.favre")
    to_sign = ssr.get_by_role("table", name=re.compile("Plans à signer"))
    to_sign.get_by_role("link", name=re.compile("Muster")).click()
    ssr.wait_for_load_state()
    card = ssr.locator("#signatures")
    text = card.inner_text()
    assert "p.girard (OAI-NE)" in text and "L'atteinte à la santé est au premier plan." in text
    assert "OAI-NE" in card.locator(".proposed-lead").inner_text()
    shoot(ssr, "signoff-proposal-to-sign")
    phone: Any = site.signed_in("s.favre", viewport=PHONE)
    phone.goto(f"/dossiers/{case_id}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(phone, "signoff-proposal-to-sign-phone")
    phone.context.close()
    card.get_by_role("button", name="Refuser la proposition").click()
    ssr.wait_for_load_state()
    assert ssr.locator("#signature-refus-motif-error").inner_text() == \
        "un refus doit être motivé"
    ssr.locator("#signatures").get_by_label("Motif du refus").fill(
        "Les mesures d'aide sociale manquent au plan.")
    ssr.locator("#signatures").get_by_role("button", name="Refuser la proposition").click()
    ssr.wait_for_load_state()
    told = ssr.get_by_role("status").inner_text()
    assert "revient à OAI-NE" in told and "ORP-NE reste responsable" in told

    # the OAI reads the refusal and proposes again
    oai.goto(f"/dossiers/{case_id}")
    card = oai.locator("#signatures")
    assert "Les mesures d'aide sociale manquent au plan." in card.inner_text()
    assert "s.favre (SSR-NE)" in card.inner_text()
    shoot(oai, "signoff-refused-back-to-author")
    plan = oai.locator("#ev-planifier")
    assert "Proposer à nouveau" in plan.inner_text()
    assert plan.get_by_label("Institution responsable").input_value() == "OAI-NE"  # kept
    plan.get_by_label("Motif").fill("Plan complété des mesures du SSR.")
    plan.get_by_role("button", name="Adopter le plan d'intégration").click()
    oai.wait_for_load_state()

    # the ORP approves as it stands; the SSR signs last
    orp: Any = site.signed_in("m.robert")
    orp.goto(f"/dossiers/{case_id}")
    orp.locator("#signatures").get_by_role("button", name="Approuver la proposition").click()
    orp.wait_for_load_state()
    told = orp.get_by_role("status").inner_text()
    assert "Votre signature est enregistrée" in told and "SA" in told
    ssr.goto(f"/dossiers/{case_id}")
    ssr.locator("#signatures").get_by_role("button", name="Approuver la proposition").click()
    ssr.wait_for_load_state()
    told = ssr.get_by_role("status").inner_text()
    assert "vous restez responsable" not in told
    assert "ORP-NE reste responsable" in told and "OAI-NE" in told
    shoot(ssr, "signoff-last-signature")

    # the history: the handoff is the OAI's, with the OAI's reason
    line = ssr.locator(".timeline li", has_text="Transfert proposé").first.inner_text()
    assert "p.girard (OAI-NE)" in line and "Plan complété des mesures du SSR." in line
    line = ssr.locator(".timeline li", has_text="Proposition refusée").first.inner_text()
    assert "s.favre (SSR-NE)" in line and "Les mesures d'aide sociale manquent" in line
    line = ssr.locator(".timeline li", has_text="Proposition signée").first.inner_text()
    assert "p.girard (OAI-NE)" in line and "responsable proposé : OAI-NE" in line
    assert s.get(case_id).handoff is not None


def test_the_signoff_forms_follow_the_rules_over_http(site: Site) -> None:
    s = site.services
    case_id = _in_assessment(s)
    s.fire(case_id, "planifier", actor=P_GIRARD,
           data=EventInput(lead="OAI-NE", reason="Santé"))
    ssr = _client(site, S_FAVRE)
    page = ssr.get(f"/dossiers/{case_id}")
    token = csrf_of(page.text)
    version = str(s.get(case_id).version)
    # without the session token: refused, nothing recorded
    r = ssr.post(f"/dossiers/{case_id}/signature/approuver", data={"version": version})
    assert r.status_code == 403 and s.get(case_id).version == int(version)
    # a stale version re-renders with the case as it is
    r = ssr.post(f"/dossiers/{case_id}/signature/approuver",
                 data={"csrf": token, "version": "1"})
    assert r.status_code == 409 and s.get(case_id).version == int(version)
    # the SSR may not withdraw the OAI's proposal
    r = ssr.post(f"/dossiers/{case_id}/signature/retirer",
                 data={"csrf": token, "version": version})
    assert r.status_code == 403
    # the inbox of the OAI (the author) does not list it to sign; the SSR's does
    oai = _client(site, P_GIRARD)
    assert case_id not in to_sign(oai.get("/dossiers").text)
    assert case_id in to_sign(ssr.get("/dossiers").text)
    # the author withdraws: nothing else changes
    token = csrf_of(oai.get(f"/dossiers/{case_id}").text)
    r = oai.post(f"/dossiers/{case_id}/signature/retirer",
                 data={"csrf": token, "version": version, "motif": "Attendre l'expertise"},
                 follow_redirects=True)
    assert r.status_code == 200 and "La proposition est retirée" in r.text
    case = s.get(case_id)
    assert (case.signoff, case.lead, case.state) == (None, "ORP-NE", "assessment")


def test_the_coordination_resumes_the_signed_step_without_new_signatures(site: Site) -> None:
    s = site.services
    site.person("c.perrin", "CII-NE", "coordinator")
    case_id = _in_assessment(s)
    s.fire(case_id, "planifier", actor=P_GIRARD, data=EventInput(lead="OAI-NE",
                                                                 reason="Santé"))
    s.answer_signoff(case_id, "approve", actor=M_ROBERT, reason=None)
    out = s.answer_signoff(case_id, "approve", actor=S_FAVRE, reason=None)
    assert out.case.handoff is not None
    s.refuse_handoff(out.case.handoff.id, actor=P_GIRARD, reason="Expertise manquante")
    again = s.fire(case_id, "planifier", actor=M_ROBERT)  # the signatures still hold
    assert again.case.handoff is not None
    s.refuse_handoff(again.case.handoff.id, actor=P_GIRARD, reason="Toujours manquante")
    assert s.get(case_id).escalated

    page: Any = site.signed_in("c.perrin")
    page.goto("/coordination")
    card = page.locator("article.escalation")
    step = card.get_by_label("Étape où le dossier reprend")
    assert "signée, responsable : OAI-NE" in step.inner_text()
    # another lead than the signed one cannot claim the signatures: said on the page
    card.get_by_label("Institution responsable après règlement").select_option("SSR-NE")
    step.select_option("plan")
    card.get_by_label("Motif de la décision (obligatoire)").fill("Compétence SSR")
    card.get_by_role("button", name=re.compile("Régler l'escalade")).click()
    page.wait_for_load_state()
    assert "ne peut pas s'en prévaloir" in page.get_by_role("alert").inner_text()
    assert s.get(case_id).state == "assessment"
    card = page.locator("article.escalation")
    card.get_by_label("Institution responsable après règlement").select_option("OAI-NE")
    card.get_by_label("Étape où le dossier reprend").select_option("plan")
    card.get_by_label("Motif de la décision (obligatoire)").fill(
        "Table ronde : l'AI est compétente, le plan signé s'applique.")
    shoot(page, "signoff-settlement-resumes-the-plan")
    card.get_by_role("button", name=re.compile("Régler l'escalade")).click()
    page.wait_for_load_state()
    assert "Escalade réglée" in page.get_by_role("status").inner_text()
    case = s.get(case_id)
    assert (case.state, case.lead, case.escalated, case.signoff) == \
        ("plan", "OAI-NE", False, None)
    page.context.close()
