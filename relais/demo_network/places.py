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

from cases.catalogue_services import MeasureServices
from cases.store.catalogue import LoadReport
from conventions.catalogue import Period, Places, Programme
from conventions.catalogue_file import parse_catalogue

from ..wiring import standard_programmes_text

SHARE = 5  # the network's part of the programmes' places: one in five
MIN_PLACES = 2


def capacity(programme: Programme) -> int:
    """A demonstration year's places: a fifth of the seed's last period, at least 2."""
    last = max(programme.places, key=lambda pl: pl.period.start)
    return max(MIN_PLACES, round(last.capacity / SHARE))


def with_years(programme: Programme, years: range) -> Programme:
    """The programme with a period for each of ``years`` the seed does not cover already."""
    extra = tuple(Places(programme.code, Period(date(y, 1, 1), date(y, 12, 31)),
                         capacity(programme)) for y in years
                  if not any(pl.period.overlaps(Period(date(y, 1, 1), date(y, 12, 31)))
                             for pl in programme.places))
    return replace(programme, places=programme.places + extra)


def demo_programmes(measures: MeasureServices, years: range) -> list[Programme]:
    programmes, problems = parse_catalogue(standard_programmes_text(),
                                           measures.route_fields(), measures.s.registry)
    if programmes is None:
        raise ValueError("; ".join(p.render("programmes-ne.yaml") for p in problems))
    return [with_years(p, years) for p in programmes]


def load_places(measures: MeasureServices, years: range) -> LoadReport:
    """The seed's programmes (if missing) and the demonstration's years of places; an
    operator's programmes and periods are left as they are (``only_new``)."""
    return measures.load(demo_programmes(measures, years), only_new=True)
