"""The history of a case: append-only events, chained by hash, and ``evolve`` to replay them.

Each event carries every value ``evolve`` needs (deadlines already computed, flags already
decided), so replaying a history needs neither the calendar nor the route: it gives the case
back exactly as it was stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast, get_args

from . import frozen
from .case import CaseState, Deadline, Handoff, Signoff
from .payloads import (
    Accepted,
    Common,
    Entering,
    Expired,
    FieldsUpdated,
    HandoffData,
    LeadChange,
    Migrated,
    Opened,
    PartnersLeft,
    Proposed,
    Refused,
    Reminded,
    Settled,
    Signed,
    SignoffRefused,
)

# what can happen to a case: the one list of event kinds, checked by mypy where events are
# drafted and by ``event_kind`` where they are read back
EventKind = Literal[
    "case_opened", "transitioned", "signed", "handoff_proposed", "handoff_accepted",
    "handoff_refused", "handoff_withdrawn", "handoff_expired", "deadline_reminded",
    "deadline_escalated", "escalation_settled", "fields_updated", "route_migrated",
    "action_done", "document_added", "partners_joined", "contact_changed",
    # the integration plan's measures (places in programmes): recorded, the state and lead stay
    "measure_assigned", "measure_waitlisted", "measure_started", "measure_ended",
    # a sign-off's proposal refused by a signatory (back to its author), or withdrawn
    "signoff_refused", "signoff_withdrawn",
    # an institution stops taking part in the case (domain.membership.leave)
    "partners_left",
    # a note written on the case (domain.notes): recorded, the state and lead stay
    "note_added",
]
KINDS: tuple[EventKind, ...] = get_args(EventKind)
MEASURE_KINDS: tuple[EventKind, ...] = ("measure_assigned", "measure_waitlisted",
                                        "measure_started", "measure_ended")


def event_kind(value: str) -> EventKind:
    """A kind read back from storage; an unknown one is a history Relais did not write."""
    if value not in KINDS:
        raise ValueError(f"unknown event kind {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Event:
    case_id: str
    seq: int  # the case's version after this event
    at: datetime
    kind: EventKind
    actor: str
    institution: str
    event: str | None = None  # the route's event name, when there is one
    from_state: str | None = None
    to_state: str | None = None
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    route_version: int = 0
    prev_hash: str = ""
    hash: str = ""

    def canonical(self) -> bytes:
        body = {"case_id": self.case_id, "seq": self.seq, "at": _iso(self.at), "kind": self.kind,
                "actor": self.actor, "institution": self.institution, "event": self.event,
                "from": self.from_state, "to": self.to_state, "reason": self.reason,
                "data": self.data, "route_version": self.route_version,
                "prev_hash": self.prev_hash}
        return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                          default=str).encode("utf-8")

    def sealed(self) -> Event:
        """This event with its hash: sha256 over its content and the previous hash."""
        return frozen.but(self, {"hash": hashlib.sha256(self.canonical()).hexdigest()})


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="microseconds")


def dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def handoff_from(d: HandoffData) -> Handoff:
    return Handoff(d["id"], d["sender"], d["receiver"], d["event"], d["to_state"],
                   datetime.fromisoformat(d["proposed_at"]), datetime.fromisoformat(d["due_at"]),
                   d.get("status", "proposed"), d.get("reason"), d.get("outcome"))


def handoff_data(h: Handoff) -> HandoffData:
    return {"id": h.id, "sender": h.sender, "receiver": h.receiver, "event": h.event,
            "to_state": h.to_state, "proposed_at": _iso(h.proposed_at),
            "due_at": _iso(h.due_at), "status": h.status, "reason": h.reason,
            "outcome": h.outcome}


def _enter(case: CaseState, e: Event, d: Entering) -> CaseState:
    """Entering a new state resets its deadline, signatures and refusals."""
    return case.but(state=e.to_state, deadline=Deadline(dt(d.get("deadline_at"))),
                    signoff=None, closed_at=e.at if d.get("closed") else None,
                    outcome=d.get("outcome"))


def _closing(case: CaseState) -> CaseState:
    assert case.handoff is not None, "a handoff's answer without a pending handoff"
    return case.but(handoff=None)


def _opened(e: Event) -> CaseState:
    d = cast(Opened, e.data)
    return CaseState(
        id=e.case_id, person=d["person"], route_id=d["route"], route_version=e.route_version,
        state=e.to_state or "", lead=d["lead"], manager=d.get("manager"), opened_at=e.at,
        version=e.seq, fields=dict(d.get("fields", {})), partners=tuple(d.get("partners", ())),
        deadline=Deadline(dt(d.get("deadline_at"))), last_hash=e.hash)


def _signed(case: CaseState, e: Event) -> CaseState:
    s = cast(Signed | SignoffRefused, e.data)["signoff"]
    return case.but(signoff=Signoff(s["event"], s["transition"], tuple(s["names"]),
                                    tuple((n, who) for n, who in s["signed"]),
                                    tuple(tuple(x) for x in s["proposal"]),
                                    tuple(tuple(x) for x in s.get("refusal", ()))))


def _accepted(case: CaseState, e: Event) -> CaseState:
    d = cast(Accepted, e.data)
    return _enter(_new_lead(_closing(case), d).but(manager=d.get("manager")), e, d)


def _settled(case: CaseState, e: Event) -> CaseState:
    d = cast(Settled, e.data)
    if "lead" in d:
        case = _new_lead(case, cast(LeadChange, d)).but(manager=None)
    if "step" in d:  # the coordination resumes a step: the case enters it
        return _enter(case, e, cast(Entering, d))
    return case.but(deadline=Deadline(dt(d.get("deadline_at"))))


def _migrated(case: CaseState, e: Event) -> CaseState:
    d = cast(Migrated, e.data)
    return case.but(route_version=e.route_version, state=e.to_state or case.state,
                    deadline=Deadline(dt(d["deadline_at"])), signoff=None)


def _refused(case: CaseState, e: Event) -> CaseState:
    case = _closing(case).but(refusals=case.refusals + 1)
    return _escalate(case, cast(Refused, e.data))


# each kind's effect on the case (``case_opened`` starts one); kinds absent here are
# recorded work around the route: the state and the lead stay
_APPLY: dict[EventKind, Callable[[CaseState, Event], CaseState]] = {
    "transitioned": lambda c, e: _enter(c, e, cast(Entering, e.data)),
    "signed": _signed,
    "signoff_refused": _signed,
    "signoff_withdrawn": lambda c, e: c.but(signoff=None),
    "handoff_proposed": lambda c, e: c.but(
        handoff=handoff_from(cast(Proposed, e.data)["handoff"]),
        signoff=c.signoff if cast(Proposed, e.data).get("signed") else None),
    "handoff_accepted": _accepted,
    "handoff_refused": _refused,
    "handoff_withdrawn": lambda c, e: _closing(c),
    "handoff_expired": lambda c, e: _escalate(_closing(c), cast(Expired, e.data)),
    "deadline_reminded": lambda c, e: c.but(
        deadline=Deadline(dt(cast(Reminded, e.data)["deadline_at"]), "open", 1)),
    "deadline_escalated": lambda c, e: c.but(
        deadline=Deadline(c.deadline.due_at, "escalated", 2)),
    "escalation_settled": _settled,
    "route_migrated": _migrated,
    "partners_left": lambda c, e: _left(c, cast(PartnersLeft, e.data)["left"]),
}
_RECORDED: frozenset[EventKind] = frozenset((
    "fields_updated", "action_done", "document_added", "partners_joined", "contact_changed",
    "note_added", *MEASURE_KINDS))
# the kinds whose ``fields`` are the case's new field values
_FIELDS: frozenset[EventKind] = frozenset(("transitioned", "fields_updated", "handoff_proposed",
                                           "escalation_settled"))


def evolve(case: CaseState | None, e: Event) -> CaseState:
    """The case after event ``e``. Pure: the same history always gives the same case."""
    if e.kind == "case_opened":
        return _opened(e)
    assert case is not None, "a history starts with case_opened"
    d = cast(Common, e.data)
    case = case.but(version=e.seq, last_hash=e.hash)
    if d.get("partners"):  # institutions that join the case by this event
        joining = d.get("partners", [])
        case = case.but(partners=(*case.partners, *joining),
                        left=tuple(c for c in case.left if c not in joining))
    if e.kind in _FIELDS and "fields" in e.data:
        case = case.but(fields={**case.fields, **cast(FieldsUpdated, e.data)["fields"]})
    apply = _APPLY.get(e.kind)
    if apply is not None:
        return apply(case, e)
    if e.kind in _RECORDED:
        return case
    raise ValueError(f"unknown event kind {e.kind!r}")


def _new_lead(case: CaseState, d: LeadChange) -> CaseState:
    return case.but(lead=d["lead"], transfers=d["transfers"], handed_on=tuple(d["handed_on"]),
                    revolving_door=case.revolving_door or d.get("revolving_door"))


def _left(case: CaseState, codes: list[str]) -> CaseState:
    """Institutions that stop taking part: out of the partners; a past lead among them is
    still a past lead (the revolving door counts it) but no longer takes part."""
    return case.but(partners=tuple(c for c in case.partners if c not in codes),
                    left=(*case.left, *(c for c in codes if c not in case.left)))


def _escalate(case: CaseState, d: Refused) -> CaseState:
    if d.get("escalated"):
        return case.but(deadline=Deadline(case.deadline.due_at, "escalated", 2))
    return case


# what evolve records without changing the case beyond its version and last hash (unless
# the event brings partners): an action's result, a document, a new contact
KEEPS_CASE = frozenset({"action_done", "document_added", "contact_changed", "note_added"})


# background work, and what it brings: recorded on the case without anyone deciding on it.
# The version moves on, but an ``If-Match`` read before them still names the case as the
# person decided on it (``still_as_decided``); any other kind is a decision and overtakes it
BACKGROUND: frozenset[str] = frozenset({"action_done", "document_added", "deadline_reminded",
                                        "note_added"})  # a note decides nothing


def still_as_decided(kinds_since: Iterable[str]) -> bool:
    """Whether the events recorded since the version a person read (their kinds) leave
    standing what that person decided on."""
    return all(k in BACKGROUND for k in kinds_since)


def keeps_case(e: Event) -> bool:
    """Whether ``evolve(case, e)`` is ``case`` with only its version and hash moved on: then
    a case row read after ``e`` still tells how the case stood before it."""
    return e.kind in KEEPS_CASE and not e.data.get("partners")


def replay(events: list[Event]) -> CaseState | None:
    case: CaseState | None = None
    for e in events:
        case = evolve(case, e)
    return case
