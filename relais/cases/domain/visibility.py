"""Who may know a case exists: the institutions that take part in it, and the coordination."""

from __future__ import annotations

from relais.institutions.registry import Registry, Role
from relais.workflows.engine.model import Route

from .actors import Actor
from .case import CaseState
from .membership import takes_part_now


def takes_part(institution: str, case: CaseState, route: Route, registry: Registry) -> bool:
    """Lead, a recorded partner (``domain.membership``), a past lead that has not left, or
    the receiver of the pending handoff. Being of the same kind as a partner gives nothing."""
    if takes_part_now(institution, case):
        return True
    return case.handoff is not None and case.handoff.receiver == institution


def may_see(actor: Actor, case: CaseState, route: Route, registry: Registry) -> bool:
    if actor.role == Role.coordinator:
        return True  # the coordination sees the network's cases
    if actor.role != Role.case_manager:
        return False  # steering: aggregates only; admin: users and agreements
    return actor.is_coordination or takes_part(actor.institution, case, route, registry)


def may_see_reads(actor: Actor, case: CaseState) -> bool:
    """Who reads a case's read record (who consulted the file): the coordination, and the
    case managers of the institution that leads it (and answers for its file)."""
    return actor.role == Role.coordinator or (
        actor.role == Role.case_manager and actor.institution == case.lead)
