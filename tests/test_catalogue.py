"""The catalogue as plain rules and data: eligibility, dates and costs, occupancy, the file
format with its line-numbered problems, and Neuchâtel's seed (204 places at the end of 2011)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from relais.cases.catalogue_queries import occupancy_of
from relais.cases.catalogue_services import MeasureServices
from relais.cases.services import CaseServices
from relais.conventions.catalogue import (
    Assignment,
    Period,
    Places,
    Programme,
    ProgrammeType,
    Status,
    add_months,
    cost,
    eligibility,
    months_begun,
    occupancy,
    place_free,
    planned_end,
)
from relais.conventions.catalogue_file import parse_catalogue
from relais.wiring import load_standard_programmes, standard_programmes_text
from relais.workflows.engine.guards import FieldType
from relais.workflows.engine.validate import parse_route
from tests.catalogue_helpers import CATALOGUE

ROUTES = Path(__file__).resolve().parent.parent / "workflows" / "routes"
YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))


def route_fields() -> dict[str, dict[str, FieldType]]:
    out = {}
    for path in ROUTES.glob("*.yaml"):
        route, _ = parse_route(path.read_text("utf-8"))
        assert route is not None
        out[route.id] = route.field_types()
    return out


def programme(**kw: object) -> Programme:
    base: dict[str, object] = dict(
        code="p", title={"fr": "P"}, provider="Caritas Neuchâtel", type=ProgrammeType.occupation,
        payer="AC", unit_cost_chf=1000, duration_months=6, routes=("reseau-cii",),
        eligibility="age >= 18 and not demande_ai", places=(Places("p", YEAR, 3),))
    base.update(kw)
    return Programme(**base)  # type: ignore[arg-type]


# -- eligibility ------------------------------------------------------------------------------

def test_eligibility_is_the_guard_over_the_cases_fields() -> None:
    types = route_fields()["reseau-cii"]
    p = programme()
    assert eligibility(p, "reseau-cii", types, {"age": 30}).eligible
    assert not eligibility(p, "reseau-cii", types, {"age": 30, "demande_ai": True}).eligible
    refused = eligibility(p, "reseau-cii", types, {"age": 17})
    assert not refused.eligible and "age >= 18" in refused.reason
    assert not eligibility(p, "reseau-cii", types, {}).eligible, "an empty field compares false"
    assert eligibility(programme(eligibility=None), "reseau-cii", types, {}).eligible


def test_a_route_the_programme_does_not_list_is_not_eligible() -> None:
    verdict = eligibility(programme(), "cmfp", route_fields()["cmfp"], {"age": 20})
    assert not verdict.eligible and "cmfp" in verdict.reason


def test_a_guard_naming_a_field_the_route_version_lacks_makes_the_case_ineligible() -> None:
    p = programme(routes=("ne-eso",))
    verdict = eligibility(p, "ne-eso", route_fields()["ne-eso"], {"age": 40})
    assert not verdict.eligible and "age" in verdict.reason


# -- dates, money, places ---------------------------------------------------------------------

def test_months_begun_and_planned_ends() -> None:
    assert months_begun(date(2026, 3, 2), date(2026, 6, 1)) == 3
    assert months_begun(date(2026, 3, 2), date(2026, 3, 2)) == 1
    assert months_begun(date(2026, 1, 1), date(2026, 12, 31)) == 12
    assert months_begun(date(2026, 3, 2), date(2026, 3, 1)) == 0
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    p = programme()
    assert planned_end(p, date(2026, 3, 2), YEAR) == date(2026, 9, 1)
    assert planned_end(p, date(2026, 10, 1), YEAR) == date(2026, 12, 31), "cut at the period"


def test_a_cancelled_measure_costs_nothing_an_ended_one_until_it_ended() -> None:
    assert cost(1000, date(2026, 1, 1), date(2026, 6, 30), Status.cancelled, None) == 0
    assert cost(1000, date(2026, 1, 1), date(2026, 6, 30), Status.ended, date(2026, 2, 10)) == 2000
    assert cost(1000, date(2026, 1, 1), date(2026, 6, 30), Status.active, None) == 6000


def test_a_newcomer_never_passes_someone_waiting() -> None:
    assert place_free(capacity=3, held=2, waiting=0)
    assert not place_free(capacity=3, held=2, waiting=1)
    assert not place_free(capacity=3, held=3, waiting=0)


def test_occupancy_counts_held_places_and_cost_per_payer() -> None:
    def a(status: Status, payer: str) -> Assignment:
        return Assignment("x", "c", "p", YEAR, date(2026, 1, 1), date(2026, 3, 31), payer,
                          status, 1000)
    o = occupancy(Places("p", YEAR, 3), [a(Status.active, "AC"), a(Status.planned, "AI"),
                                         a(Status.ended, "AC"), a(Status.cancelled, "SA")], 4)
    assert (o.capacity, o.occupied, o.free, o.waiting, o.assignments) == (3, 2, 1, 4, 3)
    assert o.cost_by_payer == {"AC": 6000, "AI": 3000}


# -- the file ---------------------------------------------------------------------------------

def test_a_catalogue_file_reports_every_problem_with_its_line() -> None:
    text = CATALOGUE.replace("type: occupation", "type: occupational") \
        .replace("routes: [reseau-cii]", "routes: [reseau-cii, nulle-part]") \
        .replace("to: 2026-06-30", "to: 2026-07-15") \
        .replace("code: formation-horlogerie", "code: atelier-recyclage")
    programmes, problems = parse_catalogue(text, route_fields())
    assert programmes is None
    assert [(p.line, p.path, p.code) for p in problems] == [
        (5, "programmes[0].type", "bad_type"),
        (13, "programmes[0].places[1].from", "period_overlap"),
        (14, "programmes[1].code", "duplicate_code"),
        (21, "programmes[1].routes[1]", "unknown_route"),
    ]
    assert problems[1].render("c.yaml", "en") == (
        "c.yaml:13: programmes[0].places[1].from: the period overlaps the one at line 12")


def test_an_eligibility_guard_is_checked_against_each_route_it_names() -> None:
    text = CATALOGUE.replace('eligibility: "age >= 18"\n', 'eligibility: "demande_ai"\n')
    _, problems = parse_catalogue(text, route_fields())
    assert [(p.line, p.message("en")) for p in problems] == [
        (10, "for route 'cmfp': the guard names an unknown field 'demande_ai'; fields: age, "
             "problematiques_multiples, statut_sejour, suivi_deja_assure")]


def test_a_hostile_catalogue_is_refused_quietly() -> None:
    _, problems = parse_catalogue("a: &a [1]\nb: *a\n", route_fields())
    assert "alias" in {p.code for p in problems}
    _, problems = parse_catalogue("programmes: [{code: x, places: [{from: nope}]}]",
                                  route_fields())
    assert "bad_date" in {p.code for p in problems}


# -- the seed ---------------------------------------------------------------------------------

def places_on(programmes: list[Programme], day: date) -> Counter[str]:
    totals: Counter[str] = Counter()
    for p in programmes:
        found = p.period_of(day)
        if found is not None:
            totals[str(p.type)] += found.capacity
    return totals


def test_the_seed_has_neuchatels_204_places_at_the_end_of_2011() -> None:
    programmes, problems = parse_catalogue(standard_programmes_text(), route_fields())
    assert problems == [] and programmes is not None
    end_2011 = places_on(programmes, date(2011, 12, 31))
    assert end_2011 == {"occupation": 142, "socio_professionnel": 14, "professionnel": 48}
    assert sum(end_2011.values()) == 204
    end_2012 = places_on(programmes, date(2012, 12, 31))
    assert end_2012 == {"occupation": 91, "socio_professionnel": 22, "professionnel": 86}
    assert {p.payer for p in programmes} == {"AC"}


def test_the_seed_loads_once_and_never_overwrites_an_operators_change(
        services: CaseServices) -> None:
    assert len(load_standard_programmes(services)) == 11
    assert load_standard_programmes(services) == []
    figures = occupancy_of(services, start=date(2011, 12, 31), end=date(2011, 12, 31))
    assert sum(o.capacity for _, o in figures) == 204
    m = MeasureServices(services)
    changed = [p if p.code != "pet-sp-la-joliette" else
               replace(p, places=(Places(p.code, p.places[0].period, 20), *p.places[1:]))
               for p in m.programmes()]
    report = m.load(changed)
    assert (report.changed, report.places_changed) == ([], 1)
    load_standard_programmes(services)
    joliette = m.programme("pet-sp-la-joliette")
    assert joliette.places[0].capacity == 20


@pytest.mark.parametrize("day, total", [(date(2011, 6, 30), 204), (date(2012, 6, 30), 199),
                                        (date(2014, 1, 1), 0)])
def test_the_seed_by_year(day: date, total: int) -> None:
    programmes, _ = parse_catalogue(standard_programmes_text(), route_fields())
    assert programmes is not None
    assert sum(places_on(programmes, day).values()) == total
