"""The pages in four languages: a case manager switches to Deutsch, then Italiano, and reads
the inbox and the case in each (headings, words, Swiss dates); the browser's own language
is followed until the person chooses; the switch offers the four everywhere."""

from __future__ import annotations

from contextlib import closing
from datetime import datetime
from typing import Any

import httpx

from relais.institutions.dates import ZURICH
from tests.browser import Site, shoot, signed_in_client
from tests.conftest import NETWORK_CONSENT, PERSON, refer
from tests.test_pages_case_manager import FIELDS, M_ROBERT

SWITCH = ["Français", "Deutsch", "Italiano", "English"]


def _open_one(site: Site) -> str:
    site.person(M_ROBERT.user, M_ROBERT.institution, M_ROBERT.role)
    return refer(site.services, route="reseau-cii", person=PERSON, actor=M_ROBERT,
                 fields=FIELDS, reason="certificats", consent=NETWORK_CONSENT).case.id


def test_a_case_manager_switches_the_pages_to_german_then_italian(site: Site) -> None:
    case_id = _open_one(site)
    today = datetime.now(ZURICH).strftime("%d.%m.%Y")
    orp: Any = site.signed_in("m.robert")
    switch = orp.locator(".langs")
    assert switch.locator("li").all_inner_texts() == SWITCH
    assert orp.get_by_role("heading", level=1).inner_text().startswith("Boîte de réception")

    switch.get_by_role("link", name="Deutsch").click()
    orp.wait_for_load_state()
    assert orp.url.endswith("/dossiers")  # the switch keeps the page
    assert orp.locator("html").get_attribute("lang") == "de"
    assert orp.get_by_role("heading", level=1).inner_text() == "Posteingang · ORP-NE"
    assert orp.get_by_role("link", name="Neue Anmeldung").is_visible()
    row = orp.locator("tbody tr").first.inner_text()
    assert f"eröffnet am {today}" in row
    assert "Arbeitstag" in row  # the time left, counted in German
    assert orp.locator(".langs [aria-current]").inner_text() == "Deutsch"
    shoot(orp, "case-manager-inbox-de")

    orp.goto(f"/dossiers/{case_id}")  # the choice holds on every page
    assert orp.get_by_role("heading", name="Was Sie tun können").is_visible()
    assert orp.get_by_text("Frist des Schritts").is_visible()
    # a long label (German's are) leaves its value room to read, never a letter a line
    narrowest = orp.locator("dl.facts dd, dl.pairs dd").evaluate_all(
        "ds => Math.min(...ds.map(d => d.getBoundingClientRect().width))")
    assert narrowest >= 120, narrowest
    shoot(orp, "case-page-de")

    orp.locator(".langs").get_by_role("link", name="Italiano").click()
    orp.wait_for_load_state()
    assert orp.url.endswith(f"/dossiers/{case_id}")
    assert orp.locator("html").get_attribute("lang") == "it"
    assert orp.get_by_role("heading", name="Azioni possibili").is_visible()
    assert orp.get_by_text("Termine della fase").is_visible()
    orp.get_by_role("link", name="Posta in arrivo").first.click()
    orp.wait_for_load_state()
    assert orp.get_by_role("heading", level=1).inner_text() == "Posta in arrivo · ORP-NE"
    assert f"aperto il {today}" in orp.locator("tbody tr").first.inner_text()
    shoot(orp, "case-manager-inbox-it")


def test_the_browsers_language_is_followed_until_the_person_chooses(site: Site) -> None:
    site.person(M_ROBERT.user, M_ROBERT.institution, M_ROBERT.role)

    def heading(client: httpx.Client, accept: str) -> str:
        html = client.get("/connexion", headers={"accept-language": accept}).text
        return html.split("<h1>", 1)[1].split("</h1>", 1)[0]

    with httpx.Client(base_url=site.base, timeout=30, headers={"accept": "text/html"}) as c:
        assert heading(c, "de-CH,de;q=0.9,en;q=0.5") == "Anmelden"
        assert heading(c, "it-CH") == "Accedere"
        assert heading(c, "es-ES,en;q=0.3") == "Sign in"
        assert heading(c, "es-ES") == "Connexion"  # none of the four: French
        c.get("/langue/it")
        assert heading(c, "de-CH") == "Accedere"  # the person's choice wins
    with closing(signed_in_client(site.base, "m.robert")) as c:
        assert "Boîte de réception" in c.get("/dossiers").text  # no header: French
