"""The steering group's dashboard (``/pilotage``) and its exports, for a person signed in.

The tables, the flow diagram, the files and the report are those ``api/reporting`` gives the
API's steering endpoints (``api/aggregates.py``): the same counts ("<5" as published, never
recomputed), the same file names. Only aggregate figures: no person's name, AVS number or
case id reaches these pages. The browser has no API token, so the exports are served here
under ``/pilotage/...`` with the session.

The figures take up to a second over a large history: they are gathered, and the files
built, in a worker thread, so that the event loop keeps serving the case workers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from relais.api import reporting
from relais.api import steering_files as files
from relais.api.aggregates import period_bounds  # as the API serves
from relais.api.reporting.labels import SMALL_RULE, SMALL_RULE_TITLE, Titles, pick
from relais.api.reporting.report import display
from relais.cases.domain.actors import Actor
from relais.cases.services import CaseServices
from relais.institutions.dates import local_day

from . import steering_form
from .people import PageRefused, SteeringPerson
from .render import lang_of, page

router = APIRouter(include_in_schema=False)

# the dashboard's order: the review's table, the flows, the time and the breaches, then the
# rest in the order reporting gives them (occupancy last)
FIRST = ("review", "transfers", "durations", "deadline_breaches", "handoffs",
         "referrals_by_institution", "referrals_by_kind", "triage")
Make = Callable[[reporting.SteeringData, str], Response]


def _services(request: Request) -> CaseServices:
    s: CaseServices = request.app.state.services
    return s


async def _read_form(request: Request) -> tuple[steering_form.Form, Titles]:
    s = _services(request)
    titles = await run_in_threadpool(reporting.route_titles, s)
    form = steering_form.read(request.query_params, local_day(s.clock()), titles.routes)
    return form, titles


def _gather(s: CaseServices, choice: steering_form.Choice) -> reporting.SteeringData:
    start, end = period_bounds(choice.first, choice.last)  # the API's bounds: [first, last + 1)
    return reporting.gather(s, start=start, end=end, route=choice.route)


def _ordered(tables: list[reporting.Table]) -> list[reporting.Table]:
    rank = {key: i for i, key in enumerate(FIRST)}
    return sorted(tables, key=lambda t: rank.get(t.key, len(rank)))  # stable: the rest keeps


def _figures(data: reporting.SteeringData, lang: str) -> dict[str, Any]:
    """What the dashboard draws of one period's figures."""
    return {"tables": _ordered(data.tables(lang)),
            # built by reporting.sankey, which escapes every text it writes
            "sankey": Markup(reporting.sankey_svg(data.flows, lang)),  # noqa: S704
            "period_label": data.period.label(lang), "route_title": data.route_title(lang)}


def _dashboard(request: Request, person: Actor, form: steering_form.Form, titles: Titles,
               figures: dict[str, Any] | None, status: int = 200) -> Response:
    lang = lang_of(request)
    routes = sorted(((rid, pick(title, lang, rid)) for rid, title in titles.routes.items()),
                    key=lambda r: r[1].casefold())
    return page(request, "steering.html.j2", person, status=status, form=form, routes=routes,
                figures=figures, query=form.choice.query if form.choice else "",
                display=display, rule_title=pick(SMALL_RULE_TITLE, lang),
                rule=pick(SMALL_RULE, lang))


@router.get("/pilotage")
async def dashboard(request: Request, person: SteeringPerson) -> Response:
    form, titles = await _read_form(request)
    if form.choice is None:
        return _dashboard(request, person, form, titles, None, status=422)
    s, choice, lang = _services(request), form.choice, lang_of(request)
    figures = await run_in_threadpool(lambda: _figures(_gather(s, choice), lang))
    return _dashboard(request, person, form, titles, figures)


async def _export(request: Request, person: Actor, make: Make) -> Response:
    """The file ``make`` builds from the chosen period's figures; a choice to fix gives the
    dashboard's form back with its messages (422)."""
    form, titles = await _read_form(request)
    if form.choice is None:
        return _dashboard(request, person, form, titles, None, status=422)
    s, choice, lang = _services(request), form.choice, lang_of(request)
    return await run_in_threadpool(lambda: make(_gather(s, choice), lang))


def _table(data: reporting.SteeringData, key: str, lang: str) -> reporting.Table:
    found = files.find_table(data, key, lang)
    if found is None:
        raise PageRefused(404, "Ce tableau n'existe pas : revenez au tableau de bord.",
                          "There is no such table: go back to the dashboard.")
    return found


@router.get("/pilotage/tableaux/{key}.csv")
async def table_csv(request: Request, person: SteeringPerson, key: str) -> Response:
    return await _export(request, person,
                         lambda d, lang: files.table_csv(d, _table(d, key, lang), lang))


@router.get("/pilotage/tableaux/{key}.xlsx")
async def table_xlsx(request: Request, person: SteeringPerson, key: str) -> Response:
    return await _export(request, person,
                         lambda d, lang: files.table_xlsx(d, _table(d, key, lang), lang))


@router.get("/pilotage/tableaux.xlsx")
async def tables_xlsx(request: Request, person: SteeringPerson) -> Response:
    return await _export(request, person, files.tables_xlsx)


@router.get("/pilotage/rapport.html")
async def report_html(request: Request, person: SteeringPerson) -> Response:
    now = _services(request).clock()
    return await _export(request, person, lambda d, lang: files.report_html(d, lang, now))


@router.get("/pilotage/rapport.pdf")
async def report_pdf(request: Request, person: SteeringPerson) -> Response:
    now = _services(request).clock()
    return await _export(request, person, lambda d, lang: files.report_pdf(d, lang, now))
