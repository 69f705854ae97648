"""What the steering figures read of an event, recorded beside it when it is written.

Derived data, outside the hash chain (``Event.canonical`` does not cover it): each value is
a function of the case's history up to and including the event, so the migration that added
the columns (0009) computes them again from the history, and so can an audit.

- ``entered_at``: on a move that ends a stay (a ``transitioned`` or ``handoff_accepted``
  into another state), the moment the state it leaves was entered, i.e. the ``at`` of the
  case's last earlier move into a state (``case_opened``, or a ``transitioned`` or
  ``handoff_accepted`` that changed the state; a self-loop or a route migration is not one).
  A stay is then ``at - entered_at``, grouped by ``from_state``, with no look-back.
- ``lead_from``, ``lead_to``, ``revolving_door``: on a change of lead (an accepted handoff,
  an escalation settled with or without a new lead), the institution that handed the case on
  (``handed_on[-1]``), the new lead (``lead``), and whether the change flagged the case as
  revolving door; the same values ``data``'s JSON holds, as columns an index can carry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

# moves into a state, as cases/steering reads them (tables.STEERING_MOVES is this list in SQL)
ENTERS = ("case_opened", "transitioned", "handoff_accepted")
LEAD_CHANGES = ("handoff_accepted", "escalation_settled")
COLUMNS = ("entered_at", "lead_from", "lead_to", "revolving_door")


def enters_state(kind: str, from_state: str | None, to_state: str | None) -> bool:
    """A move into a state: it starts a stay (and ends one, unless it opens the case)."""
    # as SQL reads ``from_state IS NULL OR from_state <> to_state`` (a null is never unequal)
    return kind in ENTERS and (from_state is None
                               or (to_state is not None and from_state != to_state))


def ends_stay(kind: str, from_state: str | None, to_state: str | None) -> bool:
    return from_state is not None and enters_state(kind, from_state, to_state)


def columns(kind: str, from_state: str | None, to_state: str | None, data: dict[str, Any],
            entered: datetime | None) -> dict[str, Any]:
    """The derived columns of one event; ``entered``: when the case entered the state it is
    in before this event (read only for a move that ends a stay)."""
    values: dict[str, Any] = dict.fromkeys(COLUMNS)
    if ends_stay(kind, from_state, to_state):
        if entered is None:
            raise ValueError(f"{kind} out of {from_state}: no move into that state before it")
        values["entered_at"] = entered
    if kind in LEAD_CHANGES:
        handed_on = data.get("handed_on") or []
        values["lead_from"] = handed_on[-1] if handed_on else None
        values["lead_to"] = data.get("lead")
        values["revolving_door"] = data.get("revolving_door") is not None
    return values


class StayClock:
    """Follows one case's moves in order: when its current state was entered."""

    def __init__(self, entered: datetime | None = None) -> None:
        self.entered = entered

    def columns(self, kind: str, from_state: str | None, to_state: str | None, at: datetime,
                data: dict[str, Any]) -> dict[str, Any]:
        """The derived columns of the case's next event, and the clock moved past it."""
        values = columns(kind, from_state, to_state, data, self.entered)
        if enters_state(kind, from_state, to_state):
            self.entered = at
        return values
