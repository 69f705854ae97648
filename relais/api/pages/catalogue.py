"""The catalogue of measures for the people who plan with it: every programme, and the
places of the periods that cover a chosen day (capacity; held, free and waiting now, as a
place is held while its measure is planned or running; assignments over the period).

Case workers see exact counts, as ``GET /api/programmes/{code}/places`` gives them; the
steering group's version, through the small-count rule, is on its dashboard."""

from __future__ import annotations

from collections import Counter
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from relais.cases.catalogue_queries import occupancy_of
from relais.cases.services import CaseServices
from relais.conventions.catalogue import Occupancy, Programme, ProgrammeType
from relais.institutions.dates import local_day

from .people import CaseWorkerPerson
from .render import page

router = APIRouter(include_in_schema=False)

TYPES = {ProgrammeType.occupation: ("Occupation", "Occupation"),
         ProgrammeType.socio_professionnel: ("Socio-professionnel", "Socio-professional"),
         ProgrammeType.professionnel: ("Professionnel", "Professional")}


def _day(text: str | None, today: date) -> tuple[date, str | None]:
    """The day asked for, or today with the reason the text was not taken."""
    if not text:
        return today, None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return today, "date"
    return (day, None) if 1900 <= day.year <= 2200 else (today, "date")


@router.get("/mesures")
def catalogue(request: Request, person: CaseWorkerPerson) -> Response:
    s: CaseServices = request.app.state.services
    day, problem = _day(request.query_params.get("au"), local_day(s.clock()))  # Neuchâtel's day
    at_day: dict[str, Occupancy] = {p.code: o for p, o in
                                    occupancy_of(s, start=day, end=day)}
    programmes: list[Programme] = request.app.state.measures.programmes()
    totals: dict[ProgrammeType, Counter[str]] = {t: Counter() for t in ProgrammeType}
    for p in programmes:
        o = at_day.get(p.code)
        if o is not None:
            totals[p.type].update(capacity=o.capacity, occupied=o.occupied, free=o.free,
                                  waiting=o.waiting, assignments=o.assignments)
    return page(request, "catalogue.html.j2", person, status=422 if problem else 200,
                day=day, problem=problem, programmes=programmes, at_day=at_day,
                totals=[(TYPES[t], c) for t, c in totals.items() if c["capacity"]],
                types=TYPES)
