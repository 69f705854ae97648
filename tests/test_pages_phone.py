"""At a phone's width (360 x 740), the main page of each kind of user holds in the screen:
the case managers of the three institutions (inbox as cards, case page, referral form) and
the coordination (its inbox and its escalations page). The page never scrolls sideways, and
each deadline, with its time left, lies within the screen's width."""

from __future__ import annotations

from typing import Any

from relais.cases.domain.decide import EventInput
from relais.cases.services import CaseServices
from relais.demo import SMIG
from tests.browser import PHONE, Site, shoot
from tests.conftest import OAI, ORP, PERSON, SSR, refer

# each element's box that lies outside the screen's width, skipping what sits inside a box
# that scrolls sideways on purpose (the route drawing, a wide table of figures) and what only
# screen readers read
OUTSIDE = """() => {
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest(".diagram, .yaml-view") || el.closest(".table-wrap:not(:has(table.inbox))")
        || el.closest(".skip, .sr-only, .visually-hidden, table.inbox thead"))
      continue;  // scrolls on purpose, or is for screen readers and keyboards only
    const r = el.getBoundingClientRect();
    if (r.width && (r.right > innerWidth + 0.5 || r.left < -0.5))
      out.push(el.tagName + "." + el.className + " " + Math.round(r.right));
  }
  return out;
}"""


def _cases(s: CaseServices) -> dict[str, str]:
    made = {}
    for who, route, avs, name, fields in [
            (ORP, "reseau-cii", PERSON["avs"], "Đorđević-Šimić", {"incapacite_travail_pct": 60}),
            (OAI, "cmfp", "756.9217.0769.85", "Nguyễn", {"problematiques_multiples": True}),
            (SSR, "ne-eso", "756.3047.5009.62", "Yıldız", {"aide_sociale": True})]:
        out = refer(s, route=route, actor=who, fields=fields,
                    person={**PERSON, "avs": avs, "official_name": name})
        made[who.institution] = out.case.id
    return made


def _holds(page: Any, where: str) -> None:
    width, outside = page.evaluate("document.documentElement.scrollWidth"), page.evaluate(
        OUTSIDE)
    assert width <= PHONE["width"], f"{where}: the page is {width} px wide: {outside[:5]}"
    assert outside == [], f"{where}: boxes outside the screen"


def _deadlines_in_view(page: Any, selector: str, where: str) -> None:
    cells = page.locator(selector)
    assert cells.count() > 0, f"{where}: no deadline shown"
    for i in range(cells.count()):
        cell = cells.nth(i)
        assert cell.is_visible(), f"{where}: a deadline is hidden"
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (where, box)
        assert "jour" in cell.inner_text() or "mois" in cell.inner_text()  # the time left


def test_the_case_managers_pages_hold_at_phone_width(site: Site) -> None:
    made = _cases(site.services)
    for user, institution in [("m.robert", "ORP-NE"), ("p.girard", "OAI-NE"),
                              ("s.favre", "SSR-NE")]:
        site.person(user, institution)
        page: Any = site.signed_in(user, viewport=PHONE)
        page.goto("/dossiers")
        _holds(page, f"inbox of {institution}")
        _deadlines_in_view(page, "table.inbox td.deadline", f"inbox of {institution}")
        # a card: the row's fields one under the other, each with its label
        card = page.locator("table.inbox tbody tr").first
        assert "Étape :" in card.inner_text() and "Délai :" in card.inner_text()
        assert page.locator("#f-cherche").bounding_box()["width"] <= PHONE["width"]
        shoot(page, f"phone-inbox-{institution}")
        page.goto(f"/dossiers/{made[institution]}")
        _holds(page, f"case page of {institution}")
        _deadlines_in_view(page, "section[aria-labelledby=h-delais] li", "case page")
        drawing = page.locator(".diagram svg")
        # the drawing keeps a legible size (its own), its box scrolls sideways
        assert drawing.bounding_box()["width"] >= 360 or page.locator(".diagram").evaluate(
            "e => e.scrollWidth <= e.clientWidth")
        font = drawing.evaluate("s => s.getBoundingClientRect().width / s.viewBox.baseVal.width")
        assert font >= 0.99, "the route drawing is shrunk below its drawn size"
        # its scrolling box is reached and scrolled with the keyboard
        box = page.locator(".diagram[role=region]")
        box.focus()
        assert box.evaluate("e => e === document.activeElement")
        if box.evaluate("e => e.scrollWidth > e.clientWidth"):
            page.keyboard.press("ArrowRight")
            page.wait_for_function("() => document.querySelector('.diagram').scrollLeft > 0")
        shoot(page, f"phone-case-{institution}")
        page.goto("/dossiers/nouveau?route=" + {"ORP-NE": "reseau-cii", "OAI-NE": "cmfp",
                                                  "SSR-NE": "ne-eso"}[institution])
        _holds(page, f"referral of {institution}")
        shoot(page, f"phone-referral-{institution}")
        page.context.close()


def test_the_coordinations_pages_hold_at_phone_width(site: Site) -> None:
    _cases(site.services)
    site.person("c.perrin", "CII-NE", "coordinator")
    page: Any = site.signed_in("c.perrin", viewport=PHONE)
    page.goto("/dossiers")
    _holds(page, "the coordination's inbox")
    _deadlines_in_view(page, "table.inbox td.deadline", "the coordination's inbox")
    shoot(page, "phone-coordination-inbox")
    page.goto("/coordination")
    _holds(page, "the coordination's escalations")
    shoot(page, "phone-coordination")
    page.context.close()


def test_a_handoff_to_accept_holds_at_phone_width(site: Site) -> None:
    """The receiver's inbox: the handoff's card with its answer deadline and its buttons."""
    s = site.services
    out = s.open_case(route="cmfp", actor=SMIG, fields={"statut_sejour": "refugie"},
                      person={**PERSON, "official_name": "Tesfaye"})
    s.fire(out.case.id, "transmettre", actor=SMIG, data=EventInput())
    assert s.get(out.case.id).handoff is not None
    site.person("s.jacot", "OFIJ-NE")
    page: Any = site.signed_in("s.jacot", viewport=PHONE)
    page.goto("/dossiers")
    _holds(page, "the receiver's inbox")
    section = "section[aria-labelledby=h-transferts] table.inbox"
    _deadlines_in_view(page, f"{section} td.deadline", "the handoff")
    answers = page.locator(f"{section} td.actions .button, {section} td.actions button")
    assert answers.count() == 2  # accept, refuse
    for i in range(2):
        box = answers.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    shoot(page, "phone-inbox-handoff")
