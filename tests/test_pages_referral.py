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
            "email": "pas-une-adresse", "phone": "12", "champ.age": "130"})
    assert answer.status_code == 422
    html = answer.text
    assert "chiffre de contrôle" in _error(html, "p-avs").lower()
    assert _error(html, "p-official_name").startswith("obligatoire")
    assert _error(html, "p-birth_date").startswith("obligatoire")  # not "date ISO attendue"
    assert _error(html, "p-email").startswith("adresse e-mail invalide")
    assert _error(html, "p-phone").startswith("numéro de téléphone invalide")
    age = _error(html, "f-age")
    assert "Âge" in age and "« age »" not in age  # the field's label, not its code
    assert 'value="Daniel"' in html  # what was typed is kept
