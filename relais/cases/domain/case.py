"""The case aggregate's state. Changed only by ``events.evolve``; decided by ``decide``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from . import frozen

HandoffStatus = Literal["proposed", "accepted", "refused", "expired", "withdrawn"]
DeadlineStatus = Literal["open", "escalated"]
SignoffStatus = Literal["open", "refused", "complete"]


@dataclass(frozen=True, slots=True)
class Handoff:
    """A proposal to move the lead. The sender stays lead until the receiver accepts."""

    id: str
    sender: str  # institution code
    receiver: str
    event: str
    to_state: str
    proposed_at: datetime
    due_at: datetime
    status: HandoffStatus = "proposed"
    reason: str | None = None
    outcome: str | None = None  # when the move it carries closes the case


@dataclass(frozen=True, slots=True)
class Deadline:
    """When the current state's time runs out. Level 1: owner reminded; 2: escalated."""

    due_at: datetime | None
    status: DeadlineStatus = "open"
    level: int = 0


@dataclass(frozen=True, slots=True)
class Signoff:
    """Signatures gathered for a transition that binds several institutions."""

    event: str
    transition: int
    names: tuple[str, ...]  # what must sign: kinds or codes, from the route
    signed: tuple[tuple[str, str], ...] = ()  # (name, institution code)
    # lead, reason, outcome, fields; and who proposed (by, institution) and when (at):
    # proposals recorded before these three were kept lack them
    proposal: tuple[tuple[str, Any], ...] = ()
    # who refused it and why (by, institution, reason, at): signatures are then void and the
    # proposal is its author's again, to propose anew or to withdraw
    refusal: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str) -> Any:
        return dict(self.proposal).get(key)

    @property
    def status(self) -> SignoffStatus:
        """``open`` (signatures awaited), ``refused`` (back with its author) or ``complete``
        (every signature given: it takes effect, or waits for its handoff's answer)."""
        if self.refusal:
            return "refused"
        done = {n for n, _ in self.signed}
        return "complete" if all(n in done for n in self.names) else "open"

    @property
    def author_institution(self) -> str | None:
        """Who proposed; for a proposal recorded without it, the first to sign."""
        named: str | None = self.get("institution")
        return named or (self.signed[0][1] if self.signed else None)

    @property
    def author(self) -> str | None:
        by: str | None = self.get("by")
        return by

    @property
    def proposed_at(self) -> datetime | None:
        at = self.get("at")
        return datetime.fromisoformat(at) if at else None

    @property
    def refusal_by(self) -> tuple[str, str]:
        r = dict(self.refusal)
        return (r.get("by", ""), r.get("institution", ""))

    @property
    def refusal_reason(self) -> str | None:
        return dict(self.refusal).get("reason")


@dataclass(frozen=True, slots=True)
class CaseState:
    id: str
    person: int  # the person's id
    route_id: str
    route_version: int
    state: str
    lead: str
    manager: str | None
    opened_at: datetime
    version: int = 1
    fields: dict[str, Any] = field(default_factory=dict)
    deadline: Deadline = Deadline(None)
    handoff: Handoff | None = None  # the pending one; decided ones live in the history
    signoff: Signoff | None = None
    transfers: int = 0
    handed_on: tuple[str, ...] = ()  # institutions that handed the lead on, in order
    partners: tuple[str, ...] = ()  # institutions recorded as taking part (domain.membership)
    left: tuple[str, ...] = ()  # institutions that left the case (partners_left), not back since
    refusals: int = 0  # handoffs of this case refused so far
    revolving_door: str | None = None  # why the case was flagged, if it was
    closed_at: datetime | None = None
    outcome: str | None = None
    last_hash: str = ""

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def escalated(self) -> bool:
        return self.deadline.level >= 2

    def but(self, **changes: Any) -> CaseState:
        return frozen.but(self, changes)
