"""The integration plans' measures in the demonstration, through ``MeasureServices``: once
the plan is signed, the lead asks for a place in a programme (one or two in turn, sometimes
paid by its own insurance or social service rather than the programme's payer), starts it on
its day, and records its end when its time is up, or when the case finds a solution or
closes. A full programme puts the case on its waiting list; a freed place is offered by the
service itself, and the lead confirms it; a case waiting too long gives up for another one.

Its own random stream: the case journeys stay those of the network without measures."""

from __future__ import annotations

import random
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from relais.cases.catalogue_services import MeasureOutcome, MeasureServices
from relais.cases.domain.actors import Actor
from relais.cases.domain.errors import CaseError
from relais.cases.store.catalogue import LoadReport, Measure
from relais.conventions.catalogue import Programme, ProgrammeType, Status, add_months
from relais.institutions.registry import Kind

from .agent import CaseFlow
from .people import STAFF
from .places import load_places
from .scheduler import Sim

T = ProgrammeType
Weights = list[tuple[ProgrammeType, int]]
TYPES: dict[Kind, Weights] = {  # where the lead's cases go, by the lead's kind
    Kind.AI: [(T.professionnel, 6), (T.socio_professionnel, 3), (T.occupation, 1)],
    Kind.AC: [(T.professionnel, 4), (T.occupation, 4), (T.socio_professionnel, 1)],
    Kind.SA: [(T.occupation, 5), (T.socio_professionnel, 4), (T.professionnel, 1)]}
CMFP_TYPES: Weights = [(T.socio_professionnel, 4), (T.occupation, 3), (T.professionnel, 2)]
# The plans with a place in these programmes (the others use the insurances' own measures,
# outside this catalogue: AI rehabilitation, social services' programmes, coaching)
PLACED = {Kind.AC: 0.7, Kind.AI: 0.4, Kind.SA: 0.55}
CMFP_SHARE = 0.25  # of the adults followed by the CMFP
SECOND = 0.4  # plans with a second measure after the first
OWN_PAYER = 0.6  # a measure of an AI or SA lead paid by AI or SA rather than the programme's
MAX_WAIT = timedelta(days=75)  # then the lead withdraws and asks elsewhere
TRIES = 3
OPEN = (Status.waiting, Status.planned, Status.active)
Wait = Generator[datetime, None, Measure | None]


@dataclass
class CasePlan:
    flow: CaseFlow
    types: Weights
    own_payer: str | None  # the lead's kind (AI, SA) or None: the programme's payer
    measures: dict[str, None] = field(default_factory=dict)  # not ended yet, in order
    started: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)  # programmes asked for
    closed: bool = False


