"""Turning a case into what the API shows of it."""

from __future__ import annotations

from cases.access import IDENTITY, CaseView
from cases.queries import CaseQueries
from cases.store.uow import UnitOfWork

from .schemas import CaseOut, HandoffOut, SignoffOut


def case_out(q: CaseQueries, view: CaseView, within: UnitOfWork | None = None) -> CaseOut:
    """The case as its reader may see it (``cases.access``): the person, fields and
    outcome only on a legal basis."""
    case, route = view.case, view.route
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
        allowed_events=q.s.allowed_events(case, within),
        pending_handoff=HandoffOut(id=h.id, to=h.receiver, deadline=h.due_at) if h else None,
        signoff=signoff, transfers=case.transfers, revolving_door=case.revolving_door,
        closed=not case.is_open, outcome=view.outcome,
        person=q.person(case, within).as_dict() if view.sees(IDENTITY) else None,
        fields=view.fields, legal_basis=view.shown, withheld=view.withheld,
        partners=list(case.partners))
