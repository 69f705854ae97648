"""A tiny in-memory harness for the pure case domain: decide, append, replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from relais.cases.domain import decide
from relais.cases.domain.actors import Actor
from relais.cases.domain.case import CaseState
from relais.cases.domain.consent import network_recipients
from relais.cases.domain.events import Event
from relais.cases.domain.history import append
from relais.conventions.data_sharing import Consent
from relais.conventions.policy import DEFAULT_POLICY, Policy
from relais.institutions.registry import default_registry
from relais.wiring import standard_route_texts
from relais.workflows.engine.compile import machine_for
from relais.workflows.engine.model import Route
from relais.workflows.engine.validate import parse_route


def route(name: str) -> Route:
    r, problems = parse_route(standard_route_texts()[f"{name}.yaml"])
    assert r is not None, problems
    return r


class Desk:
    """One case on one route, with a clock; every call goes through the domain rules."""

    def __init__(self, r: Route, policy: Policy = DEFAULT_POLICY) -> None:
        self.route, self.policy = r, policy
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        self.case: CaseState | None = None
        self.events: list[Event] = []
        self.consents: list[Consent] = []  # the case's consent records

    def ctx(self) -> decide.Context:
        return decide.Context(self.route, machine_for(self.route), default_registry(),
                              self.policy, self.now, lambda: tuple(self.consents))

    def consent(self, who: Actor, *, recipients: tuple[str, ...] | None = None,
                **kw: Any) -> Consent:
        """The person's consent to the network, recorded by ``who`` (as at the referral)."""
        given = Consent(f"k{len(self.consents)}", recipients or tuple(network_recipients(
            self.route, who.institution, default_registry(), self.policy.coordination)),
            ("identite", "situation"), "coordination", self.now.date(), holder=who.institution,
            **kw)
        self.consents.append(given)
        return given

    def apply(self, drafts: list[Event]) -> CaseState:
        self.case, new = append(self.case, drafts)
        self.events += new
        return self.case

    def open(self, who: Actor, *, consent: bool = False, **fields: Any) -> CaseState:
        """The case opened by ``who``; with ``consent``, the person's consent to the network
        recorded with the referral."""
        if consent:
            self.consent(who)
        return self.apply(decide.open_case(self.ctx(), case_id="c", person=1, actor=who,
                                           fields=fields))

    def fire(self, event: str, who: Actor, **inp: Any) -> CaseState:
        assert self.case is not None
        return self.apply(decide.fire(self.ctx(), self.case, event, who,
                                      decide.EventInput(**inp)))

    def call(self, rule: Any, *args: Any) -> CaseState:
        assert self.case is not None
        return self.apply(rule(self.ctx(), self.case, *args))

    def later(self, **delta: float) -> None:
        self.now += timedelta(**delta)
