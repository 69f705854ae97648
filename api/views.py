"""Turning a case into what the API shows of it."""

from __future__ import annotations

from cases.domain.actors import Actor
from cases.domain.case import CaseState
from cases.queries import CaseQueries
from cases.sharing import Sharing

from .schemas import CaseOut, HandoffOut, SignoffOut


def case_out(q: CaseQueries, sharing: Sharing, actor: Actor, case: CaseState) -> CaseOut:
    """The case as ``actor`` may see it: person and fields only on a legal basis."""
    route = q.s.route_of(case)
    disclosed = sharing.disclose(actor, case)
    fields = {k: v for k, v in case.fields.items()
              if (route.fields[k].category if k in route.fields else "situation")
              in disclosed.shown}
    h = case.handoff
    s = case.signoff
    signoff = None
    if s is not None:
        signed = {name for name, _ in s.signed}
        signoff = SignoffOut(event=s.event, signed=[code for _, code in s.signed],
                             awaited=[n for n in s.names if n not in signed])
    return CaseOut(
        id=case.id, route=case.route_id, route_version=case.route_version, state=case.state,
        state_title=dict(route.states[case.state].title), lead=case.lead, manager=case.manager,
        version=case.version, opened_at=case.opened_at, deadline=case.deadline.due_at,
        deadline_status=case.deadline.status, escalated=case.escalated,
        allowed_events=q.s.allowed_events(case),
        pending_handoff=HandoffOut(id=h.id, to=h.receiver, deadline=h.due_at) if h else None,
        signoff=signoff, transfers=case.transfers, revolving_door=case.revolving_door,
        closed=not case.is_open, outcome=case.outcome,
        person=q.person(case).as_dict() if "identite" in disclosed.shown else None,
        fields=fields, legal_basis=disclosed.shown, withheld=disclosed.withheld)
