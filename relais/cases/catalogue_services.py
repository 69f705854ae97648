"""The catalogue's services: loading programmes, and a case's measures through its history.

Every change of a measure is an event of its case, written by ``CaseServices.act_beside`` in
one unit of work with the measure's row (``beside``). Whether a place is free is decided on what
was read, then checked again under the period's lock in that transaction: if the lock says
otherwise (someone took the last place, or joined the waiting list, meanwhile), nothing is
written and the request is decided again. Two requests for the last place: one gets it, the
other waits.

After a place is freed (a measure ended or cancelled), and after a case joins a waiting
list, ``fill`` offers the free places of that period to the waiting cases in order of
arrival, skipping those no longer eligible: each offer is its own transaction on the
offered case.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from relais.conventions.catalogue import (
    Assignment,
    FieldTypes,
    Places,
    Programme,
    Status,
    WaitingEntry,
    cost_by_payer,
    place_free,
    planned_end,
)
from relais.institutions.calendar import calendar

from .domain import measures
from .domain.actors import Actor
from .domain.case import CaseState
from .domain.errors import Conflict, MissingInput, NotFound
from .domain.events import Event
from .domain.measures import NotEligible, PlaceRequest
from .services import CaseServices, Outcome
from .store.catalogue import LoadReport, Measure
from .store.uow import UnitOfWork

RETRIES = 8  # a decision the lock contradicted is made again at most this often
YEARS = (1900, 2200)


class _Contradicted(Exception):
    """What was read no longer holds under the lock: roll back and decide again."""


@dataclass(frozen=True)
class MeasureOutcome:
    case: CaseState
    measure: Measure
    events: list[Event]

    @property
    def waiting(self) -> bool:
        return self.measure.status == Status.waiting


@dataclass(frozen=True)
class Plan:
    """A case's integration plan: its assignments (any payer) and its waiting entries."""

    case_id: str
    assignments: list[Assignment]
    waiting: list[WaitingEntry]

    @property
    def cost_by_payer(self) -> dict[str, int]:
        return cost_by_payer(self.assignments)


