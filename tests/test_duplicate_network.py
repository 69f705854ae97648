"""A person with an open case on another route of the network: the referral answers 409
``duplicate_case`` too, saying only what the caller may know of that case (its number and
route to an institution taking part; its lead where the access policy would show the
caller the person's identity; otherwise only that one exists), with the way forward."""

from __future__ import annotations

import contextlib
from html import unescape

import pytest

from relais.cases.domain.errors import DuplicateCase
from relais.cases.services import CaseServices
from tests.api_server import People, running
from tests.browser import Site, csrf_of, signed_in_client
from tests.conftest import ORP, PERSON, SSR, refer

ESO = {"route": "ne-eso", "person": PERSON, "fields": {"aide_sociale": True}}


def test_the_lead_of_the_other_case_is_told_its_number_and_route(
        services: CaseServices) -> None:
    first = refer(services, route="reseau-cii", person=PERSON, actor=ORP, fields={"age": 48})
    with pytest.raises(DuplicateCase) as refused:
        refer(services, route="cmfp", person=PERSON, actor=ORP, fields={"age": 48},
              confirm_duplicate=False)
    assert refused.value.details == {"case": first.case.id, "lead": "ORP-NE",
                                     "route": "reseau-cii"}
    assert "dans le réseau" in refused.value.message and "transfert" in refused.value.message
    assert "Réseau" in refused.value.message or "CII" in refused.value.message
    with services.units(write=False) as uow:  # nothing opened by the refusal
        assert [c.id for c in uow.cases.page(None, 10)] == [first.case.id]


def test_another_institution_with_a_basis_learns_only_the_lead(
        services: CaseServices) -> None:
    first = refer(services, route="reseau-cii", person=PERSON, actor=ORP, fields={"age": 48})
    with pytest.raises(DuplicateCase) as refused:  # LACI art. 85f: the AC may tell the SA
        refer(services, actor=SSR, confirm_duplicate=False, consent=None, **ESO)
    assert refused.value.details == {"lead": "ORP-NE"}
    message = refused.value.message
    assert "ORP-NE" in message and first.case.id[:8] not in message
    assert "reseau-cii" not in message and "Réseau" not in message  # not even which route
    assert "faire participer" in message and "transfert" in message


def test_without_a_basis_only_that_a_case_exists(services: CaseServices) -> None:
    # the social services lead, without the person's consent: no statute lets them tell the
    # unemployment office of the person (social assistance is not named by LACI's article)
    first = refer(services, actor=SSR, consent=None, **ESO)
    with pytest.raises(DuplicateCase) as refused:
        refer(services, route="reseau-cii", person=PERSON, actor=ORP, fields={"age": 48},
              confirm_duplicate=False)
    assert refused.value.details == {}
    message = refused.value.message
    assert "SSR" not in message and first.case.id[:8] not in message
    assert "NE-ESO" not in message and "coordination (CII-NE)" in message
    opened = refer(services, route="reseau-cii", person=PERSON, actor=ORP, fields={"age": 48},
                   confirm_duplicate=True)
    assert opened.case.route_id == "reseau-cii"


def test_the_409_body_over_the_api(services: CaseServices) -> None:
    first = refer(services, route="reseau-cii", person=PERSON, actor=ORP, fields={"age": 48})
    with running(services) as base:
        people = People(services, base)
        own = people["ORP-NE"].post("/api/cases", json={
            "route": "cmfp", "person": PERSON, "fields": {"age": 48}})
        assert own.status_code == 409, own.text
        assert own.json()["error"] == "duplicate_case"
        assert own.json()["case"] == first.case.id and own.json()["route"] == "reseau-cii"
        other = people["SSR-NE"].post("/api/cases", json=ESO)
        assert other.status_code == 409, other.text
        assert other.json()["lead"] == "ORP-NE" and "case" not in other.json()
        assert first.case.id not in other.text and "route" not in other.json()
        confirmed = people["SSR-NE"].post("/api/cases", json={**ESO, "confirm_duplicate": True})
        assert confirmed.status_code == 201, confirmed.text
        people.close()


def test_the_referral_page_says_it_with_the_way_forward(site: Site) -> None:
    refer(site.services, route="reseau-cii", person=PERSON, actor=ORP, fields={"age": 48})
    site.person("s.favre", "SSR-NE")
    data = {"route": "ne-eso", **PERSON, "champ.aide_sociale": "oui", "motif": "emploi"}
    with contextlib.closing(signed_in_client(site.base, "s.favre")) as client:
        answer = client.post("/dossiers/nouveau", data={
            "csrf": csrf_of(client.get("/dossiers/nouveau").text), **data})
        assert answer.status_code == 409, answer.text
        text = unescape(answer.text)
        assert "déjà un dossier ouvert dans le réseau, dont ORP-NE est responsable" in text
        assert "Ouvrir quand même un second dossier" in text
        again = client.post("/dossiers/nouveau", data={
            "csrf": csrf_of(answer.text), **data, "doublon_confirme": "oui"})
        assert again.status_code == 303, again.text
