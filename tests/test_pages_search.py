"""The inbox's search box in chromium: a case manager finds "Djordjevic", a person by AVS
number typed with or without dots, and tells two "Rochat Daniel" apart; a case of an
institution that does not take part is not found."""

from __future__ import annotations

from typing import Any

from relais.cases.domain.actors import Actor
from relais.cases.domain.avs import ean13_check_digit, format_avs
from relais.institutions.registry import Kind, Role
from tests.browser import Site, shoot
from tests.conftest import NETWORK_CONSENT, refer

M_ROBERT = Actor("m.robert", "ORP-NE", Kind.AC, Role.case_manager)
P_GIRARD = Actor("p.girard", "OAI-NE", Kind.AI, Role.case_manager)
FIELDS = {"age": 48, "incapacite_travail_pct": 87, "signal": "certificats_medicaux"}


def _avs(n: int) -> str:
    first = f"756{n:09d}"
    return format_avs(first + str(ean13_check_digit(first)))


def _person(avs: str, name: str, first: str, born: str) -> dict[str, str]:
    return {"avs": avs, "official_name": name, "first_name": first, "birth_date": born}


def _names(page: Any) -> list[str]:
    return sorted(page.locator("table.inbox tbody th a").all_inner_texts())


def _search(page: Any, text: str) -> None:
    page.get_by_label("Rechercher").fill(text)
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_load_state()


def test_a_case_manager_finds_a_person_from_the_inbox(site: Site) -> None:
    s = site.services
    for who in (M_ROBERT, P_GIRARD):
        site.person(who.user, who.institution, who.role)
    for avs, name, first, born, by in (
            ("756.1234.5678.97", "Đorđević-Šimić", "Milica", "1985-02-03", M_ROBERT),
            (_avs(111), "Rochat", "Daniel", "1970-07-08", M_ROBERT),
            (_avs(222), "Rochat", "Daniel", "1982-11-30", M_ROBERT),
            (_avs(333), "Muster", "Jean", "1978-05-01", M_ROBERT),
            (_avs(444), "Rochat", "Danielle", "1961-01-01", P_GIRARD)):  # the OAI's alone
        refer(s, route="reseau-cii", person=_person(avs, name, first, born), actor=by,
              fields=FIELDS, reason="signalement", consent=NETWORK_CONSENT)
    orp: Any = site.signed_in("m.robert")
    orp.goto("/dossiers")
    assert len(_names(orp)) == 4
    _search(orp, "Djordjevic")
    assert _names(orp) == ["Đorđević-Šimić Milica"]
    assert orp.get_by_label("Rechercher").input_value() == "Djordjevic"
    shoot(orp, "inbox-search-djordjevic")
    for typed in ("7561234567897", "756.1234.5678.97"):
        _search(orp, typed)
        assert _names(orp) == ["Đorđević-Šimić Milica"], typed
    _search(orp, "rochat daniel")
    assert _names(orp) == ["Rochat Daniel", "Rochat Daniel"]  # not the OAI's Rochat
    told = orp.locator("table.inbox tbody th small").all_inner_texts()
    assert any("né·e le 08.07.1970" in t for t in told)
    assert any("né·e le 30.11.1982" in t for t in told)
    shoot(orp, "inbox-search-two-rochat")
    _search(orp, "Nguyen")
    assert _names(orp) == []
    assert "ne correspond à « Nguyen »" in orp.inner_text("main")
    _search(orp, "756.1234.5678.90")  # a wrong check digit: said, not a 500
    assert "chiffre de contrôle erroné" in orp.inner_text("main")
    assert orp.get_by_label("Rechercher").input_value() == "756.1234.5678.90"
