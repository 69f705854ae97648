"""Who may know a case exists: the institutions that take part in it, and the coordination."""

from __future__ import annotations

from institutions.registry import Registry, Role
from workflows.engine.model import COORDINATION, LEAD, Route

from .actors import Actor
from .case import CaseState


def takes_part(institution: str, case: CaseState, route: Route, registry: Registry) -> bool:
    """Lead, receiver of the pending handoff, a past lead, a partner of the current joint
    step, or a signatory of the pending plan."""
    if institution == case.lead or institution in case.handed_on:
        return True
    if case.handoff is not None and case.handoff.receiver == institution:
        return True
    owner = route.states[case.state].owner
    if owner not in ((LEAD,), (COORDINATION,)) and registry.matches(institution, owner):
        return True
    return case.signoff is not None and any(code == institution
                                            for _, code in case.signoff.signed)


def may_see(actor: Actor, case: CaseState, route: Route, registry: Registry) -> bool:
    if actor.role == Role.coordinator:
        return True  # the coordination sees the network's cases
    if actor.role != Role.case_manager:
        return False  # steering: aggregates only; admin: users and agreements
    return actor.is_coordination or takes_part(actor.institution, case, route, registry)
