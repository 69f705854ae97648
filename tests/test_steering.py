"""The steering figures on SQLite and PostgreSQL: a handful of cases driven through the case
services on a simulated clock, each figure checked exactly, small counts included.

Day 0 is Monday 2 March 2026, 09:00 UTC. Reseau-cii: R1–R7 referred by ORP-NE, R8 by SSR-NE;
cmfp: C1 referred by SMIG-NE, C2 by OFIJ-NE.

    day 0   all ten opened; C1 handed to the CMFP (OFIJ-NE)
    day 1   OFIJ-NE accepts C1: examen_entree                          (flow MIG → FP)
    day 2   R1–R8 sent to triage
    day 3   C1 outside the criteria (non_retenu)                        refused at triage
    day 5   R1–R6 taken on (assessment); R7 not taken on; R8 sent to OAI-NE
    day 6   OAI-NE accepts R8: oriente                                  (flow SA → AI)
    day 8   R2 interrupted (abandon)
    day 9   R1's plan signed by AC, AI, SA, lead OAI-NE; R3's plan too
    day 10  OAI-NE accepts R1 (plan, flow AC → AI), refuses R3; sweep: C2 reminded
    day 12  R1 measures start
    day 15  R1 handed back to ORP-NE within mesures (a self-loop)
    day 16  ORP-NE accepts: revolving door (flow AI → AC); sweep: C2 escalated
    day 20  R1 closed: emploi_plein
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from relais.cases import steering
from relais.cases.domain.actors import Actor
from relais.cases.domain.decide import EventInput
from relais.cases.domain.errors import NotFound
from relais.cases.services import CaseServices
from relais.cases.store.steering import Scope
from relais.cases.store.uow import unit_of_work
from relais.demo import avs
from tests.api_server import People, running
from tests.conftest import COORD, NETWORK_CONSENT, OAI, OFIJ, ORP, SMIG, SSR, Clock, refer

MARCH, APRIL = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)


def person(n: int) -> dict[str, str]:
    return {"avs": avs(500000 + n), "official_name": "Test", "first_name": "Cas",
            "birth_date": "1980-01-01"}


class World:
    def __init__(self, s: CaseServices, clock: Clock) -> None:
        self.s, self.clock, self.start = s, clock, clock.now

    def day(self, n: int) -> None:
        self.clock.now = self.start.replace(day=self.start.day + n)

    def open(self, n: int, route: str, who: Actor, **fields: Any) -> str:
        return refer(self.s, route=route, person=person(n), actor=who, fields=fields,
                     consent=NETWORK_CONSENT if route == "reseau-cii" else None).case.id

    def fire(self, case: str, event: str, who: Actor, **inp: Any) -> None:
        self.s.fire(case, event, actor=who, data=EventInput(**inp))

    def accept(self, case: str, who: Actor) -> None:
        handoff = self.s.get(case).handoff
        assert handoff is not None
        self.s.accept_handoff(handoff.id, actor=who)

    def refuse(self, case: str, who: Actor) -> None:
        handoff = self.s.get(case).handoff
        assert handoff is not None
        self.s.refuse_handoff(handoff.id, actor=who, reason="dossier incomplet")


def build(s: CaseServices, clock: Clock) -> World:
    w = World(s, clock)
    fit = {"age": 40}
    r = [w.open(i, "reseau-cii", ORP, **fit) for i in range(1, 8)]
    r.append(w.open(8, "reseau-cii", SSR, **fit))
    c1 = w.open(9, "cmfp", SMIG, age=19)
    w.open(10, "cmfp", OFIJ, age=20)
    w.fire(c1, "transmettre", SMIG)
    w.day(1)
    w.accept(c1, OFIJ)
    w.day(2)
    for i, case in enumerate(r):
        w.fire(case, "transmettre", SSR if i == 7 else ORP)
    w.day(3)
    w.fire(c1, "ecarter", OFIJ, reason="suivi déjà assuré")
    w.day(5)
    for case in r[:6]:
        w.fire(case, "retenir", COORD)
    w.fire(r[6], "ecarter", COORD, reason="pas un cas complexe")
    w.fire(r[7], "orienter", COORD, reason="AI seule", lead="OAI-NE")
    w.day(6)
    w.accept(r[7], OAI)
    w.day(8)
    w.fire(r[1], "interrompre", ORP, outcome="abandon", reason="ne vient plus")
    w.day(9)
    for case in (r[0], r[2]):
        w.fire(case, "planifier", ORP, lead="OAI-NE")
        w.fire(case, "planifier", OAI)
        w.fire(case, "planifier", SSR)
    w.day(10)
    w.accept(r[0], OAI)
    w.refuse(r[2], OAI)
    s.sweep_deadlines()
    w.day(12)
    w.fire(r[0], "lancer", OAI)
    w.day(15)
    w.fire(r[0], "confier", OAI, lead="ORP-NE", reason="retour au placement")
    w.day(16)
    w.accept(r[0], ORP)
    s.sweep_deadlines()
    w.day(20)
    w.fire(r[0], "cloturer", ORP, outcome="emploi_plein")
    return w


def figures(s: CaseServices, start: datetime = MARCH, end: datetime = APRIL,
            route: str | None = None) -> dict[str, Any]:
    return steering.indicators(s, start=start, end=end, route=route)


@pytest.fixture
def world(services: CaseServices, clock: Clock) -> World:
    return build(services, clock)


BEFORE = {"from", "to", "route", "referred", "referred_by", "open_by_state", "closed",
          "closed_by_outcome", "closed_without_outcome_by_state", "transfers",
          "refused_handoffs", "deadline_breaches", "escalations", "revolving_door_cases"}


def test_every_figure_of_march_small_counts_shown_as_under_five(world: World) -> None:
    f = figures(world.s)
    assert set(f) >= BEFORE  # the keys clients already read are all still there
    assert f["referred"] == 10
    assert f["referred_by"] == {"OFIJ-NE": "<5", "ORP-NE": 5, "SMIG-NE": "<5", "SSR-NE": "<5"}
    assert f["referred_by_kind"] == {"AC": 5, "FP": "<5", "MIG": "<5", "SA": "<5"}
    assert (f["accepted_at_triage"], f["refused_at_triage"]) == (5, "<5")
    assert f["refused_at_triage_by_state"] == {"non_retenu": "<5", "oriente": "<5"}
    assert (f["open"], f["open_by_state"]) == (5, {"assessment": "<5", "signalement": "<5"})
    assert f["closed"] == 5
    assert f["closed_by_outcome"] == {"abandon": "<5", "emploi_plein": "<5"}
    assert f["closed_with_outcome"] == "<5"  # rounded from the exact total, not summed
    assert f["closed_without_outcome_by_state"] == {"non_retenu": "<5", "oriente": "<5"}
    assert f["outside_criteria"] == "<5"
    assert f["transfers"] == "<5"
    assert f["transfers_between_kinds"] == [
        {"from": "AC", "to": "AI", "count": "<5"}, {"from": "AI", "to": "AC", "count": "<5"},
        {"from": "MIG", "to": "FP", "count": "<5"}, {"from": "SA", "to": "AI", "count": "<5"}]
    assert f["refused_handoffs"] == "<5"
    assert (f["deadline_breaches"], f["deadline_breaches_by_state"]) == \
        ("<5", {"signalement": "<5"})
    assert f["escalations"] == "<5" and f["revolving_door_cases"] == "<5"
    assert f["small_counts"] == {"shown_as": "<5", "below": 5, "rounded_to": 5}


def test_durations_are_shown_for_states_with_five_stays_or_more(world: World) -> None:
    # signalement: R1–R8 two days each and C1 one day (9 stays); triage: seven stays of three
    # days and R8's of four (its handoff was accepted a day later); others: fewer than 5
    assert figures(world.s)["durations"] == {
        "signalement": {"stays": 10, "median_days": 2.0, "p90_days": 2.0},
        "triage": {"stays": 10, "median_days": 3.0, "p90_days": 3.3}}
    assert figures(world.s, route="reseau-cii")["durations"] == {
        "signalement": {"stays": 10, "median_days": 2.0, "p90_days": 2.0},
        "triage": {"stays": 10, "median_days": 3.0, "p90_days": 3.3}}


def test_a_stay_that_began_before_the_period_counts_from_its_real_start(world: World) -> None:
    after_referrals = datetime(2026, 3, 6, tzinfo=UTC)  # triage entered on 4 March
    assert figures(world.s, start=after_referrals)["durations"] == {
        "triage": {"stays": 10, "median_days": 3.0, "p90_days": 3.3}}


def test_open_cases_are_counted_in_the_state_they_were_in_at_the_end(world: World) -> None:
    f = figures(world.s, end=datetime(2026, 3, 5, tzinfo=UTC))
    assert f["open"] == 10
    assert f["open_by_state"] == {"examen_entree": "<5", "signalement": "<5", "triage": 10}
    assert f["closed"] == 0 and f["closed_by_outcome"] == {}


def test_a_route_narrows_every_figure(world: World) -> None:
    f = figures(world.s, route="cmfp")
    assert (f["route"], f["referred"], f["referred_by"]) == \
        ("cmfp", "<5", {"OFIJ-NE": "<5", "SMIG-NE": "<5"})
    assert (f["accepted_at_triage"], f["refused_at_triage"]) == (0, "<5")
    assert f["open_by_state"] == {"signalement": "<5"} and f["durations"] == {}
    assert f["transfers_between_kinds"] == [{"from": "MIG", "to": "FP", "count": "<5"}]
    assert steering.flows(world.s, start=MARCH,
                          end=APRIL, route="cmfp") == [{"from": "MIG", "to": "FP",
                                                        "count": "<5"}]


def test_triage_decisions_by_state_name_are_those_found_through_each_case(world: World) -> None:
    checks = frozenset({"triage", "examen_entree", "candidature"})
    with unit_of_work(world.s.engine, write=False) as uow:
        by_case = uow.steering.decisions(Scope(MARCH, APRIL), checks, by_route=True)
        by_name = uow.steering.decisions(Scope(MARCH, APRIL), checks, by_route=False)
    owner = {"triage": "reseau-cii", "examen_entree": "cmfp"}
    assert by_case == {(owner[a], v, a, b): n for (_, v, a, b), n in by_name.items()}
    assert by_case == {("reseau-cii", 4, "triage", "assessment"): 6,
                       ("reseau-cii", 4, "triage", "non_retenu"): 1,
                       ("reseau-cii", 4, "triage", "oriente"): 1,
                       ("cmfp", 2, "examen_entree", "non_retenu"): 1}


def test_two_answers_do_not_give_a_small_route_back_by_subtraction(world: World) -> None:
    everything, reseau = figures(world.s), figures(world.s, route="reseau-cii")
    assert (everything["referred"], reseau["referred"]) == (10, 10)  # cmfp's 2 stay hidden


def test_an_unknown_route_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        figures(world.s, route="nope")


def test_an_empty_period_shows_zeros(world: World) -> None:
    f = figures(world.s, start=datetime(2020, 1, 1, tzinfo=UTC),
                end=datetime(2020, 2, 1, tzinfo=UTC))
    assert (f["referred"], f["open"], f["closed"], f["transfers"]) == (0, 0, 0, 0)
    assert f["durations"] == {} and f["transfers_between_kinds"] == []


def test_the_api_answers_the_figures_and_json_errors_for_bad_input(world: World) -> None:
    with running(world.s) as base:
        people = People(world.s, base)
        try:
            steering_group = people["CII-NE:steering"]
            march = {"from": "2026-03-01", "to": "2026-03-31"}
            f = steering_group.get("/api/steering/indicators", params=march).json()
            assert f == figures(world.s)
            cmfp = steering_group.get("/api/steering/flows", params={**march, "route": "cmfp"})
            assert cmfp.json() == [{"from": "MIG", "to": "FP", "count": "<5"}]
            for path in ("indicators", "flows"):
                unknown = steering_group.get(f"/api/steering/{path}", params={"route": "nope"})
                assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
                backwards = steering_group.get(f"/api/steering/{path}",
                                               params={"from": "2026-04-01", "to": "2026-03-01"})
                assert backwards.status_code == 422
                assert backwards.json()["error"] == "invalid_input"
        finally:
            people.close()
