"""The simulated time of the demonstration: case agents woken in time order, and the deadline
sweep run every night as the clock passes, as the live system does it.

An agent is a generator: it acts through the case services, then yields the moment it wants
to act next. Moments are drawn in the canton's office hours, on its working days.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable, Generator
from datetime import UTC, date, datetime, time, timedelta

from relais.cases.domain.case import CaseState
from relais.cases.services import CaseServices
from relais.cases.store.uow import unit_of_work
from relais.institutions.calendar import calendar

from ..demo import Clock

Agent = Generator[datetime, None, None]
SWEEP_AT = time(0, 0, 15)  # local: a sweep period (15 s) after the day's deadlines ran out


class Sim:
    def __init__(self, services: CaseServices, clock: Clock, rng: random.Random,
                 until: datetime) -> None:
        self.s, self.clock, self.rng, self.until = services, clock, rng, until
        self.cal = calendar("CH-NE")
        self.tally: Counter[str] = Counter()
        self._agents: list[tuple[datetime, int, Agent]] = []
        self._n = 0
        self.last_sweep = datetime.min.replace(tzinfo=UTC)
        self._next_due: datetime | None = None  # nothing is due before this (None: nothing)

    @property
    def now(self) -> datetime:
        return self.clock.now

    # -- time --------------------------------------------------------------------------

    def today(self) -> date:
        return self.now.astimezone(self.cal.zone).date()

    def office(self, day: date) -> datetime:
        """A moment of office hours (08:00–17:00, Swiss time) on ``day``, never in the past."""
        day = self.cal.on_or_after(day)
        local = datetime.combine(day, time(8), tzinfo=self.cal.zone)
        at = (local + timedelta(minutes=self.rng.randint(0, 540))).astimezone(UTC)
        return at if at > self.now else self.now + timedelta(minutes=self.rng.randint(5, 90))

    def in_wd(self, n: int) -> datetime:
        """Office hours ``n`` working days from today (0: later today, or the next one)."""
        return self.office(self.cal.add_working_days(self.today(), n) if n > 0 else self.today())

    def in_days(self, n: int) -> datetime:
        return self.office(self.today() + timedelta(days=n))

    def last_day(self, due: datetime) -> date:
        """The last working day of a deadline that runs out at ``due`` (local midnight)."""
        day = (due.astimezone(self.cal.zone) - timedelta(minutes=1)).date()
        while not self.cal.is_working_day(day) and day > self.today():
            day -= timedelta(days=1)
        return day

    def before(self, due: datetime | None, late: float = 0.0, *, share: tuple[float, float]
               = (0.3, 0.9)) -> datetime:
        """When the owner of a step does it: within its deadline, mostly; late with
        probability ``late``, by 1 to 6 working days (reminded, then escalated)."""
        if due is None:
            return self.in_wd(self.rng.randint(1, 10))
        last = self.last_day(due)
        if self.rng.random() < late:
            self.tally["late"] += 1
            return self.office(self.cal.add_working_days(last, self.rng.randint(1, 6)))
        today = self.today()
        span = (last - today).days
        if span <= 0:
            return self.office(today)
        day = self.cal.on_or_after(today + timedelta(days=max(1, round(
            span * self.rng.uniform(*share)))))
        return self.office(min(day, last))

    # -- running -----------------------------------------------------------------------

    def start(self, at: datetime, agent: Agent) -> None:
        self._n += 1
        heapq.heappush(self._agents, (at, self._n, agent))

    def _sweeps_from(self, first: datetime) -> Generator[datetime, None, None]:
        day = first.astimezone(self.cal.zone).date()
        while True:
            yield datetime.combine(day, SWEEP_AT, tzinfo=self.cal.zone).astimezone(UTC)
            day += timedelta(days=1)

    def note(self, case: CaseState) -> None:
        """A case an agent changed: its deadlines may fall before the next one known."""
        for due in (case.deadline.due_at if case.deadline.status == "open" else None,
                    case.handoff.due_at if case.handoff else None):
            if due is not None and (self._next_due is None or due < self._next_due):
                self._next_due = due

    def _earliest_due(self) -> datetime | None:
        with unit_of_work(self.s.engine, write=False) as uow:
            return uow.steering.earliest_open_deadline()

    def sweep(self, at: datetime) -> None:
        """The night's sweep, as the live system runs it; skipped when nothing is due (the
        agents note every deadline they set, the sweep's own are read after it)."""
        self.last_sweep = self.clock.now = at
        if self._next_due is None or self._next_due > at:
            return
        report = self.s.sweep_deadlines(at)
        self.tally["sweep_events"] += report.events
        self._next_due = self._earliest_due()

    def run(self, progress: Callable[[datetime], None] | None = None) -> None:
        """Wake the agents in time order up to ``until``; what they would do later stays
        undone (those cases are open when the live system starts)."""
        if not self._agents:
            return
        sweeps = self._sweeps_from(self._agents[0][0])
        next_sweep = next(sweeps)
        while self._agents and self._agents[0][0] < self.until:
            at, n, agent = heapq.heappop(self._agents)
            while next_sweep <= at:
                self.sweep(next_sweep)
                next_sweep = next(sweeps)
                if progress is not None:
                    progress(self.now)
            self.clock.now = at
            try:
                wake = next(agent)
            except StopIteration:
                continue
            heapq.heappush(self._agents, (max(wake, at + timedelta(seconds=1)), n, agent))
        while next_sweep < self.until:
            self.sweep(next_sweep)
            next_sweep = next(sweeps)
        self.sweep(self.until)
        if progress is not None:
            progress(self.until)
