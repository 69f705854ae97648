"""Between the case aggregate and its rows: what goes in which column, and back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from relais.cases.domain.case import CaseState, Deadline, Signoff
from relais.cases.domain.events import Event, dt, event_kind, handoff_data, handoff_from


def _signoff_data(s: Signoff | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {"event": s.event, "transition": s.transition, "names": list(s.names),
            "signed": [list(x) for x in s.signed], "proposal": [list(x) for x in s.proposal],
            "refusal": [list(x) for x in s.refusal]}


def case_values(c: CaseState) -> dict[str, Any]:
    memory = {
        "deadline": {"due_at": c.deadline.due_at.isoformat() if c.deadline.due_at else None,
                     "status": c.deadline.status, "level": c.deadline.level},
        "handoff": handoff_data(c.handoff) if c.handoff else None,
        "signoff": _signoff_data(c.signoff),
        "handed_on": list(c.handed_on),
        "partners": list(c.partners),
        "left": list(c.left),
        "refusals": c.refusals,
    }
    return {"id": c.id, "person_id": c.person, "route_id": c.route_id,
            "route_version": c.route_version, "state": c.state, "lead": c.lead,
            "manager": c.manager, "version": c.version, "opened_at": c.opened_at,
            "closed_at": c.closed_at, "outcome": c.outcome, "transfers": c.transfers,
            "revolving_door": c.revolving_door, "escalation_level": c.deadline.level,
            "fields": c.fields, "memory": memory, "last_hash": c.last_hash}


def case_from(row: Any) -> CaseState:
    m = row.memory
    d = m["deadline"]
    s = m.get("signoff")
    return CaseState(
        id=row.id, person=row.person_id, route_id=row.route_id, route_version=row.route_version,
        state=row.state, lead=row.lead, manager=row.manager, opened_at=aware(row.opened_at),
        version=row.version, fields=dict(row.fields),
        deadline=Deadline(dt(d["due_at"]), d["status"], d["level"]),
        handoff=handoff_from(m["handoff"]) if m.get("handoff") else None,
        signoff=Signoff(s["event"], s["transition"], tuple(s["names"]),
                        tuple(tuple(x) for x in s["signed"]),
                        tuple(tuple(x) for x in s["proposal"]),
                        tuple(tuple(x) for x in s.get("refusal", ()))) if s else None,
        transfers=row.transfers, handed_on=tuple(m["handed_on"]),
        partners=tuple(m.get("partners", ())), left=tuple(m.get("left", ())),
        refusals=m["refusals"],
        revolving_door=row.revolving_door, closed_at=aware(row.closed_at),
        outcome=row.outcome, last_hash=row.last_hash)


def aware(value: Any) -> Any:
    """SQLite gives naive datetimes back; everything we store is UTC."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def event_values(e: Event) -> dict[str, Any]:
    return {"case_id": e.case_id, "seq": e.seq, "at": e.at, "kind": e.kind, "actor": e.actor,
            "institution": e.institution, "event": e.event, "from_state": e.from_state,
            "to_state": e.to_state, "reason": e.reason, "data": e.data,
            "route_version": e.route_version, "prev_hash": e.prev_hash, "hash": e.hash}


def event_from(row: Any) -> Event:
    return Event(case_id=row.case_id, seq=row.seq, at=aware(row.at), kind=event_kind(row.kind),
                 actor=row.actor, institution=row.institution, event=row.event,
                 from_state=row.from_state, to_state=row.to_state, reason=row.reason,
                 data=row.data, route_version=row.route_version, prev_hash=row.prev_hash,
                 hash=row.hash)
