"""Nobody is bounced, whatever the route: a stateful property test.

Hypothesis writes a random valid route, then fires random events, handoff answers, deadline
sweeps and settlements at several cases, as random people. After every step: exactly one
lead per open case, a pending handoff never changes the lead, every open case has a future or
escalated deadline, the history replays to the rows, and the hash chain holds.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from relais.cases.domain.decide import EventInput
from relais.cases.domain.errors import CaseError
from relais.cases.services import CaseServices
from relais.cases.store.audit import verify
from relais.db import make_engine
from relais.demo import avs
from relais.institutions.registry import default_registry
from tests.conftest import COORD, OAI, OFIJ, ORP, ORP_LCF, SSR, SSR_LCF, Clock
from tests.random_routes import route_texts

PEOPLE = [ORP, ORP_LCF, OAI, SSR, SSR_LCF, OFIJ, COORD]
LEADS = [None, "OAI-NE", "SSR-NE", "SSR-LCF", "ORP-NE", "ORP-LCF"]
AVS = [avs(n) for n in (1, 2, 3, 4)]


class Network(RuleBasedStateMachine):
    cases = Bundle("cases")

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp())
        shutil.copy(TEMPLATE[0], self.dir / "r.sqlite3")
        self.engine = make_engine(f"sqlite:///{self.dir / 'r.sqlite3'}")
        self.clock = Clock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
        self.services = CaseServices(self.engine, clock=self.clock)
        self.leads: dict[str, tuple[str, str | None]] = {}  # case -> (lead, pending handoff)
        self.events: list[str] = []

    @initialize(text=route_texts())
    def publish(self, text: str) -> None:
        self.text = text
        self.route, _ = self.services.publish_route(text, by="hypothesis")

    def teardown(self) -> None:
        self.engine.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _try(self, call: Any, *args: Any, **kw: Any) -> None:
        # refusals are expected; they must change nothing (the audit checks it)
        with contextlib.suppress(CaseError):
            call(*args, **kw)

    @rule(target=cases, who=st.sampled_from([ORP, OAI, SSR, SSR_LCF]),
          person=st.sampled_from(AVS), score=st.integers(0, 10))
    def open_case(self, who: Any, person: str, score: int) -> str:
        out = self.services.open_case(
            route="aleatoire", actor=who, fields={"score": score},
            person={"avs": person, "official_name": "N", "first_name": "P",
                    "birth_date": "1990-01-01"})
        return out.case.id

    @rule(case=cases, who=st.sampled_from(PEOPLE), event=st.sampled_from(
        ["suivant0", "suivant1", "suivant2", "suivant3", "suivant4", "saut0", "saut1", "saut2",
         "saut3", "arreter"]), lead=st.sampled_from(LEADS), score=st.none() | st.integers(0, 10),
        stale=st.booleans())
    def fire(self, case: str, who: Any, event: str, lead: str | None, score: int | None,
             stale: bool) -> None:
        version = self.services.get(case).version - (1 if stale else 0)
        self._try(self.services.fire, case, event, actor=who, expected_version=version,
                  data=EventInput(reason="motif", outcome="ok", lead=lead,
                                  fields={} if score is None else {"score": score}))

    @rule(case=cases, who=st.sampled_from(PEOPLE),
          answer=st.sampled_from(["accept", "refuse", "withdraw"]))
    def answer_handoff(self, case: str, who: Any, answer: str) -> None:
        h = self.services.get(case).handoff
        if h is None:
            return
        if answer == "accept":
            self._try(self.services.accept_handoff, h.id, actor=who)
        elif answer == "refuse":
            self._try(self.services.refuse_handoff, h.id, actor=who, reason="pas nous")
        else:
            self._try(self.services.withdraw_handoff, h.id, actor=who)

    @rule(days=st.integers(1, 30))
    def time_passes(self, days: int) -> None:
        self.clock.advance(days=days)
        self.services.sweep_deadlines()

    @rule(case=cases, lead=st.sampled_from(LEADS))
    def coordination_settles(self, case: str, lead: str | None) -> None:
        self._try(self.services.settle_escalation, case, actor=COORD, reason="réglé", lead=lead)

    @rule()
    def coordination_migrates_to_a_new_version(self) -> None:
        """The same route published again as the next version; every open case moves."""
        old = self.route.version
        self.text = self.text.replace(f"version: {old}\n", f"version: {old + 1}\n", 1)
        self.route, _ = self.services.publish_route(self.text, by="hypothesis")
        assert self.route.version == old + 1
        report = self.services.migrate_cases("aleatoire", old, old + 1, mapping={},
                                             actor=COORD, apply=True)
        assert all("transfert" in m or "handoff" in m for _, m in report.problems), \
            report.problems

    @invariant()
    def nobody_is_bounced(self) -> None:
        if not hasattr(self, "route"):
            return
        registry = default_registry()
        for case_id in list(self.leads) + self._new_cases():
            case = self.services.get(case_id)
            before = self.leads.get(case_id)
            if case.is_open:
                assert registry.matches(case.lead, self.route.institutions), case.lead
                d = case.deadline
                assert d.status == "escalated" or (d.due_at is not None
                                                   and d.due_at > self.clock.now), d
                if case.handoff:
                    assert case.handoff.due_at > self.clock.now
                    assert case.handoff.sender == case.lead
            if before and before[1] and case.handoff and case.handoff.id == before[1]:
                assert case.lead == before[0], "a pending handoff changed the lead"
            self.leads[case_id] = (case.lead, case.handoff.id if case.handoff else None)
        report = verify(self.engine)
        assert report.ok, report.problems

    def _new_cases(self) -> list[str]:
        from sqlalchemy import select

        from relais.cases.store.tables import case_t
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(select(case_t.c.id))
                    if r[0] not in self.leads]


TEMPLATE: list[Path] = []


def test_no_one_is_bounced_on_any_valid_route(sqlite_template: Path) -> None:
    TEMPLATE[:] = [sqlite_template]
    run_state_machine_as_test(Network, settings=settings(
        max_examples=int(os.environ.get("RELAIS_STATEFUL_EXAMPLES", "25")),
        stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


def test_random_routes_are_valid(sqlite_template: Path) -> None:
    from hypothesis import given

    from relais.workflows.engine.validate import parse_route

    @settings(max_examples=60, deadline=None)
    @given(route_texts())
    def check(text: str) -> None:
        route, problems = parse_route(text)
        assert problems == [] and route is not None

    check()
