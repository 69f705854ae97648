"""What the reports read through the services: the steering figures of a period, the titles
of the published routes, the occupancy of the same days. The one module here that reads the
database (blocking: call it from a worker thread); everything else in the package is pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from relais.cases import steering
from relais.cases.catalogue_queries import steering_occupancy
from relais.cases.services import CaseServices

from .labels import Lang, Titles, titles_from
from .model import Table
from .occupancy import occupancy_tables
from .period import Period
from .report import Report, build_report
from .tables import steering_tables


def route_titles(s: CaseServices) -> Titles:
    """Titles of every published route (latest versions win) and of the institutions."""
    return titles_from(s.routes_published(), s.registry)


@dataclass(frozen=True)
class SteeringData:
    indicators: dict[str, Any]
    occupancy: dict[str, Any]
    titles: Titles

    @property
    def period(self) -> Period:
        return Period.of(self.indicators)

    @property
    def flows(self) -> list[dict[str, Any]]:
        """The same list as ``cases.steering.flows`` for the scope: the indicators carry it."""
        return list(self.indicators["transfers_between_kinds"])

    def tables(self, lang: Lang) -> list[Table]:
        return [*steering_tables(self.indicators, self.titles, lang),
                *occupancy_tables(self.occupancy, lang)]

    def report(self, lang: Lang, generated_at: datetime) -> Report:
        return build_report(self.indicators, self.flows, self.titles, lang=lang,
                            generated_at=generated_at, occupancy=self.occupancy)

    def route_title(self, lang: Lang) -> str:
        return self.titles.route(self.indicators.get("route"), lang)


def gather(s: CaseServices, *, start: datetime, end: datetime,
           route: str | None = None) -> SteeringData:
    """The figures of ``[start, end)`` on ``route`` (or all), and the occupancy of the
    programmes over the same days (programmes are not tied to one route)."""
    with steering.snapshot(s) as uow:  # one unit: the figures, places and titles agree
        figures = steering.indicators(s, start=start, end=end, route=route, within=uow)
        period = Period.of(figures)
        occupancy = steering_occupancy(s, start=period.first, end=period.last, within=uow)
        book = s.routes.on(uow)
        routes = [book.get(rid, v) for rid, versions in book.versions().items()
                  for v in versions]
    return SteeringData(figures, occupancy, titles_from(routes, s.registry))
