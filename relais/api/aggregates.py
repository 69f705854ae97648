"""Deadlines of the caller's cases, and the steering group's aggregates."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Path, Query, Response

from relais.cases import steering
from relais.cases.steering import long
from relais.cases.store.codec import aware
from relais.institutions.dates import local_day

from . import reporting
from . import steering_files as files
from .deps import CaseWorker, QueriesDep, ServicesDep, Steering
from .errors import ApiError
from .schemas import DeadlineOut

router = APIRouter(prefix="/api", tags=["deadlines and steering"])


@router.get("/deadlines", response_model=list[DeadlineOut])
def deadlines(actor: CaseWorker, q: QueriesDep,
              before: datetime | None = None) -> list[DeadlineOut]:
    limit = aware(before) if before else q.s.clock() + timedelta(days=7)
    found = q.deadlines(actor, limit)
    q.log_reads(actor, [d.case.id for d in found], "deadlines")
    return [DeadlineOut(case=d.case.id, kind=d.kind, due_at=d.due_at, state=d.case.state,
                        lead=d.case.lead) for d in found]


def period_bounds(start: date | None, end: date | None, today: date | None = None
                  ) -> tuple[datetime, datetime]:
    """``[from 00:00, the day after to 00:00)`` in UTC; without ``to``, up to ``today`` (the
    services' clock, in Neuchâtel's time, as the dashboard reads it), 366 days back."""
    for day in (start, end):
        if day is not None and not 1900 <= day.year <= 2200:
            raise ApiError(422, "invalid_input", "dates entre 1900 et 2200 / dates between "
                           "1900 and 2200")
    end_at = datetime.combine(end or today or date.today(), time(0), tzinfo=UTC) + timedelta(days=1)
    start_at = datetime.combine(start, time(0), tzinfo=UTC) if start else end_at - timedelta(
        days=366)
    if start_at >= end_at:
        raise ApiError(422, "invalid_input", "« from » doit précéder « to » / 'from' must "
                       "come before 'to'")
    return start_at, end_at


From = Annotated[date | None, Query(alias="from")]
To = Annotated[date | None, Query(alias="to")]
RouteId = Annotated[str | None, Query(max_length=64)]


# Every handler here reads the database (blocking) and the figures over a year of history
# take a good part of a second: plain ``def`` handlers, which FastAPI runs in a worker
# thread, so that the event loop keeps answering the case workers meanwhile.
@router.get("/steering/indicators")
def indicators(_: Steering, s: ServicesDep, route: RouteId = None, start: From = None,
               end: To = None) -> dict[str, Any]:
    a, b = period_bounds(start, end, local_day(s.clock()))
    return steering.indicators(s, start=a, end=b, route=route)


@router.get("/steering/flows")
def flows(_: Steering, s: ServicesDep, route: RouteId = None, start: From = None,
          end: To = None) -> list[dict[str, Any]]:
    a, b = period_bounds(start, end, local_day(s.clock()))
    return steering.flows(s, start=a, end=b, route=route)


@router.get("/steering/figures.json")
def figures_json(_: Steering, s: ServicesDep, route: RouteId = None, start: From = None,
                 end: To = None) -> dict[str, Any]:
    """Every published number of the period, one item each, for BI tools: ``indicator``,
    ``breakdown``, ``period_from``, ``period_to``, ``route``, ``value`` (null when
    suppressed), ``unit``, ``suppressed``. Keys never change with a language."""
    a, b = period_bounds(start, end, local_day(s.clock()))
    return {"items": long.rows(steering.indicators(s, start=a, end=b, route=route))}


@router.get("/steering/figures.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def figures_csv(_: Steering, s: ServicesDep, route: RouteId = None, start: From = None,
                end: To = None) -> Response:
    """The same rows as CSV (RFC 4180: comma, UTF-8 without BOM, ``true``/``false``), named
    by route and period."""
    a, b = period_bounds(start, end, local_day(s.clock()))
    found = long.rows(steering.indicators(s, start=a, end=b, route=route))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=long.FIELDS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({**r, "value": "" if r["value"] is None else r["value"],
                      "suppressed": "true" if r["suppressed"] else "false"} for r in found)
    name = (f"relais-steering-{route or 'all'}-{a.date().isoformat()}-"
            f"{long.last_day(b.isoformat())}.csv")
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers=files.attachment(name))


# Tables, exports and the report (api/reporting, docs/reporting.md): the figures, and the
# files built from them, in a worker thread like the figures above.
Lang = Annotated[Literal["fr", "de", "it", "en"], Query()]
TableKey = Annotated[str, Path(pattern=r"^[a-z_]{1,40}$")]
T = TypeVar("T")


def _with_data(s: ServicesDep, route: str | None, start: date | None, end: date | None,
               make: Callable[[reporting.SteeringData], T]) -> T:
    a, b = period_bounds(start, end, local_day(s.clock()))
    return make(reporting.gather(s, start=a, end=b, route=route))


def _table(data: reporting.SteeringData, key: str, lang: str) -> reporting.Table:
    found = files.find_table(data, key, lang)
    if found is None:
        raise ApiError(404, "not_found", f"tableau inconnu « {key} » / unknown table",
                       key=key)
    return found


@router.get("/steering/tables")
def tables(_: Steering, s: ServicesDep, route: RouteId = None, start: From = None,
           end: To = None, lang: Lang = "fr") -> list[dict[str, Any]]:
    """Every steering table of the period, in ``lang``: key, title, columns, rows."""
    return _with_data(s, route, start, end,
                      lambda d: [t.as_json() for t in d.tables(lang)])


@router.get("/steering/tables/{key}.csv", response_class=Response)
def table_csv(key: TableKey, _: Steering, s: ServicesDep, route: RouteId = None,
              start: From = None, end: To = None, lang: Lang = "fr") -> Response:
    """One table as CSV (UTF-8 with BOM, ";"), as Swiss and French Excel open it."""
    return _with_data(s, route, start, end,
                      lambda d: files.table_csv(d, _table(d, key, lang), lang))


@router.get("/steering/tables/{key}.xlsx", response_class=Response)
def table_xlsx(key: TableKey, _: Steering, s: ServicesDep, route: RouteId = None,
               start: From = None, end: To = None, lang: Lang = "fr") -> Response:
    return _with_data(s, route, start, end,
                      lambda d: files.table_xlsx(d, _table(d, key, lang), lang))


@router.get("/steering/tables.xlsx", response_class=Response)
def tables_xlsx(_: Steering, s: ServicesDep, route: RouteId = None, start: From = None,
                end: To = None, lang: Lang = "fr") -> Response:
    """Every table, a sheet each."""
    return _with_data(s, route, start, end, lambda d: files.tables_xlsx(d, lang))


@router.get("/steering/flows.svg", response_class=Response)
def flows_svg(_: Steering, s: ServicesDep, route: RouteId = None, start: From = None,
              end: To = None, lang: Lang = "fr") -> Response:
    """The lead transfers between institution kinds as a Sankey diagram."""
    a, b = period_bounds(start, end, local_day(s.clock()))
    moves = steering.flows(s, start=a, end=b, route=route)
    return Response(reporting.sankey_svg(moves, lang), media_type="image/svg+xml",
                    headers=files.SELF_CONTAINED)


@router.get("/steering/report.html", response_class=Response)
def report_html(_: Steering, s: ServicesDep, route: RouteId = None, start: From = None,
                end: To = None, lang: Lang = "fr") -> Response:
    """The printable report of the period for the steering group's meeting."""
    return _with_data(s, route, start, end,
                      lambda d: files.report_html(d, lang, s.clock()))


@router.get("/steering/report.pdf", response_class=Response)
def report_pdf(_: Steering, s: ServicesDep, route: RouteId = None, start: From = None,
               end: To = None, lang: Lang = "fr") -> Response:
    return _with_data(s, route, start, end,
                      lambda d: files.report_pdf(d, lang, s.clock()))
