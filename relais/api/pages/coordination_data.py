"""What the coordination page reads: the network's escalated cases (why, since when, who is
involved, who may become lead) and its revolving-door cases with their chain of leads.

Cases come from ``CaseQueries.escalated`` and ``.revolving`` (what the coordinator may know
of them); why and since when come from each case's history, as the engine wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from relais.cases.access import IDENTITY, AccessPolicy, CaseView
from relais.cases.domain.actors import Actor
from relais.cases.domain.case import CaseState
from relais.cases.domain.events import Event
from relais.cases.queries import CaseQueries
from relais.institutions.registry import Institution
from relais.workflows.engine.model import Route

LIMIT = 200  # a coordination settles tens, not thousands: more is a sign to read the figures
WHY = {"deadline_escalated": ("Délai dépassé, rappel resté sans suite",
                              "Deadline passed, reminder without effect"),
       "handoff_refused": ("Transfert refusé deux fois", "Handoff refused twice"),
       "handoff_expired": ("Transfert resté sans réponse dans le délai",
                           "Handoff not answered in time")}


@dataclass(frozen=True)
class Lead:
    institution: str
    since: datetime
    how: str  # case_opened | handoff_accepted | escalation_settled


@dataclass(frozen=True)
class Listed:
    case: CaseState
    route: Route
    person: str | None  # the person's name, when the coordinator may see who it is
    history: list[Event]


@dataclass(frozen=True)
class Escalation(Listed):
    why: tuple[str, str]
    since: datetime
    involved: tuple[str, ...]
    last_reason: str | None
    options: list[Institution]
    # the steps a settlement may resume, (state, title), and the lead a signed proposal
    # names (its signatures let the settlement enter its step with that lead)
    steps: tuple[tuple[str, dict[str, str]], ...] = ()
    signed_lead: str | None = None
    signed_step: str | None = None


@dataclass(frozen=True)
class Revolving(Listed):
    chain: list[Lead]


def _person(q: CaseQueries, view: CaseView) -> str | None:
    if not view.sees(IDENTITY):
        return None
    p = q.person(view.case)
    return f"{p.first_name} {p.official_name}"


def _escalating(history: list[Event]) -> Event | None:
    """The event that put the case in escalation: the last one that escalates."""
    for e in reversed(history):
        if e.kind == "deadline_escalated" or (e.kind in ("handoff_refused", "handoff_expired")
                                              and e.data.get("escalated")):
            return e
    return None


def _handoff_parties(history: list[Event], handoff_id: str | None) -> tuple[str, ...]:
    for e in history:
        h = e.data.get("handoff") if e.kind == "handoff_proposed" else None
        if isinstance(h, dict) and h.get("id") == handoff_id:
            return (str(h["sender"]), str(h["receiver"]))
    return ()


def lead_options(q: CaseQueries, route: Route) -> list[Institution]:
    """The institutions that may lead a case on this route, as settle_escalation checks."""
    return [i for i in q.s.registry if q.s.registry.matches(i.code, route.institutions)]


def escalations(q: CaseQueries, policy: AccessPolicy, actor: Actor) -> list[Escalation]:
    out = []
    for view in policy.views(actor, q.escalated(actor, LIMIT), "coordination"):
        case = view.case
        history = policy.history(view)
        cause = _escalating(history)
        if cause is None or case.handoff is not None:
            continue  # settled meanwhile, or a new handoff waits: nothing to settle now
        route = q.s.route_of(case)
        parties = _handoff_parties(history, cause.data.get("handoff_id"))
        s = case.signoff
        signed = s is not None and s.status == "complete"
        signed_t = next((t for t in route.transitions if s is not None
                         and t.index == s.transition), None) if signed else None
        out.append(Escalation(
            case, route, _person(q, view), history, WHY[cause.kind], cause.at,
            tuple(dict.fromkeys((case.lead, *parties, *case.handed_on))),
            cause.reason if cause.kind == "handoff_refused" else None, lead_options(q, route),
            tuple((n, dict(route.states[n].title)) for n in q.s.resumable(case)),
            (s.get("lead") or s.author_institution) if s is not None and signed else None,
            signed_t.target if signed_t is not None else None))
    return sorted(out, key=lambda e: e.since)


def lead_chain(history: list[Event]) -> list[Lead]:
    return [Lead(str(e.data["lead"]), e.at, e.kind) for e in history
            if e.kind in ("case_opened", "handoff_accepted", "escalation_settled")
            and "lead" in e.data]


def revolving(q: CaseQueries, policy: AccessPolicy, actor: Actor) -> list[Revolving]:
    out = []
    for view in policy.views(actor, q.revolving(actor, LIMIT), "coordination"):
        case = view.case
        history = policy.history(view)
        out.append(Revolving(case, q.s.route_of(case), _person(q, view),
                             history, lead_chain(history)))
    # open cases first, the most recently flagged first
    return sorted(out, key=lambda r: (not r.case.is_open, -r.chain[-1].since.timestamp()))
