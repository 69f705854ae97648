"""The demonstration's places: the shipped programmes (conventions/data/programmes-ne.yaml,
from the Neuchâtel review, left as it is) with a period for each calendar year the history
covers, loaded through the catalogue's own path (``MeasureServices.load``, adding only what
is missing: periods an operator already loaded are kept).

Invented, and said so in docs/demo.md: each year has a fifth of the programme's places of the
seed's last year (2012), at least 2. The review's places serve all the employment service's
job seekers; the demonstration lives only the CII network's cases, about a fifth of them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from relais.cases.catalogue_services import MeasureServices
from relais.cases.store.catalogue import LoadReport
from relais.conventions.catalogue import Period, Places, Programme
from relais.conventions.catalogue_file import parse_catalogue

from ..wiring import standard_programmes_text

SHARE = 5  # the network's part of the programmes' places: one in five
MIN_PLACES = 2


def capacity(programme: Programme) -> int:
    """A demonstration year's places: a fifth of the seed's last period, at least 2."""
    last = max(programme.places, key=lambda pl: pl.period.start)
    return max(MIN_PLACES, round(last.capacity / SHARE))


def year(y: int) -> Period:
    return Period(date(y, 1, 1), date(y, 12, 31))


def with_years(programme: Programme, years: list[int]) -> Programme:
    """The programme with a period of the demonstration's in each of ``years``."""
    extra = tuple(Places(programme.code, year(y), capacity(programme)) for y in years)
    return replace(programme, places=programme.places + extra)


def demo_programmes(measures: MeasureServices, years: range) -> list[Programme]:
    """The seed's programmes, with the demonstration's periods in those of ``years`` the
    seed has no place in (2011 and 2012 keep the review's figures, even for a programme the
    seed opens only in 2012)."""
    programmes, problems = parse_catalogue(standard_programmes_text(),
                                           measures.route_fields(), measures.s.registry)
    if programmes is None:
        raise ValueError("; ".join(p.render("programmes-ne.yaml") for p in problems))
    seeded = [pl.period for p in programmes for pl in p.places]
    free = [y for y in years if not any(year(y).overlaps(period) for period in seeded)]
    return [with_years(p, free) for p in programmes]


def load_places(measures: MeasureServices, years: range) -> LoadReport:
    """The seed's programmes (if missing) and the demonstration's years of places; an
    operator's programmes and periods are left as they are (``only_new``)."""
    return measures.load(demo_programmes(measures, years), only_new=True)