class Placements:
    def __init__(self, sim: Sim, seed: int) -> None:
        self.sim, self.m = sim, MeasureServices(sim.s)
        self.rng = random.Random(seed)  # noqa: S311 - a seeded simulation, not a secret
        self.programmes: list[Programme] = []
        self.plans: dict[str, CasePlan] = {}
        self.waiting: dict[int, dict[str, CasePlan]] = {}  # by period: who waits, in order

    def load(self, first: date, last: date) -> LoadReport:
        report = load_places(self.m, range(first.year, last.year + 1))
        self.programmes = self.m.programmes()
        return report

    # -- what the cohorts call --------------------------------------------------------------

    def begin(self, f: CaseFlow, types: Weights | None = None) -> None:
        """The plan is signed: its measures begin to be asked for (reseau-cii by the lead's
        kind; ``types`` for the CMFP, only some of whose adults are placed)."""
        kind = STAFF.of(f.case.lead).kind
        if types is not None and f.case.fields.get("age", 0) < 18:
            return
        if self.rng.random() >= (CMFP_SHARE if types is not None else PLACED.get(kind, 0)):
            return
        own = str(kind) if kind in (Kind.AI, Kind.SA) and types is None else None
        if types is not None and self.rng.random() < 0.4:
            own = str(Kind.SA)  # a young adult at the social services
        plan = CasePlan(f, types or TYPES.get(kind, CMFP_TYPES), own)
        self.plans[f.case.id] = plan
        self.sim.start(self._in_wd(self.rng.randint(0, 2)), self._live(plan))

    def close(self, f: CaseFlow, reason: str) -> None:
        """A solution found or the case closed: what is held ends today, what is planned is
        cancelled, what waits is withdrawn."""
        plan = self.plans.pop(f.case.id, None)
        if plan is None:
            return
        plan.closed = True
        for mid in list(plan.measures):
            if self.m.measure(f.case.id, mid).status in OPEN:
                self._end(plan, mid, reason=reason)

    # -- one case's measures ----------------------------------------------------------------

    def _live(self, plan: CasePlan) -> Generator[datetime, None, None]:
        for i in range(2 if self.rng.random() < SECOND else 1):
            start = self.sim.cal.add_working_days(self.sim.today(), self.rng.randint(2, 10))
            end = add_months(start, self.rng.randint(3, 6)) - timedelta(days=1)
            yield from self._measure(plan, start, end, i)
            if plan.closed:
                return

    def _measure(self, plan: CasePlan, start: date, end: date, i: int,
                 programme: Programme | None = None, payer: str | None = None
                 ) -> Generator[datetime, None, None]:
        """A place from ``start`` to ``end`` (cut at its period's end, then asked for again
        in the next period), in ``programme`` or one the lead chooses."""
        for _ in range(TRIES):
            chosen = programme or self._choose(plan, start)
            if chosen is None or plan.closed:
                return
            out = self._ask(plan, chosen, start, end, payer or self._payer(plan, chosen, i))
            if out is None:
                programme = None
                continue
            m = out.measure
            if out.waiting:
                offered = yield from self._wait_offer(plan, m)
                if offered is None:  # withdrawn: another programme, from a few days on
                    programme = None
                    start, end = self._later(start, end, self.sim.today())
                    continue
                m = offered
                start, end = self._later(start, end, m.starts_on)
            yield from self._hold(plan, m, end)
            if not plan.closed and m.ends_on is not None and end > m.ends_on and \
                    m.ends_on == m.period.end:
                yield from self._measure(plan, m.period.end + timedelta(days=1), end, i,
                                         chosen, m.payer)
            return

    def _hold(self, plan: CasePlan, m: Measure, end: date) -> Generator[datetime, None, None]:
        if m.status == Status.planned:  # its day comes, the lead starts it
            yield self._office(max(m.starts_on, self.sim.today()))
            self._start(plan, m)
        last = min(m.ends_on or end, end)
        yield self._office(self.sim.cal.add_working_days(last, self.rng.randint(0, 3)))
        if not plan.closed:
            self._end(plan, m.id, on=last, reason="Mesure terminée / measure over")

    def _wait_offer(self, plan: CasePlan, m: Measure) -> Wait:
        """On the waiting list until the lead gives up (after ``MAX_WAIT``, or when the
        period is over); a place the service offers meanwhile is confirmed by the lead a day
        or two later (``_offered``), and held from then on."""
        give_up = min(self.sim.today() + MAX_WAIT, m.period.end + timedelta(days=1))
        self.waiting.setdefault(m.place_id, {})[m.id] = plan
        yield self._office(give_up)
        self.waiting.get(m.place_id, {}).pop(m.id, None)
        if plan.closed:
            return None
        now = self.m.measure(m.case_id, m.id)
        if now.status == Status.waiting:
            self._end(plan, m.id, reason="Attente trop longue : autre programme / waited too "
                                         "long: another programme")
            return None
        return now if now.status in (Status.planned, Status.active) else None

    def _offered(self, place_id: int) -> None:
        """After a place was freed: the waiting cases the service offered it to, first come
        first (it offers in that order), each confirmed by its lead soon."""
        queue = self.waiting.get(place_id, {})
        for mid, plan in list(queue.items()):
            m = self.m.measure(plan.flow.case.id, mid)
            if m.status == Status.waiting:
                return
            del queue[mid]
            if m.status == Status.planned:
                self.sim.tally["measure_offered"] += 1
                self.sim.start(self._in_wd(self.rng.randint(0, 2)), self._confirm(plan, m))

    def _confirm(self, plan: CasePlan, m: Measure) -> Generator[datetime, None, None]:
        if m.starts_on > self.sim.today():
            yield self._office(m.starts_on)
        self._start(plan, m)

    def _start(self, plan: CasePlan, m: Measure) -> None:
        """Once (the offer's confirmation and the start day may both come to it)."""
        if not plan.closed and m.id not in plan.started:
            plan.started.add(m.id)
            self._took(self.m.start(m.case_id, m.id, actor=self._lead(plan)))

    def _end(self, plan: CasePlan, mid: str, on: date | None = None,
             reason: str | None = None) -> None:
        plan.measures.pop(mid, None)
        out = self._took(self.m.end(plan.flow.case.id, mid, actor=self._lead(plan), on=on,
                                    reason=reason))
        self._offered(out.measure.place_id)

    # -- choices and plumbing ---------------------------------------------------------------

    def _choose(self, plan: CasePlan, start: date) -> Programme | None:
        route = plan.flow.case.route_id
        open_ = [p for p in self.programmes if route in p.routes and p.code not in plan.used
                 and p.period_of(start) is not None]
        kinds, weights = zip(*plan.types, strict=True)
        kind = self.rng.choices(kinds, weights)[0]
        pool = [p for p in open_ if p.type == kind] or open_
        return self.rng.choice(pool) if pool else None

    def _payer(self, plan: CasePlan, programme: Programme, i: int) -> str:
        """The first measure's payer by chance; a second one's the other: one plan, two."""
        own = plan.own_payer
        if own is None:
            return programme.payer
        first = own if self.rng.random() < OWN_PAYER else programme.payer
        return first if i == 0 else (programme.payer if first == own else own)

    def _ask(self, plan: CasePlan, programme: Programme, start: date, end: date,
             payer: str) -> MeasureOutcome | None:
        plan.used.add(programme.code)
        places = programme.period_of(start)
        if places is None:
            return None
        try:
            out = self.m.request(plan.flow.case.id, programme.code, actor=self._lead(plan),
                                 start=start, end=min(end, places.period.end), payer=payer,
                                 reason="Plan d'intégration / integration plan")
        except CaseError:  # not eligible, or no place that day
            self.sim.tally["measure_refused"] += 1
            return None
        plan.measures[out.measure.id] = None
        return self._took(out)

    def _later(self, start: date, end: date, new: date) -> tuple[date, date]:
        new = max(new, start)
        return new, end + (new - start)

    def _took(self, out: MeasureOutcome) -> MeasureOutcome:
        for e in out.events:
            self.sim.tally[e.kind] += 1
        return out

    def _lead(self, plan: CasePlan) -> Actor:
        """The case's lead as its agent last saw it: only the agent's moves change it."""
        return STAFF.of(plan.flow.case.lead)

    def _office(self, day: date) -> datetime:
        """Office hours on ``day`` (or the next working day), never in the past: the
        scheduler's rule, drawn from this stream."""
        sim = self.sim
        local = datetime.combine(sim.cal.on_or_after(day), time(8), tzinfo=sim.cal.zone)
        at = (local + timedelta(minutes=self.rng.randint(0, 540))).astimezone(UTC)
        return at if at > sim.now else sim.now + timedelta(minutes=self.rng.randint(5, 90))

    def _in_wd(self, n: int) -> datetime:
        today = self.sim.today()
        return self._office(self.sim.cal.add_working_days(today, n) if n > 0 else today)
