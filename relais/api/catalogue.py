"""The catalogue of measures: programmes and their places, a case's measures, occupancy."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from relais.cases.access import SITUATION
from relais.cases.catalogue_queries import occupancy_of, steering_occupancy
from relais.cases.catalogue_services import MeasureServices, Plan
from relais.conventions.catalogue import Assignment, Period, Programme, WaitingEntry

from .deps import CallerDep, CaseWorker, PolicyDep, QueriesDep, Steering
from .errors import ApiError
from .schemas import (
    MeasureEndIn,
    MeasureIn,
    MeasureOut,
    MeasureStartIn,
    OccupancyOut,
    PeriodOut,
    PlacesOut,
    PlanOut,
    ProgrammeOut,
)

router = APIRouter(prefix="/api", tags=["measures"])
CaseId = Annotated[str, Path(max_length=64)]
MeasureId = Annotated[str, Path(max_length=64)]
ProgrammeCode = Annotated[str, Path(max_length=40)]
From = Annotated[date | None, Query(alias="from")]
To = Annotated[date | None, Query(alias="to")]
YEARS = (1900, 2200)


async def measures(request: Request) -> MeasureServices:
    return request.app.state.measures  # type: ignore[no-any-return]


MeasuresDep = Annotated[MeasureServices, Depends(measures)]


def _window(start: date | None, end: date | None) -> tuple[date | None, date | None]:
    for day in (start, end):
        if day is not None and not YEARS[0] <= day.year <= YEARS[1]:
            raise ApiError(422, "invalid_input", "dates entre 1900 et 2200 / dates between "
                           "1900 and 2200")
    if start is not None and end is not None and start > end:
        raise ApiError(422, "invalid_input", "« from » doit précéder « to » / 'from' must "
                       "come before 'to'")
    return start, end


def _period(p: Period) -> PeriodOut:
    return PeriodOut(from_=p.start, to=p.end)


def _programme(p: Programme) -> ProgrammeOut:
    return ProgrammeOut(code=p.code, title=dict(p.title), provider=p.provider, type=str(p.type),
                        payer=p.payer, unit_cost_chf=p.unit_cost_chf,
                        duration_months=p.duration_months, routes=list(p.routes),
                        eligibility=p.eligibility,
                        places=[PlacesOut(period=_period(pl.period), capacity=pl.capacity)
                                for pl in p.places])


def _measure(item: Assignment | WaitingEntry, programmes: dict[str, Programme]) -> MeasureOut:
    p = programmes[item.programme]
    common: dict[str, Any] = {
        "id": item.id, "case": item.case_id, "programme": p.code, "title": dict(p.title),
        "type": str(p.type), "provider": p.provider, "period": _period(item.period),
        "payer": item.payer}
    if isinstance(item, WaitingEntry):
        return MeasureOut(**common, status="waiting", offered=False, position=item.position,
                          start=item.wanted_start, end=None, ended_on=None,
                          unit_cost_chf=p.unit_cost_chf, cost_chf=0)
    return MeasureOut(**common, status=str(item.status), offered=item.offered, position=None,
                      start=item.start, end=item.end, ended_on=item.ended_on,
                      unit_cost_chf=item.unit_cost_chf, cost_chf=item.cost_chf)


def _plan(m: MeasureServices, case_id: str) -> tuple[Plan, list[MeasureOut]]:
    plan = m.plan(case_id)
    programmes = {p.code: p for p in m.programmes()}
    items: list[Assignment | WaitingEntry] = [*plan.assignments, *plan.waiting]
    return plan, [_measure(i, programmes) for i in items]


def _one(m: MeasureServices, case_id: str, measure_id: str) -> MeasureOut:
    found = next((o for o in _plan(m, case_id)[1] if o.id == measure_id), None)
    if found is None:  # withdrawn: no longer in the plan
        record = m.measure(case_id, measure_id)
        p = m.programme(record.programme)
        return MeasureOut(id=record.id, case=case_id, programme=p.code, title=dict(p.title),
                          type=str(p.type), provider=p.provider, period=_period(record.period),
                          status=str(record.status), offered=False, position=None,
                          start=record.starts_on, end=record.ends_on, ended_on=record.ended_on,
                          payer=record.payer, unit_cost_chf=record.unit_cost_chf, cost_chf=0)
    return found


@router.get("/programmes", response_model=list[ProgrammeOut], response_model_by_alias=True)
def programmes(_: CallerDep, m: MeasuresDep) -> list[ProgrammeOut]:
    return [_programme(p) for p in m.programmes()]


@router.get("/programmes/{code}/places", response_model=list[OccupancyOut],
            response_model_by_alias=True)
def places(code: ProgrammeCode, _: CaseWorker, m: MeasuresDep, start: From = None,
           end: To = None) -> list[OccupancyOut]:
    m.programme(code)
    a, b = _window(start, end)
    return [OccupancyOut(programme=p.code, period=_period(o.period), capacity=o.capacity,
                         occupied=o.occupied, free=o.free, waiting=o.waiting,
                         assignments=o.assignments, cost_by_payer=o.cost_by_payer)
            for p, o in occupancy_of(m.s, code=code, start=a, end=b)]


@router.get("/cases/{case_id}/measures", response_model=PlanOut, response_model_by_alias=True)
def plan(case_id: CaseId, actor: CaseWorker, p: PolicyDep, m: MeasuresDep) -> PlanOut:
    """The case's integration plan: the person's situation, for readers entitled to it."""
    if not p.open(actor, case_id, "measures").sees(SITUATION):
        return PlanOut(case=case_id, measures=[], cost_by_payer={}, withheld=True)
    found, items = _plan(m, case_id)
    return PlanOut(case=case_id, measures=items, cost_by_payer=found.cost_by_payer)


@router.post("/cases/{case_id}/measures", status_code=201, response_model=MeasureOut,
             response_model_by_alias=True, responses={202: {"model": MeasureOut}})
def request_place(case_id: CaseId, body: MeasureIn, actor: CaseWorker, q: QueriesDep,
                  m: MeasuresDep, response: Response) -> MeasureOut:
    """A place in a programme: 201 when given, 202 when the case joins the waiting list."""
    q.case_for(actor, case_id)
    _window(body.start, body.end)
    out = m.request(case_id, body.programme, actor=actor, start=body.start, end=body.end,
                    payer=body.payer, reason=body.reason)
    response.status_code = 202 if out.waiting else 201
    return _one(m, case_id, out.measure.id)


@router.post("/cases/{case_id}/measures/{measure_id}/start", response_model=MeasureOut,
             response_model_by_alias=True)
def start_measure(case_id: CaseId, measure_id: MeasureId, actor: CaseWorker, q: QueriesDep,
                  m: MeasuresDep, body: MeasureStartIn | None = None) -> MeasureOut:
    """The lead confirms a planned measure, e.g. a place offered from the waiting list."""
    q.case_for(actor, case_id)
    m.start(case_id, measure_id, actor=actor, reason=body.reason if body else None)
    return _one(m, case_id, measure_id)


@router.post("/cases/{case_id}/measures/{measure_id}/end", response_model=MeasureOut,
             response_model_by_alias=True)
def end_measure(case_id: CaseId, measure_id: MeasureId, actor: CaseWorker, q: QueriesDep,
                m: MeasuresDep, body: MeasureEndIn | None = None) -> MeasureOut:
    """End an active measure, cancel a planned one, withdraw from a waiting list; a freed
    place is offered to the first eligible waiting case."""
    q.case_for(actor, case_id)
    m.end(case_id, measure_id, actor=actor, on=body.on if body else None,
          reason=body.reason if body else None)
    return _one(m, case_id, measure_id)


@router.get("/steering/occupancy")
def occupancy(_: Steering, m: MeasuresDep, start: From = None,
              end: To = None) -> dict[str, Any]:
    """Places per programme and period, by type and cost per payer: counts under 5 shown
    as "<5", free places hidden where they would reveal such a count."""
    a, b = _window(start, end)
    b = b or m.s.today()
    a = a or b - timedelta(days=365)
    _window(a, b)
    return steering_occupancy(m.s, start=a, end=b)
