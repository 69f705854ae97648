"""Turning a case into what the API shows of it."""

from __future__ import annotations

from relais.cases.access import IDENTITY, CaseView
from relais.cases.queries import CaseQueries
from relais.cases.store.uow import UnitOfWork

from .schemas import (
    CaseOut,
    HandoffOut,
    ProposalOut,
    ProposerOut,
    RefusalOut,
    SignatureOut,
    SignoffOut,
)


def case_out(q: CaseQueries, view: CaseView, within: UnitOfWork | None = None) -> CaseOut:
    """The case as its reader may see it (``cases.access``): the person, fields and
    outcome only on a legal basis."""
    case, route = view.case, view.route
    h = case.handoff
    signoff = signoff_out(q, view) if case.signoff is not None else None
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


def signoff_out(q: CaseQueries, view: CaseView) -> SignoffOut:
    """The case's sign-off as its reader may see it: the proposal's fields by category,
    its reasons as the case's situation (``CaseView.text``); what the reader may do."""
    case, route = view.case, view.route
    s = case.signoff
    assert s is not None
    signed = {name for name, _ in s.signed}
    fields = s.get("fields") or {}
    t = next((t for t in route.transitions if t.index == s.transition), None)
    refusal = dict(s.refusal)
    # a signatory reads what it signs and why it was refused, as the author wrote it
    me = view.actor.institution
    signatory = me == s.author_institution or (
        me in (case.lead, *case.partners) and q.s.registry.matches(me, list(s.names)))

    def said(text: str | None) -> str | None:
        return text if signatory or view.actor.is_coordination else view.text(text)

    return SignoffOut(
        event=s.event, signed=[code for _, code in s.signed],
        awaited=[n for n in s.names if n not in signed], status=s.status,
        title=dict(t.title) if t is not None and t.title else {},
        proposal=ProposalOut(lead=s.get("lead"), reason=said(s.get("reason")),
                             outcome=said(s.get("outcome")),
                             fields={k: v for k, v in fields.items()
                                     if view.sees(view.category_of(k))}),
        proposed_by=ProposerOut(user=s.author, institution=s.author_institution),
        proposed_at=s.proposed_at,
        signatures=[SignatureOut(name=n, institution=code) for n, code in s.signed],
        refusal=RefusalOut(user=refusal.get("by", ""), institution=refusal.get("institution", ""),
                           reason=said(refusal.get("reason")),
                           at=refusal.get("at")) if refusal else None,
        allowed=q.s.signoff_allowed(case, view.actor))
