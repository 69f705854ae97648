"""The integration plan's measures on a case: a place asked for, offered, started, ended.

Each rule answers with one event (or raises a CaseError and records nothing):
``measure_assigned``, ``measure_waitlisted``, ``measure_started``, ``measure_ended``. None
changes the case's state or lead. Whether a place is free is read by the services and checked
again under the place's lock when the event is written: the rule records what was decided on
what was read, and a decision the lock contradicts is decided again.

Who plans: the lead institution's case managers and the coordination; the system offers a
freed place to the first eligible waiting case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from relais.conventions.catalogue import (
    Assignment,
    Period,
    Places,
    Programme,
    Status,
    cost,
    eligibility,
    offer_start,
    planned_end,
)
from relais.i18n import bi

from .access import ACTING_ROLES
from .actors import Actor
from .case import CaseState
from .context import Context, draft
from .errors import Conflict, EventRefused, MissingInput, NotAllowed
from .events import Event
from .payloads import MeasureAssigned as Assigned
from .payloads import MeasureEnded as Ended
from .payloads import MeasureStarted as Started
from .payloads import MeasureWaitlisted as Waitlisted

CLOSED = "cas clos / case closed"
PERIOD_OVER = "période écoulée / period over"


class NotEligible(EventRefused):
    """The case's fields do not meet the programme's conditions, or its route is not open."""
    code = "not_eligible"


@dataclass(frozen=True)
class PlaceRequest:
    measure: str  # the new measure's id
    programme: Programme
    places: Places
    start: date
    end: date
    payer: str
    free: bool  # a place is free and nobody waits: assign; otherwise join the waiting list


def today(ctx: Context) -> date:
    return ctx.calendar.today(ctx.now)


def check_may_plan(actor: Actor, case: CaseState) -> None:
    if actor.is_system or (actor.role in ACTING_ROLES and actor.is_coordination):
        return
    if actor.role not in ACTING_ROLES or actor.institution != case.lead:
        raise NotAllowed(f"les mesures du plan sont décidées par l'institution responsable du "
                         f"cas ({case.lead}) ou la coordination / measures are decided by the "
                         f"lead institution or the coordination", lead=case.lead)


def check_eligible(ctx: Context, case: CaseState, programme: Programme) -> None:
    route = ctx.route
    verdict = eligibility(programme, route.id, route.field_types(),
                          ctx.guard_values(case.fields))
    if not verdict.eligible:
        raise NotEligible(verdict.reason, programme=programme.code)


def request_place(ctx: Context, case: CaseState, actor: Actor, req: PlaceRequest,
                  reason: str | None = None) -> list[Event]:
    if not case.is_open:
        raise EventRefused(CLOSED, allowed_events=[])
    check_may_plan(actor, case)
    check_eligible(ctx, case, req.programme)
    if not ctx.registry.knows(req.payer):
        raise MissingInput(f"payeur inconnu « {req.payer} » : un type (AC, AI, SA...) ou un code "
                           f"d'institution / unknown payer", field="payer")
    period = req.places.period
    if not (period.covers(req.start) and req.start <= req.end <= period.end):
        raise MissingInput(f"début et fin dans la période {period.start} – {period.end} / "
                           f"start and end within the period", field="end")
    if req.free:
        status = Status.active if req.start <= today(ctx) else Status.planned
        return [assigned(ctx, case, actor, req.measure, req.programme, period, req.start,
                         req.end, req.payer, status, offered=False, reason=reason)]
    return [draft(ctx, case.id, "measure_waitlisted", actor, reason=reason, data=Waitlisted(
        measure=req.measure, programme=req.programme.code, period=_period(period),
        wanted_start=req.start.isoformat(), payer=req.payer))]


def offer_place(ctx: Context, case: CaseState, actor: Actor, *, measure: str,
                programme: Programme, places: Places, wanted: date, payer: str) -> list[Event]:
    """A freed place for a waiting case: an assignment ``planned`` the lead confirms or
    declines. A closed case, or a period that is over, leaves the list instead; a case no
    longer eligible stays on it (NotEligible) and the place goes to the next."""
    start = offer_start(wanted, today(ctx), places.period)
    if not case.is_open or start is None:
        return [ended(ctx, case, actor, measure, programme.code, Status.withdrawn, today(ctx),
                      CLOSED if not case.is_open else PERIOD_OVER)]
    check_eligible(ctx, case, programme)
    end = planned_end(programme, start, places.period)
    return [assigned(ctx, case, actor, measure, programme, places.period, start, end, payer,
                     Status.planned, offered=True, reason="place libérée, proposée au premier "
                     "cas en attente / freed place, offered to the first waiting case")]


def start_measure(ctx: Context, case: CaseState, actor: Actor, a: Assignment,
                  reason: str | None = None) -> list[Event]:
    """The lead confirms a planned measure (an offer, or one whose day has come): active."""
    check_may_plan(actor, case)
    if a.status != Status.planned:
        raise Conflict(f"seule une mesure prévue (planned) peut commencer ; celle-ci est "
                       f"{a.status} / only a planned measure can start",
                       measure_status=str(a.status))
    if a.start > today(ctx):
        raise Conflict(bi("cette mesure commence le %(day)s", "this measure starts on %(day)s",
                          day=a.start), measure_status=str(a.status))
    return [draft(ctx, case.id, "measure_started", actor, reason=reason, data=Started(
        measure=a.id, programme=a.programme, on=today(ctx).isoformat()))]


ENDING = {Status.waiting: Status.withdrawn, Status.planned: Status.cancelled,
          Status.active: Status.ended}


def end_measure(ctx: Context, case: CaseState, actor: Actor, *, measure: str, programme: str,
                status: Status, on: date | None, start: date | None,
                reason: str | None = None) -> list[Event]:
    """Active → ended, planned → cancelled, waiting → withdrawn. Allowed on a closed case:
    the measures of a closed plan still have to end."""
    check_may_plan(actor, case)
    if status not in ENDING:
        raise Conflict(f"cette mesure est déjà terminée ({status}) / this measure is already "
                       f"over", measure_status=str(status))
    day = on or today(ctx)
    if day > today(ctx):
        raise MissingInput("une fin se constate : pas de date future / an end is recorded "
                           "when it happened: no future date", field="on")
    if start is not None and status == Status.active and day < start:
        raise MissingInput("la fin précède le début / the end comes before the start",
                           field="on")
    return [ended(ctx, case, actor, measure, programme, ENDING[status], day, reason)]


def assigned(ctx: Context, case: CaseState, actor: Actor, measure: str, programme: Programme,
             period: Period, start: date, end: date, payer: str, status: Status, *,
             offered: bool, reason: str | None) -> Event:
    return draft(ctx, case.id, "measure_assigned", actor, reason=reason, data=Assigned(
        measure=measure, programme=programme.code, period=_period(period),
        start=start.isoformat(), end=end.isoformat(), payer=payer, status=str(status),
        offered=offered, unit_cost_chf=programme.unit_cost_chf,
        cost_chf=cost(programme.unit_cost_chf, start, end, status, None)))


def ended(ctx: Context, case: CaseState, actor: Actor, measure: str, programme: str,
          status: Status, on: date, reason: str | None) -> Event:
    return draft(ctx, case.id, "measure_ended", actor, reason=reason, data=Ended(
        measure=measure, programme=programme, status=str(status), on=on.isoformat()))


def _period(period: Period) -> dict[str, str]:
    return {"from": period.start.isoformat(), "to": period.end.isoformat()}
