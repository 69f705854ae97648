"""The handoff of the lead: a small fixed state machine.

    proposed ──accept──▶ accepted
        ├──refuse───▶ refused    (needs a reason; the sender stays lead)
        ├──expire───▶ expired    (nobody answered in time: escalates)
        └──withdraw─▶ withdrawn  (the sender takes it back)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from statemachine import State, StateMachine

from relais.i18n import bi

from .case import CaseState, Handoff
from .errors import Conflict, NotFound


class HandoffLifecycle(StateMachine):
    proposed = State("Proposé / Proposed", initial=True)
    accepted = State("Accepté / Accepted", final=True)
    refused = State("Refusé / Refused", final=True)
    expired = State("Échu / Expired", final=True)
    withdrawn = State("Retiré / Withdrawn", final=True)

    accept = proposed.to(accepted)
    refuse = proposed.to(refused)
    expire = proposed.to(expired)
    withdraw = proposed.to(withdrawn)


# The lifecycle's moves, read once from the machine's definition: an instance of it costs
# a millisecond (its queues and locks), as much as the rest of an accepted handoff together.
_MOVES = {(t.source.id, str(event)): t.target.id
          for s in HandoffLifecycle.states for t in s.transitions for event in t.events}


class HandoffMachine:
    @staticmethod
    def propose(hid: str, sender: str, receiver: str, event: str, to_state: str,
                now: datetime, due: datetime, outcome: str | None) -> Handoff:
        if sender == receiver:
            raise Conflict("un transfert va vers une autre institution / a handoff goes to "
                           "another institution")
        return Handoff(hid, sender, receiver, event, to_state, now, due, "proposed", None,
                       outcome)

    @staticmethod
    def pending(case: CaseState) -> Handoff:
        if case.handoff is None:
            raise NotFound("aucun transfert en attente sur ce cas / no pending handoff")
        return case.handoff

    @staticmethod
    def move(h: Handoff, event: str) -> Handoff:
        """The handoff after ``event``; Conflict when the lifecycle does not allow it."""
        target = _MOVES.get((h.status, event))
        if target is None:
            raise Conflict(bi("ce transfert est déjà %(status)s",
                              "this handoff is already %(status)s", status=h.status))
        return replace(h, status=target)
