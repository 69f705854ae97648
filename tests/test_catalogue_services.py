"""Places in programmes through the case services, on SQLite and PostgreSQL: eligibility,
assignment, the waiting list, offers of freed places, mixed payers, occupancy, the race for
the last place."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import Engine

from relais.cases.catalogue_queries import occupancy_of
from relais.cases.catalogue_services import MeasureServices
from relais.cases.domain.errors import Conflict, MissingInput, NotAllowed, NotFound
from relais.cases.domain.measures import NotEligible
from relais.cases.services import CaseServices
from relais.cases.store.audit import verify
from relais.conventions.catalogue import Status
from relais.demo import avs
from relais.wiring import publish_standard_routes
from tests.catalogue_helpers import catalogue, open_case
from tests.conftest import COORD, OAI, ORP, SSR, Clock, emptied_postgres, require_postgres

RECYCLAGE, HORLOGERIE = "atelier-recyclage", "formation-horlogerie"


def kinds(services: CaseServices, case_id: str) -> list[str]:
    return [e.kind for e in services.history(case_id)]


def test_an_eligible_case_gets_a_free_place_recorded_in_its_history(
        services: CaseServices) -> None:
    m = catalogue(services)
    case = open_case(services, 1)
    out = m.request(case, RECYCLAGE, actor=ORP)
    a = out.measure
    assert (a.status, a.payer, a.starts_on, a.ends_on) == (
        Status.active, "AC", date(2026, 3, 2), date(2026, 6, 1))
    assert a.period.start == date(2026, 1, 1)
    assert kinds(services, case)[-1] == "measure_assigned"
    assert services.get(case).state == "signalement", "a measure never moves the case"
    assert verify(services.engine).ok


def test_a_later_start_is_planned_and_cut_at_the_end_of_its_period(
        services: CaseServices) -> None:
    m = catalogue(services)
    a = m.request(open_case(services, 1), RECYCLAGE, actor=ORP, start=date(2026, 5, 15)).measure
    assert (a.status, a.ends_on) == (Status.planned, date(2026, 6, 30))


def test_a_planned_measure_starts_only_when_its_day_has_come(
        services: CaseServices, clock: Clock) -> None:
    m = catalogue(services)
    case = open_case(services, 1)
    a = m.request(case, RECYCLAGE, actor=ORP, start=date(2026, 3, 9)).measure
    with pytest.raises(Conflict, match="2026-03-09"):
        m.start(case, a.id, actor=ORP)
    clock.advance(days=7)
    assert m.start(case, a.id, actor=ORP).measure.status == Status.active


def test_a_case_that_does_not_meet_the_conditions_gets_no_place(services: CaseServices) -> None:
    m = catalogue(services)
    young = open_case(services, 1, age=16)
    with pytest.raises(NotEligible) as refused:
        m.request(young, RECYCLAGE, actor=ORP)
    assert "age >= 18" in refused.value.message
    unknown_capacity = open_case(services, 2)  # a field never filled in compares false
    with pytest.raises(NotEligible):
        m.request(unknown_capacity, HORLOGERIE, actor=ORP)
    assert m.request(open_case(services, 3, capacite_adaptee_pct=80), HORLOGERIE,
                     actor=ORP).measure.status == Status.active
    assert "measure_assigned" not in kinds(services, young)


def test_a_programme_is_open_only_to_the_routes_it_lists(services: CaseServices) -> None:
    m = catalogue(services)
    person = {"avs": avs(77), "official_name": "A", "first_name": "B",
              "birth_date": "1990-01-01"}
    eso = services.open_case(route="ne-eso", person=person, actor=SSR,
                             fields={"aide_sociale": True}).case.id
    with pytest.raises(NotEligible, match="ne-eso"):
        m.request(eso, RECYCLAGE, actor=SSR)


def test_only_the_lead_or_the_coordination_plans_measures(services: CaseServices) -> None:
    m = catalogue(services)
    case = open_case(services, 1)
    with pytest.raises(NotAllowed):
        m.request(case, RECYCLAGE, actor=OAI)
    assert m.request(case, RECYCLAGE, actor=COORD).measure.status == Status.active


def test_a_full_period_puts_cases_on_the_waiting_list_first_come_first_served(
        services: CaseServices) -> None:
    m = catalogue(services)
    cases = [open_case(services, i) for i in range(5)]
    outs = [m.request(c, RECYCLAGE, actor=ORP) for c in cases]
    assert [o.measure.status for o in outs] == [Status.active] * 2 + [Status.waiting] * 3
    assert [m.plan(c).waiting[0].position for c in cases[2:]] == [1, 2, 3]
    assert kinds(services, cases[2])[-1] == "measure_waitlisted"
    with pytest.raises(Conflict):
        m.request(cases[2], RECYCLAGE, actor=ORP)  # already waiting there


def test_ending_an_assignment_offers_the_place_to_the_first_eligible_waiting_case(
        services: CaseServices) -> None:
    m = catalogue(services)
    holders = [open_case(services, i) for i in range(2)]
    first, second, third = (open_case(services, i) for i in range(2, 5))
    held = [m.request(c, RECYCLAGE, actor=ORP).measure for c in holders]
    for c in (first, second, third):
        m.request(c, RECYCLAGE, actor=ORP)
    services.update_fields(first, {"age": 17}, actor=ORP)  # no longer eligible
    m.end(holders[0], held[0].id, actor=ORP, reason="emploi trouvé")
    offer = m.plan(second).assignments[0]
    assert (offer.status, offer.offered, offer.start) == (Status.planned, True, date(2026, 3, 2))
    assert services.history(second)[-1].actor == "system"
    assert [w.position for w in m.plan(first).waiting] == [1], "it keeps its turn"
    assert [w.position for w in m.plan(third).waiting] == [2]


def test_the_lead_confirms_an_offer_or_declines_it_for_the_next(services: CaseServices) -> None:
    m = catalogue(services)
    holder = open_case(services, 0)
    second, third = open_case(services, 1), open_case(services, 2)
    m.request(open_case(services, 9), RECYCLAGE, actor=ORP)
    a = m.request(holder, RECYCLAGE, actor=ORP).measure
    w2, w3 = (m.request(c, RECYCLAGE, actor=ORP).measure for c in (second, third))
    m.end(holder, a.id, actor=ORP)
    assert m.measure(second, w2.id).status == Status.planned
    m.end(second, w2.id, actor=ORP, reason="la personne a trouvé un stage")
    assert m.measure(second, w2.id).status == Status.cancelled
    assert m.measure(third, w3.id).status == Status.planned
    started = m.start(third, w3.id, actor=ORP)
    assert started.measure.status == Status.active
    assert kinds(services, third)[-3:] == ["measure_waitlisted", "measure_assigned",
                                           "measure_started"]
    with pytest.raises(Conflict):
        m.start(third, w3.id, actor=ORP)


def test_a_closed_case_leaves_the_waiting_list_when_its_turn_comes(
        services: CaseServices) -> None:
    m = catalogue(services)
    holder, closing, next_one = (open_case(services, i) for i in range(3))
    m.request(open_case(services, 9), RECYCLAGE, actor=ORP)
    a = m.request(holder, RECYCLAGE, actor=ORP).measure
    w = m.request(closing, RECYCLAGE, actor=ORP).measure
    m.request(next_one, RECYCLAGE, actor=ORP)
    services.fire(closing, "ecarter", actor=ORP, data=_reason("hors critères"))
    assert not services.get(closing).is_open
    m.end(holder, a.id, actor=ORP)
    assert m.measure(closing, w.id).status == Status.withdrawn
    assert m.plan(next_one).assignments[0].offered


def test_a_waiting_case_can_withdraw_and_an_ended_measure_cannot_end_again(
        services: CaseServices) -> None:
    m = catalogue(services)
    for i in range(2):
        m.request(open_case(services, i), RECYCLAGE, actor=ORP)
    case = open_case(services, 5)
    w = m.request(case, RECYCLAGE, actor=ORP).measure
    m.end(case, w.id, actor=ORP)
    assert m.plan(case).waiting == [] and m.measure(case, w.id).status == Status.withdrawn
    with pytest.raises(Conflict):
        m.end(case, w.id, actor=ORP)
    with pytest.raises(NotFound):
        m.end(open_case(services, 6), w.id, actor=ORP)  # not that case's measure


def test_dates_outside_every_period_or_the_future_are_refused(services: CaseServices) -> None:
    m = catalogue(services)
    case = open_case(services, 1)
    with pytest.raises(MissingInput, match="2026-01-01"):
        m.request(case, RECYCLAGE, actor=ORP, start=date(2027, 2, 1))
    with pytest.raises(MissingInput):
        m.request(case, RECYCLAGE, actor=ORP, start=date(2026, 3, 2), end=date(2026, 9, 1))
    a = m.request(case, RECYCLAGE, actor=ORP).measure
    with pytest.raises(MissingInput):
        m.end(case, a.id, actor=ORP, on=date(2026, 4, 1))


def test_one_plan_mixes_payers(services: CaseServices) -> None:
    m = catalogue(services)
    case = open_case(services, 1, capacite_adaptee_pct=80)
    m.request(case, RECYCLAGE, actor=ORP)  # AC pays the occupation programme
    m.request(case, HORLOGERIE, actor=ORP, start=date(2026, 7, 1))  # AI the professional one
    m.request(case, RECYCLAGE, actor=COORD, start=date(2026, 7, 1), payer="SA")  # SA this one
    plan = m.plan(case)
    assert sorted(a.payer for a in plan.assignments) == ["AC", "AI", "SA"]
    assert plan.cost_by_payer == {"AC": 3 * 2000, "AI": 6 * 3000, "SA": 3 * 2000}
    with pytest.raises(MissingInput):
        m.request(open_case(services, 2), RECYCLAGE, actor=ORP, payer="NOBODY")


def test_occupancy_per_programme_and_period(services: CaseServices) -> None:
    m = catalogue(services)
    cases = [open_case(services, i) for i in range(4)]
    placed = [m.request(c, RECYCLAGE, actor=ORP).measure for c in cases]
    m.request(cases[0], RECYCLAGE, actor=ORP, start=date(2026, 8, 1), payer="SA")
    m.end(cases[1], placed[1].id, actor=ORP)  # its place goes to cases[2]
    figures = {(p.code, o.period.start): o for p, o in occupancy_of(services)}
    spring = figures[(RECYCLAGE, date(2026, 1, 1))]
    assert (spring.capacity, spring.occupied, spring.free, spring.waiting,
            spring.assignments) == (2, 2, 0, 1, 3)
    # 3 months, 1 (ended the day it started), 3 for the case the freed place went to
    assert spring.cost_by_payer == {"AC": 3 * 2000 + 2000 + 3 * 2000}
    autumn = figures[(RECYCLAGE, date(2026, 7, 1))]
    assert (autumn.occupied, autumn.free, autumn.cost_by_payer) == (1, 0, {"SA": 3 * 2000})
    only = occupancy_of(services, code=RECYCLAGE, start=date(2026, 8, 1),
                        end=date(2026, 8, 31))
    assert [o.period.start for _, o in only] == [date(2026, 7, 1)]


def test_the_history_of_measures_replays_and_the_audit_holds(services: CaseServices) -> None:
    m = catalogue(services)
    cases = [open_case(services, i) for i in range(3)]
    outs = [m.request(c, RECYCLAGE, actor=ORP) for c in cases]
    m.end(cases[0], outs[0].measure.id, actor=ORP)
    m.start(cases[2], outs[2].measure.id, actor=ORP)
    report = verify(services.engine)
    assert report.ok, report.problems


def test_more_places_loaded_are_offered_to_who_waits(services: CaseServices) -> None:
    m = catalogue(services)
    cases = [open_case(services, i) for i in range(3)]
    waiting = [m.request(c, RECYCLAGE, actor=ORP).measure for c in cases][2]
    catalogue(services, _with_capacity(3))
    assert m.measure(cases[2], waiting.id).status == Status.planned


def _with_capacity(n: int) -> str:
    from tests.catalogue_helpers import CATALOGUE
    return CATALOGUE.replace("to: 2026-06-30, capacity: 2", f"to: 2026-06-30, capacity: {n}")


def _reason(text: str) -> object:
    from relais.cases.domain.decide import EventInput
    return EventInput(reason=text)


@pytest.mark.postgres
def test_two_assignments_racing_for_the_last_place_do_not_both_succeed(
        postgres_url: str, clock: Clock) -> None:
    require_postgres()
    engine: Engine = emptied_postgres(postgres_url)
    services = CaseServices(engine, clock=clock)
    publish_standard_routes(services)
    m: MeasureServices = catalogue(services)
    m.request(open_case(services, 99), RECYCLAGE, actor=ORP)  # one of two places left
    racers = [open_case(services, i) for i in range(12)]
    barrier = threading.Barrier(len(racers))
    results: dict[str, Status] = {}
    errors: list[BaseException] = []

    def race(case_id: str) -> None:
        try:
            barrier.wait()
            results[case_id] = m.request(case_id, RECYCLAGE, actor=ORP).measure.status
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(c,)) for c in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results.values()) == [Status.active] + [Status.waiting] * 11
    positions = sorted(w.position for c in racers for w in m.plan(c).waiting)
    assert positions == list(range(1, 12))
    spring = next(o for _, o in occupancy_of(services, code=RECYCLAGE)
                  if o.period.start == date(2026, 1, 1))
    assert (spring.occupied, spring.waiting) == (2, 11)
    assert verify(engine).ok
    engine.dispose()
