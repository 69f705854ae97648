"""The referral form says everything wrong at once, each error under its field, in words
(the field's label, "obligatoire" for an empty required field), the values kept."""

from __future__ import annotations

import re
from contextlib import closing
from html import unescape

from tests.browser import Site, csrf_of, signed_in_client


def _error(html: str, field_id: str) -> str:
    found = re.search(rf'id="{re.escape(field_id)}-error"[^>]*>([^<]*)<', html)
    return unescape(found.group(1)).strip() if found else ""


def test_every_error_of_the_referral_is_shown_at_once_in_words(site: Site) -> None:
    site.person("m.robert", "ORP-NE")
    with closing(signed_in_client(site.base, "m.robert")) as c:
        form = c.get("/dossiers/nouveau", params={"route": "reseau-cii"}).text
        answer = c.post("/dossiers/nouveau", data={
            "csrf": csrf_of(form), "route": "reseau-cii", "avs": "756.1234.5678.90",
            "official_name": "", "first_name": "Daniel", "birth_date": "",
            "email": "pas-une-adresse", "phone": "12",
            "champ.incapacite_travail_pct": "130"})
    assert answer.status_code == 422
    html = answer.text
    assert "chiffre de contrôle" in _error(html, "p-avs").lower()
    assert _error(html, "p-official_name").startswith("obligatoire")
    assert _error(html, "p-birth_date").startswith("obligatoire")  # not "date ISO attendue"
    assert _error(html, "p-email").startswith("adresse e-mail invalide")
    assert _error(html, "p-phone").startswith("numéro de téléphone invalide")
    pct = _error(html, "f-incapacite_travail_pct")
    assert "Incapacité de travail" in pct and "incapacite_travail_pct" not in pct  # its label
    assert 'value="Daniel"' in html  # what was typed is kept


def test_the_route_is_chosen_first_and_its_fields_come_without_a_reload(site: Site) -> None:
    """No route is chosen for the person; choosing one shows its fields in place, what was
    typed about the person kept; without JavaScript the button still does it."""
    from typing import Any

    from tests.browser import shoot
    site.person("m.robert", "ORP-NE")
    page: Any = site.signed_in("m.robert")
    page.goto("/dossiers/nouveau")
    assert page.locator("form.referral").count() == 0  # the route first
    assert page.get_by_label("Route").input_value() == ""
    page.evaluate("window.__same_document = true")
    page.get_by_label("Route").select_option("reseau-cii")
    page.locator("form.referral").wait_for()
    assert page.get_by_label("Incapacité de travail (%)").is_visible()
    page.get_by_label("Nom officiel").fill("Nguyễn")
    page.get_by_label("Route").select_option("cmfp")
    page.locator("form.referral input[name=route][value=cmfp]").wait_for(state="attached")
    assert page.get_by_label("Nom officiel").input_value() == "Nguyễn"  # kept
    assert page.evaluate("window.__same_document") is True  # no reload happened
    assert "route=cmfp" in page.url  # the address says which route, for the back button
    shoot(page, "referral-route-first")
