"""The steering store's aggregates, exact (before the small-count rule), on SQLite and
PostgreSQL, over the history of tests/test_steering.py (its docstring tells it day by day):
day 0 is Monday 2 March 2026, 09:00 UTC."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from relais.api import reporting
from relais.cases.services import CaseServices
from relais.cases.steering import BREACHES
from relais.cases.store.steering import Scope, Stays
from relais.cases.store.tables import case_t
from relais.cases.store.uow import unit_of_work
from tests.conftest import ORP, Clock
from tests.test_steering import APRIL, MARCH, World, build, person

DAY = 86400
DAY_0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MONTH = Scope(MARCH, APRIL)


@pytest.fixture
def world(services: CaseServices, clock: Clock) -> World:
    return build(services, clock)


def test_referrals_are_counted_by_the_institution_that_made_them(world: World) -> None:
    with unit_of_work(world.s.engine, write=False) as uow:
        assert uow.steering.referred(MONTH) == Counter(
            {"ORP-NE": 7, "SSR-NE": 1, "SMIG-NE": 1, "OFIJ-NE": 1})
        assert uow.steering.referred(Scope(MARCH, APRIL, "cmfp")) == Counter(
            {"SMIG-NE": 1, "OFIJ-NE": 1})
        assert uow.steering.referred(Scope(APRIL, APRIL + timedelta(days=30))) == Counter()


def test_closed_cases_are_counted_by_final_state_and_outcome(world: World) -> None:
    with unit_of_work(world.s.engine, write=False) as uow:
        assert uow.steering.closed(MONTH) == Counter({
            ("non_retenu", None): 2, ("oriente", None): 1, ("clos", "abandon"): 1,
            ("clos", "emploi_plein"): 1})
        assert uow.steering.closed(Scope(MARCH, APRIL, "cmfp")) == Counter(
            {("non_retenu", None): 1})


def test_open_cases_are_counted_in_the_state_they_were_in_at_the_end(world: World) -> None:
    day_5 = DAY_0 + timedelta(days=5)  # the triage's decisions are at 09:00, not before
    with unit_of_work(world.s.engine, write=False) as uow:
        assert uow.steering.open_at_end(MONTH) == Counter({"assessment": 4, "signalement": 1})
        assert uow.steering.open_at_end(Scope(MARCH, day_5)) == Counter(
            {"triage": 8, "signalement": 1})
        assert uow.steering.open_at_end(Scope(MARCH, day_5, "cmfp")) == Counter(
            {"signalement": 1})


def test_breaches_and_refusals_are_counted_by_the_state_they_happened_in(world: World) -> None:
    with unit_of_work(world.s.engine, write=False) as uow:
        found = uow.steering.by_state(MONTH, (*BREACHES, "handoff_refused"))
    assert found == Counter({("deadline_reminded", "signalement", "signalement"): 1,
                             ("deadline_escalated", "signalement", "signalement"): 1,
                             ("handoff_refused", "assessment", "assessment"): 1})


def test_changes_of_lead_are_pairs_and_the_revolving_door_a_count_of_cases(world: World
                                                                           ) -> None:
    with unit_of_work(world.s.engine, write=False) as uow:
        pairs, revolving = uow.steering.lead_changes(MONTH)
        on_cmfp = uow.steering.lead_changes(Scope(MARCH, APRIL, "cmfp"))
    assert pairs == Counter({("SMIG-NE", "OFIJ-NE"): 1, ("SSR-NE", "OAI-NE"): 1,
                             ("ORP-NE", "OAI-NE"): 1, ("OAI-NE", "ORP-NE"): 1})
    assert revolving == 1  # R1, back at ORP-NE
    assert on_cmfp == (Counter({("SMIG-NE", "OFIJ-NE"): 1}), 0)


def test_stays_give_their_median_and_90th_percentile_interpolated(world: World) -> None:
    states = frozenset({"signalement", "triage", "assessment", "plan", "mesures",
                        "examen_entree"})
    with unit_of_work(world.s.engine, write=False) as uow:
        stays = uow.steering.stays(MONTH, states)
        none = uow.steering.stays(MONTH, frozenset())
    # triage: seven decided on day 5 after 3 days, R8's handoff accepted on day 6 after 4:
    # the 90th percentile lies 0.3 of the way from the 7th to the 8th, 3.3 days
    assert stays["triage"] == Stays(8, 3 * DAY, 3.3 * DAY)
    assert stays["assessment"] == Stays(2, 4 * DAY, 4.8 * DAY)  # R2: 3 days, R1: 5 days
    assert stays["signalement"] == Stays(9, 2 * DAY, 2 * DAY)  # C1 left after one day
    assert stays["mesures"] == Stays(1, 8 * DAY, 8 * DAY)  # the self-loop ends no stay
    assert (stays["plan"], stays["examen_entree"]) == (Stays(1, 2 * DAY, 2 * DAY),) * 2
    assert none == {}


def test_the_network_counts_its_cases_and_knows_its_first_open_deadline(world: World) -> None:
    cases = [world.s.get(c) for c in _case_ids(world)]
    due = min(c.deadline.due_at for c in cases
              if c.deadline.status == "open" and c.deadline.due_at is not None)
    with unit_of_work(world.s.engine, write=False) as uow:
        assert uow.steering.case_count() == 10
        assert uow.steering.earliest_open_deadline() == due


def test_an_empty_network_has_no_case_and_no_deadline(services: CaseServices) -> None:
    with unit_of_work(services.engine, write=False) as uow:
        assert (uow.steering.case_count(), uow.steering.earliest_open_deadline()) == (0, None)
        assert uow.steering.lead_changes(MONTH) == (Counter(), 0)


def test_a_snapshot_does_not_see_a_case_opened_after_its_first_read(
        services: CaseServices) -> None:
    services.open_case(route="reseau-cii", person=person(1), actor=ORP, fields={})
    with unit_of_work(services.engine, write=False) as uow:
        uow.steering.snapshot()
        before = uow.steering.case_count()
        services.open_case(route="reseau-cii", person=person(2), actor=ORP, fields={})
        assert uow.steering.case_count() == before == 1
    with unit_of_work(services.engine, write=False) as uow:
        assert uow.steering.case_count() == 2


def _case_ids(world: World) -> list[str]:
    with world.s.engine.connect() as conn:
        return list(conn.execute(select(case_t.c.id)).scalars())


def test_the_reports_figures_places_and_titles_are_read_in_one_unit(world: World) -> None:
    checkouts: list[object] = []

    def checkout(conn: object, *_: object) -> None:
        checkouts.append(conn)

    event.listen(world.s.engine, "checkout", checkout)
    try:
        data = reporting.gather(world.s, start=MARCH, end=APRIL)
    finally:
        event.remove(world.s.engine, "checkout", checkout)
    assert len(checkouts) == 1
    assert data.indicators["referred"] == 10
    assert data.titles.route("cmfp", "fr") != "cmfp"  # the route's own title, read in it
