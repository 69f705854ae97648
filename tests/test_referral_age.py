"""The referral does not ask the age beside the birth date: where the route reads an
``age``, it is computed from the birth date on the referral's day in Neuchâtel; an age
given explicitly (the API) is kept. The route's "Afficher les champs" button goes once the
fields came in place."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from typing import Any

from relais.cases.domain.age import age_on
from relais.cases.services import CaseServices
from relais.demo import Clock
from tests.api_server import People, running
from tests.browser import Site, csrf_of, shoot, signed_in_client
from tests.conftest import ORP, PERSON, SSR, refer


def test_whole_years_on_the_day() -> None:
    born = date(1978, 5, 2)
    assert age_on(born, date(2026, 5, 1)) == 47
    assert age_on(born, date(2026, 5, 2)) == 48  # the birthday itself
    leap = date(2008, 2, 29)
    assert age_on(leap, date(2026, 2, 28)) == 17 and age_on(leap, date(2026, 3, 1)) == 18


def test_the_age_is_computed_on_the_neuchatel_day(services: CaseServices, clock: Clock) -> None:
    clock.now = datetime(2026, 5, 1, 22, 30, tzinfo=UTC)  # 00:30 on 2 May in Neuchâtel
    person = {**PERSON, "birth_date": "1978-05-02"}
    out = refer(services, route="reseau-cii", person=person, actor=ORP)
    assert out.case.fields["age"] == 48  # UTC's day (1 May) would say 47
    kept = refer(services, route="cmfp", person={**person, "avs": "756.9217.0769.85",
                                                 "official_name": "Autre"},
                 actor=ORP, fields={"age": 30})
    assert kept.case.fields["age"] == 30  # given: kept as given
    eso = refer(services, route="ne-eso", person={**person, "avs": "756.3047.5009.62",
                                                  "official_name": "Tiers"}, actor=SSR,
                fields={"aide_sociale": True}, consent=None)
    assert "age" not in eso.case.fields  # a route that reads no age gets none


def test_the_api_computes_it_and_keeps_an_explicit_one(services: CaseServices) -> None:
    with running(services) as base:
        people = People(services, base)
        made = people["ORP-NE"].post("/api/cases", json={
            "route": "reseau-cii", "person": PERSON, "consent": {"grantor": "Jean Muster"}})
        assert made.status_code == 201, made.text
        assert made.json()["fields"]["age"] == 47  # born 1 May 1978, on 2 March 2026
        given = people["SSR-NE"].post("/api/cases", json={
            "route": "cmfp", "person": {**PERSON, "avs": "756.9217.0769.85",
                                        "official_name": "Autre"}, "fields": {"age": 21}})
        assert given.status_code == 201, given.text
        assert given.json()["fields"]["age"] == 21
        people.close()


def test_the_form_asks_no_age_and_the_case_has_it(site: Site) -> None:
    site.person("m.robert", "ORP-NE")
    with contextlib.closing(signed_in_client(site.base, "m.robert")) as client:
        form = client.get("/dossiers/nouveau", params={"route": "reseau-cii"}).text
        assert 'name="champ.age"' not in form and 'name="birth_date"' in form
        answer = client.post("/dossiers/nouveau", data={
            "csrf": csrf_of(form), "route": "reseau-cii", **PERSON,
            "consentement_reseau": "oui", "motif": "dos"})
        assert answer.status_code == 303, answer.text
    case_id = answer.headers["location"].split("/")[2].split("?")[0]
    born = date.fromisoformat(PERSON["birth_date"])
    assert site.services.get(case_id).fields["age"] == age_on(born, site.services.today())


def test_the_show_fields_button_is_gone_after_the_swap(site: Site) -> None:
    site.person("m.robert", "ORP-NE")
    page: Any = site.signed_in("m.robert")
    page.goto("/dossiers/nouveau")
    button = page.get_by_role("button", name="Afficher les champs de cette route")
    assert button.is_visible()  # without JavaScript's swap, the way to the fields
    page.get_by_label("Route").select_option("reseau-cii")
    page.locator("form.referral").wait_for()
    page.wait_for_function("document.querySelector('.route-choice button').hidden")
    assert not button.is_visible()
    assert page.get_by_label("Âge").count() == 0
    assert page.get_by_label("Date de naissance").is_visible()
    shoot(page, "referral-no-age")
