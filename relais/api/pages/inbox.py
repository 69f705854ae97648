"""The case managers' inbox: my institution's open cases by urgency, the handoffs that wait
for my institution's answer, and the escalations (the coordination: the network's).

The cases are the ones ``CaseQueries`` lets the actor see; the person's name only where
the access policy (``cases.access``) shows the identity, as in the API's ``case_out``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from relais.cases.access import IDENTITY, AccessPolicy, CaseView
from relais.cases.domain.case import CaseState
from relais.cases.domain.errors import MissingInput
from relais.cases.queries import CaseQueries
from relais.cases.store.uow import UnitOfWork
from relais.institutions.calendar import calendar
from relais.workflows.engine.model import Route

from .case_events import state_title
from .case_view import NOTICES, pick
from .people import CaseWorkerPerson
from .render import lang_of, page, title_in
from .time_left import time_left

router = APIRouter(include_in_schema=False)
WEEK = 5  # "due this week": within the next five working days of the route's canton
Filter = Annotated[str, Query(max_length=64)]


@dataclass
class Row:
    case: CaseState
    name: str | None  # None: the identity is not disclosed to this institution
    route_title: str
    state_title: str
    due_at: datetime | None
    badges: list[tuple[str, str]] = field(default_factory=list)  # (css class, text)
    handoff_mine: bool = False
    to_sign: bool = False  # a proposal awaits this institution's signature, or its own answer
    left: str = ""  # the time left, in working days of the route's calendar
    born: date | None = None  # rows of people with the same name told apart (identity shown)


def week_end(route: Route, now: datetime) -> datetime:
    """The end (local midnight) of the fifth working day from today, in the route's canton."""
    cal = calendar(route.calendar)
    today = cal.today(now)
    last = cal.add_working_days(today, WEEK)
    return datetime.combine(last + timedelta(days=1), time(), tzinfo=cal.zone)


def urgency(case: CaseState, route: Route, now: datetime) -> str:
    """``late`` (the deadline passed), ``week`` (due within five working days) or ``later``."""
    due = case.deadline.due_at
    if due is None:
        return "later"
    if due <= now:
        return "late"
    return "week" if due <= week_end(route, now) else "later"


def _row(q: CaseQueries, view: CaseView, group: str, lang: str, within: UnitOfWork,
         now: datetime) -> Row:
    actor, case, route = view.actor, view.case, view.route
    name, born = None, None
    if view.sees(IDENTITY):
        p = q.person(case, within)
        name, born = f"{p.official_name} {p.first_name}", p.birth_date
    badges = []
    if group == "late":
        badges.append(("late", pick(lang, ("Délai dépassé", "Deadline passed"))))
    elif group == "week":
        badges.append(("soon", pick(lang, ("Cette semaine", "This week"))))
    if case.escalated:
        badges.append(("late", pick(lang, ("Escaladé", "Escalated"))))
    if case.handoff is not None:
        badges.append(("soon", pick(lang, ("Transfert en attente", "Handoff pending"))))
    to_sign: list[str] = []
    if case.signoff is not None:
        to_sign = q.s.signoff_allowed(case, actor)
        if case.signoff.status == "refused":
            badges.append(("late", pick(lang, ("Proposition refusée", "Proposal refused"))))
        elif case.signoff.status == "open":
            badges.append(("soon", pick(lang, ("Signatures attendues", "Signatures awaited"))))
    if case.revolving_door:
        badges.append(("late", pick(lang, ("Effet tourniquet", "Revolving door"))))
    return Row(case, name, title_in(lang, route.title), state_title(route, case.state, lang),
               case.deadline.due_at, badges,
               case.handoff is not None and case.handoff.receiver == actor.institution,
               "approve" in to_sign or (case.signoff is not None
                                        and case.signoff.status == "refused"
                                        and "propose" in to_sign),
               time_left(case.deadline.due_at, now, calendar(route.calendar), lang), born)


def _choices(q: CaseQueries, lang: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The published routes and their states, for the filters."""
    routes = q.s.routes_published(latest=True)
    states: dict[str, str] = {}
    for r in routes:
        for name, spec in r.states.items():
            states.setdefault(name, title_in(lang, spec.title))
    return ([(r.id, title_in(lang, r.title)) for r in routes],
            sorted(states.items(), key=lambda kv: kv[1]))


_AVS_TYPED = re.compile(r"^756[0-9.\s]{10,16}$")


def _search(text: str) -> tuple[str | None, str | None]:
    """The inbox's one search box: (q, avs): an AVS number in any written form, else names
    or a case number."""
    text = text.strip()
    if not text:
        return None, None
    return (None, text) if _AVS_TYPED.match(text) else (text, None)


@router.get("/dossiers")
def inbox(request: Request, person: CaseWorkerPerson, etat: Filter = "",
          route: Filter = "", retard: Filter = "",
          cherche: Annotated[str, Query(max_length=100)] = "") -> Response:
    q: CaseQueries = request.app.state.queries
    policy: AccessPolicy = request.app.state.policy
    lang, now = lang_of(request), q.s.clock()
    groups: dict[str, list[Row]] = {"late": [], "week": [], "later": []}
    wrong = ""  # why the search could not be made
    handoffs: list[Row] = []
    plans: list[Row] = []  # proposals awaiting this institution's signature (or its answer)
    escalations: list[Row] = []
    with policy.unit() as uow:  # the list and its cases read through the policy, on record
        words, avs = _search(cherche)
        try:
            found, searched = policy.open_found(person, q=words, avs=avs, route=route or None,
                                                state=etat or None, within=uow)
        except MissingInput as exc:  # an AVS number mistyped: said beside the box
            fr, _, en = exc.message.partition(" / ")
            found, searched, wrong = [], True, pick(lang, (fr, en or fr))
        listed = [(c, urgency(c, q.s.route_of(c, within=uow), now)) for c in found]
        listed = [(c, g) for c, g in listed if not retard or g == "late" or c.escalated]
        views = policy.views(person, [c for c, _ in listed], "search" if searched else "inbox",
                             uow)
        for view, (case, group) in zip(views, listed, strict=True):
            row = _row(q, view, group, lang, uow, now)
            groups[group].append(row)
            if row.handoff_mine and case.handoff is not None:  # the answer's own deadline
                handoffs.append(replace(row, due_at=case.handoff.due_at, left=time_left(
                    case.handoff.due_at, now, calendar(view.route.calendar), lang)))
            if row.to_sign:
                plans.append(row)
            if case.escalated:
                escalations.append(row)
    total = len(listed)
    for rows in groups.values():
        rows.sort(key=lambda x: (x.due_at is None, x.due_at or now))
    routes, states = _choices(q, lang)
    done = request.query_params.get("fait", "")
    return page(request, "inbox.html.j2", person, groups=groups, handoffs=handoffs, plans=plans,
                escalations=escalations, total=total, routes=routes, states=states,
                chosen={"etat": etat, "route": route, "retard": bool(retard),
                        "cherche": cherche.strip()}, search_error=wrong,
                filtered=bool(etat or route or retard or cherche.strip()),
                notice=pick(lang, NOTICES[done]) if done in NOTICES else "")
