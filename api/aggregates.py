"""Deadlines of the caller's cases, and the steering group's aggregates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from cases import steering
from cases.store.codec import aware

from .deps import CaseWorker, QueriesDep, ServicesDep, Steering
from .errors import ApiError
from .schemas import DeadlineOut

router = APIRouter(prefix="/api", tags=["deadlines and steering"])


@router.get("/deadlines", response_model=list[DeadlineOut])
async def deadlines(actor: CaseWorker, q: QueriesDep,
              before: datetime | None = None) -> list[DeadlineOut]:
    limit = aware(before) if before else q.s.clock() + timedelta(days=7)
    return [DeadlineOut(case=d.case.id, kind=d.kind, due_at=d.due_at, state=d.case.state,
                        lead=d.case.lead) for d in q.deadlines(actor, limit)]


def _period(start: date | None, end: date | None) -> tuple[datetime, datetime]:
    for day in (start, end):
        if day is not None and not 1900 <= day.year <= 2200:
            raise ApiError(422, "invalid_input", "dates entre 1900 et 2200 / dates between "
                           "1900 and 2200")
    end_at = datetime.combine(end or date.today(), time(0), tzinfo=UTC) + timedelta(days=1)
    start_at = datetime.combine(start, time(0), tzinfo=UTC) if start else end_at - timedelta(
        days=366)
    if start_at >= end_at:
        raise ApiError(422, "invalid_input", "« from » doit précéder « to » / 'from' must "
                       "come before 'to'")
    return start_at, end_at


From = Annotated[date | None, Query(alias="from")]
To = Annotated[date | None, Query(alias="to")]
RouteId = Annotated[str | None, Query(max_length=64)]


# Figures over a year of history take a good part of a second: a worker thread computes
# them, so that the event loop keeps answering the case workers meanwhile.
@router.get("/steering/indicators")
async def indicators(_: Steering, s: ServicesDep, route: RouteId = None, start: From = None,
                     end: To = None) -> dict[str, Any]:
    a, b = _period(start, end)
    return await run_in_threadpool(steering.indicators, s.engine, s.routes, s.registry,
                                   start=a, end=b, route=route)


@router.get("/steering/flows")
async def flows(_: Steering, s: ServicesDep, route: RouteId = None, start: From = None,
                end: To = None) -> list[dict[str, Any]]:
    a, b = _period(start, end)
    return await run_in_threadpool(steering.flows, s.engine, s.routes, s.registry, start=a,
                                   end=b, route=route)
