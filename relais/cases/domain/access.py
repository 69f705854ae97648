"""Who may act on a case in its current state: the state's owner, checked against the actor."""

from __future__ import annotations

from relais.i18n import bi
from relais.institutions.registry import Registry, Role
from relais.workflows.engine.model import COORDINATION, LEAD, StateSpec

from .actors import Actor
from .case import CaseState
from .errors import NotAllowed

ACTING_ROLES = (Role.case_manager, Role.coordinator)


def may_act(actor: Actor, case: CaseState, state: StateSpec, registry: Registry) -> bool:
    if actor.is_system:
        return True
    if actor.role not in ACTING_ROLES:
        return False
    if actor.is_coordination and (case.escalated or COORDINATION in state.owner):
        return True
    if state.owner == (LEAD,):
        return actor.institution == case.lead
    if state.owner == (COORDINATION,):
        return False
    # a joint step: the partners recorded for this case, of the kinds the step names
    return (actor.institution == case.lead or actor.institution in case.partners) \
        and registry.matches(actor.institution, state.owner)


def check_may_act(actor: Actor, case: CaseState, state: StateSpec, registry: Registry) -> None:
    if not may_act(actor, case, state, registry):
        owner = ", ".join(state.owner) or "-"
        raise NotAllowed(
            bi("%(institution)s (%(role)s) ne peut pas agir sur ce cas à l'étape « %(state)s » "
               "(responsable : %(owner)s)",
               "%(institution)s (%(role)s) may not act on this case at the step '%(state)s' "
               "(owner: %(owner)s)", institution=actor.institution, role=actor.role,
               state=state.title["fr"], owner=owner), owner=list(state.owner))
