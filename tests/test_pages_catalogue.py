"""The catalogue of measures as a page: programmes, and a day's places held, free, waiting."""

from __future__ import annotations

import html
from contextlib import closing
from datetime import UTC, datetime

from relais.institutions.dates import swiss_date
from tests.browser import Site, shoot, signed_in_client


def test_a_case_manager_sees_the_places_of_a_day_by_type_and_programme(site: Site) -> None:
    site.person("m.robert", "ORP-NE")
    page = site.signed_in("m.robert")
    page.get_by_role("link", name="Mesures").click()  # type: ignore[attr-defined]
    page.get_by_label("Places au").fill("2011-12-31")  # type: ignore[attr-defined]
    page.get_by_label("Places au").press("Enter")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    body = page.locator("main").inner_text()  # type: ignore[attr-defined]
    assert "Places par type au 31.12.2011" in body
    rows = {r.locator("th").inner_text(): r.locator("td").all_inner_texts()
            for r in page.locator("table").first.locator("tbody tr").all()}  # type: ignore[attr-defined]
    # Neuchâtel's PET places at the end of 2011 (the seed): 142 + 14 + 48 = 204, none held
    assert rows == {"Occupation": ["142", "0", "142", "0", "0"],
                    "Socio-professionnel": ["14", "0", "14", "0", "0"],
                    "Professionnel": ["48", "0", "48", "0", "0"]}
    shoot(page, "catalogue")


def test_a_day_without_places_says_so_and_a_bad_date_is_shown_next_to_its_field(
        site: Site) -> None:
    site.person("m.robert", "ORP-NE")
    with closing(signed_in_client(site.base, "m.robert")) as client:
        empty = client.get("/mesures", params={"au": "2030-06-01"})
        assert empty.status_code == 200
        assert "Aucune place n'est ouverte ce jour-là" in html.unescape(empty.text)
        bad = client.get("/mesures", params={"au": "31.02.2011"})
        assert bad.status_code == 422
        assert 'aria-describedby="au-error"' in bad.text and 'id="au-error"' in bad.text
        today = client.get("/mesures").text
        assert swiss_date(datetime.now(UTC)) in today  # Neuchâtel's day, not the machine's


def test_the_steering_group_does_not_get_the_exact_catalogue(site: Site) -> None:
    site.person("g.pilotage", "CII-NE", "steering")
    with closing(signed_in_client(site.base, "g.pilotage")) as client:
        assert client.get("/mesures", headers={"accept": "text/html"}).status_code == 403
