"""The deadline sweep reaches every due deadline in one sweep (issue 11, finding 13).

It used to read "the first N due deadlines" again and again, leaving out the cases already
seen: when N due cases at the head kept being skipped (their action failing, a move not
allowed), a page held only cases already seen and the sweep stopped before the due cases
behind them. It now pages by (due time, case id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from relais.cases.domain.case import CaseState
from relais.cases.domain.errors import NotAllowed
from relais.cases.domain.events import Event
from relais.cases.services import CaseServices
from relais.demo import Clock, avs
from relais.wiring import publish_standard_routes
from tests.conftest import ORP, PERSON


class Stuck(CaseServices):
    """Services whose sweep cannot move some cases: their deadline fails every time."""

    stuck: set[str]

    def _sweep_step(self, conn: Connection, case: CaseState,
                    now: datetime) -> tuple[CaseState, list[Event]]:
        if case.id in self.stuck:
            raise NotAllowed("this case cannot move / ce cas ne peut pas bouger")
        return super()._sweep_step(conn, case, now)


def open_cases(s: CaseServices, first: int, n: int) -> list[str]:
    return [s.open_case(route="reseau-cii", person={**PERSON, "avs": avs(first + i)}, actor=ORP,
                        fields={}).case.id for i in range(n)]


def test_due_cases_behind_more_than_a_page_of_skipped_ones_are_handled_in_one_sweep(
        services: CaseServices, clock: Clock) -> None:
    s = Stuck(services.engine, clock=clock)
    publish_standard_routes(s)
    s.stuck = set(open_cases(s, 1, 7))  # due first: more than two pages of three
    clock.advance(hours=1)
    behind = open_cases(s, 100, 2)  # due an hour later
    clock.advance(days=14)
    report = s.sweep_deadlines(batch=3)
    assert (report.handled, report.skipped) == (2, 7)
    assert [s.get(c).deadline.level for c in behind] == [1, 1]
    assert {s.get(c).deadline.level for c in s.stuck} == {0}
    again = s.sweep_deadlines(batch=3)
    assert (again.handled, again.skipped) == (0, 7)  # idempotent: the stuck stay stuck


def test_deadlines_due_at_the_same_instant_are_each_reached_once_across_pages(
        services: CaseServices, clock: Clock) -> None:
    ids = open_cases(services, 1, 7)  # every deadline ends at the same local midnight
    assert len({services.get(c).deadline.due_at for c in ids}) == 1
    clock.advance(days=14)
    report = services.sweep_deadlines(batch=2)
    assert report.handled == 7 and report.events == 7
    assert {services.get(c).deadline.level for c in ids} == {1}