class MeasureServices:
    def __init__(self, services: CaseServices) -> None:
        self.s = services

    @contextmanager
    def _unit(self, *, write: bool = False) -> Iterator[UnitOfWork]:
        with self.s.units(write=write) as uow:
            yield uow

    # -- the catalogue ----------------------------------------------------------------------

    def route_fields(self) -> dict[str, FieldTypes]:
        """The fields of the newest version of each published route."""
        with self._unit() as uow:
            book = self.s.routes.on(uow)
            return {rid: book.get(rid).field_types() for rid in book.versions()}

    def load(self, programmes: list[Programme], *, only_new: bool = False) -> LoadReport:
        with self._unit(write=True) as uow:
            report = uow.catalogue.save(programmes, self.s.clock(), only_new=only_new)
        for place_id in report.place_ids:  # more places: offer them to who waits
            self.fill(place_id)
        return report

    def programmes(self) -> list[Programme]:
        with self._unit() as uow:
            return uow.catalogue.programmes()

    def programme(self, code: str) -> Programme:
        with self._unit() as uow:
            return _programme(uow, code)

    # -- a case's measures ------------------------------------------------------------------

    def request(self, case_id: str, code: str, *, actor: Actor,
                start: date | None = None, end: date | None = None, payer: str | None = None,
                reason: str | None = None) -> MeasureOutcome:
        """A place in ``code`` for the case from ``start`` (today by default): given when
        one is free and nobody waits, else the case joins the period's waiting list."""
        measure_id = uuid.uuid4().hex
        with self._unit() as uow:  # what the request is decided on, read at once
            programme = _programme(uow, code)
            case = uow.cases.get(case_id)
            if case is None:
                raise NotFound("cas introuvable / case not found", case=case_id)
            start = start or self._today(case)
            for day in (start, end):
                if day is not None and not YEARS[0] <= day.year <= YEARS[1]:
                    raise MissingInput("dates entre 1900 et 2200 / dates between 1900 and "
                                       "2200", field="start")
            places = programme.period_of(start)
            if places is None:
                raise MissingInput(f"« {code} » n'a pas de places ouvertes le {start} ; "
                                   f"périodes : {_periods(programme) or '-'} / no places open "
                                   f"at that date", field="start")
            place_id = uow.catalogue.place_id(code, places.period.start)
            assert place_id is not None, "a programme's places all have a row"
            free = _free(uow, case_id, code, place_id)
        end = end or planned_end(programme, start, places.period)
        req_payer = payer or programme.payer
        for _ in range(RETRIES):
            req = PlaceRequest(measure_id, programme, places, start, end, req_payer, free)
            try:
                out = self._asking(case_id, req, actor, reason, place_id)
            except _Contradicted:  # the lock said otherwise: read again, decide again
                with self._unit() as uow:
                    free = _free(uow, case_id, code, place_id)
                continue
            return self._outcome(out, measure_id, fill=place_id)
        raise Conflict("les places de cette période changent trop vite ; réessayer / the "
                       "places of this period change too fast; try again")

    def _asking(self, case_id: str, req: PlaceRequest, actor: Actor, reason: str | None,
                place_id: int) -> Outcome:
        def beside(uow: UnitOfWork, events: list[Event]) -> None:
            store = uow.catalogue
            capacity = store.lock_place(place_id)
            if store.open_in(case_id, place_id):
                raise _already(req.programme.code)
            held, waiting = store.counts(place_id)
            if req.free != place_free(capacity, held, waiting):
                raise _Contradicted
            data = events[0].data
            store.add(measure_id=req.measure, case_id=case_id, programme=req.programme.code,
                      place_id=place_id, status=Status(data.get("status", "waiting")),
                      payer=req.payer, starts_on=req.start, ends_on=req.end,
                      unit_cost_chf=req.programme.unit_cost_chf, now=events[0].at)
        return self.s.act_beside(case_id, lambda ctx, c: measures.request_place(
            ctx, c, actor, req, reason), beside=beside)

    def start(self, case_id: str, measure_id: str, *, actor: Actor,
              reason: str | None = None) -> MeasureOutcome:
        """The lead confirms a planned measure (an offered place, or a later start)."""
        def act(m: Measure) -> Outcome:
            def beside(uow: UnitOfWork, events: list[Event]) -> None:
                if not uow.catalogue.change(m.id, m.status, events[0].at,
                                            status=Status.active):
                    raise _Contradicted
            return self.s.act_beside(case_id, lambda ctx, c: measures.start_measure(
                ctx, c, actor, m.assignment(), reason), beside=beside)
        return self._outcome(self._retrying(case_id, measure_id, act), measure_id)

    def end(self, case_id: str, measure_id: str, *, actor: Actor,
            on: date | None = None, reason: str | None = None) -> MeasureOutcome:
        """End an active measure, cancel a planned one, withdraw a waiting one. A place
        freed is offered at once to the first eligible waiting case."""
        if on is not None and not YEARS[0] <= on.year <= YEARS[1]:
            raise MissingInput("dates entre 1900 et 2200 / dates between 1900 and 2200",
                               field="on")

        def act(m: Measure) -> Outcome:
            def beside(uow: UnitOfWork, events: list[Event]) -> None:
                data = events[0].data
                if not uow.catalogue.change(m.id, m.status, events[0].at,
                                            status=Status(data["status"]),
                                            ended_on=date.fromisoformat(data["on"])):
                    raise _Contradicted
            return self.s.act_beside(case_id, lambda ctx, c: measures.end_measure(
                ctx, c, actor, measure=m.id, programme=m.programme, status=m.status, on=on,
                start=m.starts_on, reason=reason), beside=beside)
        result = self._outcome(self._retrying(case_id, measure_id, act), measure_id)
        self.fill(result.measure.place_id)  # a place freed, or a turn given up
        return result

    def _retrying(self, case_id: str, measure_id: str,
                  act: Callable[[Measure], Outcome]) -> Outcome:
        for _ in range(RETRIES):
            try:
                return act(self._measure(case_id, measure_id))
            except _Contradicted:
                continue
        raise Conflict("cette mesure change trop vite ; réessayer / this measure changes too "
                       "fast; try again")

    # -- offers from the waiting list -------------------------------------------------------

    def fill(self, place_id: int) -> int:
        """Offer the period's free places to the waiting cases, first come first; a case
        that is not eligible any more keeps its turn for later. How many were offered."""
        offered, passed = 0, set[str]()
        for _ in range(RETRIES * 50):
            with self._unit() as uow:
                store = uow.catalogue
                held, _ = store.counts(place_id)
                capacity = store.capacity(place_id)
                queue = [m for m in store.waiting(place_id) if m.id not in passed]
                first = queue[0] if queue else None
                programme = store.programmes(first.programme)[0] if first else None
            if first is None or programme is None:
                return offered
            places = programme.period_of(first.period.start)
            assert places is not None
            if held >= capacity:
                return offered
            try:
                out = self._offer(first, programme, places)
            except NotEligible:
                passed.add(first.id)
                continue
            except _Contradicted:
                continue
            offered += out.events[0].kind == "measure_assigned"
        return offered

    def _offer(self, m: Measure, programme: Programme, places: Places) -> Outcome:
        def beside(uow: UnitOfWork, events: list[Event]) -> None:
            store = uow.catalogue
            capacity = store.lock_place(m.place_id)
            data = events[0].data
            if events[0].kind == "measure_ended":
                changed = store.change(m.id, Status.waiting, events[0].at,
                                       status=Status.withdrawn,
                                       ended_on=date.fromisoformat(data["on"]))
            else:
                held, _ = store.counts(m.place_id)
                changed = held < capacity and store.change(
                    m.id, Status.waiting, events[0].at, status=Status.planned, offered=True,
                    starts_on=date.fromisoformat(data["start"]),
                    ends_on=date.fromisoformat(data["end"]),
                    unit_cost_chf=programme.unit_cost_chf)
            if not changed:
                raise _Contradicted
        return self.s.act_beside(m.case_id, lambda ctx, c: measures.offer_place(
            ctx, c, self.s.system, measure=m.id, programme=programme, places=places,
            wanted=m.starts_on, payer=m.payer), beside=beside)

    # -- reading ----------------------------------------------------------------------------

    def plan(self, case_id: str) -> Plan:
        with self._unit() as uow:
            store = uow.catalogue
            rows = store.of_case(case_id)
            queues = {m.place_id: store.waiting(m.place_id) for m in rows
                      if m.status == Status.waiting}
        waiting = [m.waiting(1 + [q.id for q in queues[m.place_id]].index(m.id))
                   for m in rows if m.status == Status.waiting]
        return Plan(case_id, [m.assignment() for m in rows
                              if m.status not in (Status.waiting, Status.withdrawn)], waiting)

    def measure(self, case_id: str, measure_id: str) -> Measure:
        return self._measure(case_id, measure_id)

    # -- plumbing ---------------------------------------------------------------------------

    def _today(self, case: CaseState) -> date:
        return calendar(self.s.route_of(case).calendar).today(self.s.clock())

    def _measure(self, case_id: str, measure_id: str) -> Measure:
        with self._unit() as uow:
            m = uow.catalogue.measure(measure_id)
        if m is None or m.case_id != case_id:
            raise NotFound("mesure introuvable / measure not found", measure=measure_id)
        return m

    def _outcome(self, out: Outcome, measure_id: str, fill: int | None = None
                 ) -> MeasureOutcome:
        result = MeasureOutcome(out.case, self._measure(out.case.id, measure_id), out.events)
        if fill is not None and result.waiting:
            self.fill(fill)  # a waiting list of cases no longer eligible may leave places free
            result = MeasureOutcome(out.case, self._measure(out.case.id, measure_id),
                                    out.events)
        return result


def _programme(uow: UnitOfWork, code: str) -> Programme:
    found = uow.catalogue.programmes(code)
    if not found:
        raise NotFound(f"programme inconnu « {code} » / unknown programme", programme=code)
    return found[0]


def _free(uow: UnitOfWork, case_id: str, code: str, place_id: int) -> bool:
    """Whether a place of the period is free for the case (none if others wait for one);
    Conflict when the case already waits for or holds one."""
    store = uow.catalogue
    if store.open_in(case_id, place_id):
        raise _already(code)
    held, waiting = store.counts(place_id)
    return place_free(store.capacity(place_id), held, waiting)


def _already(code: str) -> Conflict:
    return Conflict(f"le cas attend déjà ou occupe déjà une place de « {code} » pour cette "
                    f"période / the case already waits for or holds a place there",
                    programme=code)


def _periods(programme: Programme) -> str:
    return ", ".join(f"{p.period.start} – {p.period.end}" for p in programme.places)
