"""The "Institutions partenaires" section of the case page, in a real browser: each
institution taking part, its kind, since when and by which event; the coordination removes
one with a reason (then that institution gets 404 on the page) and adds one back."""

from __future__ import annotations

from contextlib import closing

from playwright.sync_api import Page

from relais.cases.domain.actors import Actor
from relais.cases.domain.decide import EventInput
from relais.cases.services import CaseServices
from relais.institutions.dates import swiss_date
from relais.institutions.registry import Kind, Role
from tests.browser import Site, csrf_of, shoot, signed_in_client
from tests.conftest import PERSON, refer

M_ROBERT = Actor("m.robert", "ORP-NE", Kind.AC, Role.case_manager)
P_GIRARD = Actor("p.girard", "OAI-NE", Kind.AI, Role.case_manager)
S_FAVRE = Actor("s.favre", "SSR-NE", Kind.SA, Role.case_manager)
C_PERRIN = Actor("c.perrin", "CII-NE", Kind.CII, Role.coordinator)


def planned(s: CaseServices) -> str:
    """Journey C to the plan: ORP refers, the coordination takes the case on, ORP, OAI and SSR
    sign the plan with the OAI as lead, the OAI accepts."""
    case_id = refer(s, route="reseau-cii", person=PERSON, actor=M_ROBERT,
                          fields={"age": 48}, reason="certificats").case.id
    s.fire(case_id, "transmettre", actor=M_ROBERT)
    s.fire(case_id, "retenir", actor=C_PERRIN)
    for signer in (M_ROBERT, P_GIRARD, S_FAVRE):
        out = s.fire(case_id, "planifier", actor=signer, data=EventInput(lead="OAI-NE"))
    assert out.case.handoff is not None
    s.accept_handoff(out.case.handoff.id, actor=P_GIRARD)
    return case_id


def rows(page: Page) -> list[list[str]]:
    section = page.locator("#partenaires")
    return [[c.strip() for c in r.locator("td").all_inner_texts()[:4]]
            for r in section.locator("tbody tr").all()]


def test_the_partner_institutions_on_the_case_page(site: Site) -> None:
    s = site.services
    case_id = planned(s)
    for who in (S_FAVRE, C_PERRIN):
        site.person(who.user, who.institution, who.role)

    ssr = site.signed_in(S_FAVRE.user)
    assert f"/dossiers/{case_id}" in ssr.content()  # in its inbox, as in the API's list
    ssr.goto(f"/dossiers/{case_id}")
    assert ssr.get_by_role("heading", name="Institutions partenaires").is_visible()
    seen = rows(ssr)
    assert [r[0].split(" — ")[0] for r in seen] == ["OAI-NE", "SSR-NE", "ORP-NE"]
    assert seen[0][2] == "Responsable" and seen[2][2] == "Ancienne responsable"
    assert seen[1][1] == "Action sociale" and seen[1][2] == "Partenaire"
    assert seen[1][3] == swiss_date(s.get(case_id).opened_at)  # Neuchâtel's day
    assert "Retenir le cas" in ssr.locator("#partenaire-SSR-NE").inner_text()
    # a case manager reads who takes part, the coordination alone changes it
    assert ssr.locator("#partenaires form").count() == 0
    shoot(ssr, "partners-1-ssr-sees-the-partners")

    coord = site.signed_in(C_PERRIN.user)
    coord.goto(f"/dossiers/{case_id}")
    assert coord.locator("#partenaire-OAI-NE form").count() == 0  # the lead does not leave
    coord.locator("#partenaire-SSR-NE").get_by_role("button", name="Retirer SSR-NE").click()
    coord.wait_for_load_state()
    assert "motif est requis" in coord.locator("#partenaires-erreur").inner_text()
    coord.get_by_label("Motif du retrait de SSR-NE").fill("L'aide sociale ne finance plus rien")
    coord.locator("#partenaire-SSR-NE").get_by_role("button", name="Retirer SSR-NE").click()
    coord.wait_for_load_state()
    assert "ne prend plus part" in coord.get_by_role("status").inner_text()
    assert [r[0].split(" — ")[0] for r in rows(coord)] == ["OAI-NE", "ORP-NE"]
    assert "ne prend plus part : SSR-NE" in coord.locator(".timeline").inner_text()
    shoot(coord, "partners-2-coordination-removed-ssr")

    answer = ssr.goto(f"/dossiers/{case_id}")
    assert answer is not None and answer.status == 404
    ssr.goto("/dossiers")
    assert f"/dossiers/{case_id}" not in ssr.content()  # nor in its inbox

    add = coord.locator("form.partner-add")
    add.get_by_label("Institution").select_option("SSR-NE")
    add.get_by_label("Motif").fill("Reprise de l'aide sociale")
    coord.get_by_role("button", name="Ajouter au dossier").click()
    coord.wait_for_load_state()
    assert [r[0].split(" — ")[0] for r in rows(coord)] == ["OAI-NE", "SSR-NE", "ORP-NE"]
    assert "Partenaire ajouté" in coord.locator("#partenaire-SSR-NE").inner_text()
    shoot(coord, "partners-3-coordination-added-ssr-back")
    assert ssr.goto(f"/dossiers/{case_id}").status == 200  # type: ignore[union-attr]


def test_partner_forms_need_the_session_token_and_the_coordination(site: Site) -> None:
    s = site.services
    case_id = planned(s)
    orp = signed_in_client(site.base, site.person(M_ROBERT.user, "ORP-NE"))
    with closing(orp):
        for path, data in ((f"/dossiers/{case_id}/partenaires/SSR-NE/retirer", {"motif": "x"}),
                           (f"/dossiers/{case_id}/partenaires", {"institution": "SSR-LCF",
                                                                 "motif": "x"})):
            assert orp.post(path, data=data).status_code == 403
            token = csrf_of(orp.get(f"/dossiers/{case_id}").text)
            refused = orp.post(path, data={**data, "csrf": token})
            assert refused.status_code == 403 and "coordination" in refused.text
    assert "SSR-NE" in s.get(case_id).partners and "SSR-LCF" not in s.get(case_id).partners
