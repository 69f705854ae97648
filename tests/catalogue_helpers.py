"""A small catalogue for tests, in the periods of the test clock (2026), and cases to place."""

from __future__ import annotations

from typing import Any

from relais.cases.catalogue_services import MeasureServices
from relais.cases.services import CaseServices
from relais.conventions.catalogue_file import parse_catalogue
from relais.demo import avs
from tests.conftest import ORP

CATALOGUE = """\
programmes:
  - code: atelier-recyclage
    title: {fr: "Atelier de recyclage", en: "Recycling workshop"}
    provider: Caritas Neuchâtel
    type: occupation
    payer: AC
    unit_cost_chf: 2000
    duration_months: 3
    routes: [reseau-cii, cmfp]
    eligibility: "age >= 18"
    places:
      - {from: 2026-01-01, to: 2026-06-30, capacity: 2}
      - {from: 2026-07-01, to: 2026-12-31, capacity: 1}
  - code: formation-horlogerie
    title: {fr: "Atelier d'horlogerie", en: "Watchmaking workshop"}
    provider: SEMP
    type: professionnel
    payer: AI
    unit_cost_chf: 3000
    duration_months: 6
    routes: [reseau-cii]
    eligibility: "age >= 18 and capacite_adaptee_pct >= 50"
    places:
      - {from: 2026-01-01, to: 2026-12-31, capacity: 5}
"""


def catalogue(services: CaseServices, text: str = CATALOGUE) -> MeasureServices:
    measures = MeasureServices(services)
    programmes, problems = parse_catalogue(text, measures.route_fields())
    assert programmes is not None, [p.render("test") for p in problems]
    measures.load(programmes)
    return measures


def open_case(services: CaseServices, n: int, **fields: Any) -> str:
    person = {"avs": avs(1000 + n), "official_name": f"Personne{n}", "first_name": "Test",
              "birth_date": "1980-01-01"}
    return services.open_case(route="reseau-cii", person=person, actor=ORP,
                              fields={"age": 40, **fields}).case.id
