"""The catalogue of measures: programmes, their places by period, and the rules of a place.

Plain data and pure rules; storage and the case history live in ``cases``. The rules:

- A programme is open to the cases of the routes it lists; its eligibility is a guard of the
  route language, evaluated over the case's fields under the case's own route version. A guard
  naming a field that route lacks makes the case not eligible (never an error at run time).
- A place belongs to one period. A measure holds a place while it is ``planned`` or
  ``active``; ending or cancelling it frees the place.
- First come, first served: a case gets a place directly only when one is free *and* nobody
  waits for that period; otherwise it joins the waiting list. A freed place is offered to the
  first waiting case that is still eligible; the offer is an assignment ``planned`` that the
  lead confirms (start) or declines (cancel, which offers the place to the next).
- Each measure names its payer; one integration plan (a case's measures) can mix payers.
  Cost committed = unit cost × months begun from start to end (cancelled: nothing).
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from relais.i18n import said
from relais.workflows.engine.guards import FieldType, Guard, GuardError, compile_guard
from relais.workflows.engine.problems import MESSAGES as GUARD_MESSAGES
from relais.workflows.engine.problems import said_params

Text = Mapping[str, str]  # by language; "fr" always present


class ProgrammeType(StrEnum):
    occupation = "occupation"
    socio_professionnel = "socio_professionnel"
    professionnel = "professionnel"


class Status(StrEnum):
    waiting = "waiting"  # on the waiting list of a period
    planned = "planned"  # holds a place; starts later, or offered and awaiting the lead
    active = "active"
    ended = "ended"
    cancelled = "cancelled"  # a planned measure that did not take place
    withdrawn = "withdrawn"  # left the waiting list without a place


HOLDS_PLACE = frozenset({Status.planned, Status.active})


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end

    def overlaps(self, other: Period) -> bool:
        return self.start <= other.end and other.start <= self.end


@dataclass(frozen=True, slots=True)
class Places:
    programme: str
    period: Period
    capacity: int


@dataclass(frozen=True)
class Programme:
    code: str
    title: Text
    provider: str
    type: ProgrammeType
    payer: str  # institution code or kind: who pays unless the plan says otherwise
    unit_cost_chf: int  # per month
    duration_months: int
    routes: tuple[str, ...]  # the routes whose cases may be placed here
    eligibility: str | None = None  # a guard over the route's fields; None: everyone
    places: tuple[Places, ...] = ()

    def period_of(self, day: date) -> Places | None:
        return next((p for p in self.places if p.period.covers(day)), None)


@dataclass(frozen=True)
class Assignment:
    """A case's place in a programme for a period (status planned|active|ended|cancelled)."""

    id: str
    case_id: str
    programme: str
    period: Period
    start: date
    end: date
    payer: str
    status: Status
    unit_cost_chf: int
    offered: bool = False  # came from the waiting list: the lead confirms or declines
    ended_on: date | None = None

    @property
    def cost_chf(self) -> int:
        return cost(self.unit_cost_chf, self.start, self.end, self.status, self.ended_on)


@dataclass(frozen=True)
class WaitingEntry:
    id: str
    case_id: str
    programme: str
    period: Period
    since: datetime
    position: int  # 1 = next to be offered a place
    wanted_start: date
    payer: str


# -- eligibility ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Verdict:
    eligible: bool
    reason: str = ""  # French / English, when not eligible


FieldTypes = Mapping[str, FieldType]


@lru_cache(maxsize=512)
def _guard(text: str, types: tuple[tuple[str, FieldType], ...]) -> Guard | GuardError:
    try:
        return compile_guard(text, dict(types))
    except GuardError as exc:
        return exc


def guard_for(text: str, types: FieldTypes) -> Guard | GuardError:
    """The eligibility guard compiled for one route's fields (kept), or why it cannot be."""
    return _guard(text, tuple(sorted(types.items())))


def guard_problem(exc: GuardError, lang: str) -> str:
    fr, en = GUARD_MESSAGES[exc.code]
    return said(lang, fr, en).format(**said_params(exc.params, lang))


def eligibility(programme: Programme, route_id: str, types: FieldTypes,
                values: Mapping[str, Any]) -> Verdict:
    """Whether a case of ``route_id`` with these field ``values`` (dates as dates) may take
    a place in ``programme``."""
    if route_id not in programme.routes:
        return Verdict(False, f"« {programme.code} » n'est pas ouvert aux cas de la route "
                              f"« {route_id} » ({', '.join(programme.routes)}) / not open to "
                              f"cases of this route")
    if programme.eligibility is None:
        return Verdict(True)
    guard = guard_for(programme.eligibility, types)
    if isinstance(guard, GuardError):
        return Verdict(False, f"conditions illisibles pour cette version de route : "
                              f"{guard_problem(guard, 'fr')} / conditions do not apply to "
                              f"this route version: {guard_problem(guard, 'en')}")
    if not guard(values):
        return Verdict(False, f"conditions non remplies : {programme.eligibility} / "
                              f"conditions not met")
    return Verdict(True)


# -- dates and money ----------------------------------------------------------------------------

def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def planned_end(programme: Programme, start: date, period: Period) -> date:
    """The programme's duration from ``start``, cut at the end of the place's period."""
    return min(add_months(start, programme.duration_months) - timedelta(days=1), period.end)


def months_begun(start: date, end: date) -> int:
    """Months begun from ``start`` to ``end`` included: 2 March – 1 June is 3 months."""
    if end < start:
        return 0
    whole = (end.year - start.year) * 12 + end.month - start.month
    return whole + 1 if add_months(start, whole) <= end else whole


def cost(unit_chf: int, start: date, end: date, status: Status, ended_on: date | None) -> int:
    if status in (Status.cancelled, Status.withdrawn, Status.waiting):
        return 0
    last = min(end, ended_on) if ended_on is not None else end
    return unit_chf * months_begun(start, last)


# -- places ---------------------------------------------------------------------------------

def place_free(capacity: int, held: int, waiting: int) -> bool:
    """A newcomer takes a place directly only if one is free and nobody waits before it."""
    return held < capacity and waiting == 0


def offer_start(wanted: date, today: date, period: Period) -> date | None:
    """When an offered place would start; None once the period is over for it."""
    start = max(wanted, today, period.start)
    return start if start <= period.end else None


@dataclass(frozen=True)
class Occupancy:
    programme: str
    period: Period
    capacity: int
    occupied: int  # places held now (planned or active)
    waiting: int
    assignments: int  # every assignment of the period that was not cancelled
    cost_by_payer: dict[str, int] = field(default_factory=dict)
    assignments_by_payer: dict[str, int] = field(default_factory=dict)

    @property
    def free(self) -> int:
        return max(self.capacity - self.occupied, 0)


def occupancy(places: Places, assignments: Iterable[Assignment], waiting: int) -> Occupancy:
    held = used = 0
    costs: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    for a in assignments:
        held += a.status in HOLDS_PLACE
        if a.status != Status.cancelled:
            used += 1
            costs[a.payer] += a.cost_chf
            counts[a.payer] += 1
    return Occupancy(places.programme, places.period, places.capacity, held, waiting, used,
                     dict(sorted(costs.items())), dict(sorted(counts.items())))


def cost_by_payer(assignments: Sequence[Assignment]) -> dict[str, int]:
    """An integration plan's committed cost, per payer."""
    costs: Counter[str] = Counter()
    for a in assignments:
        if a.status != Status.cancelled:
            costs[a.payer] += a.cost_chf
    return dict(sorted(costs.items()))
