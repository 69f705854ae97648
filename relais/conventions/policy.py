"""The network's agreed limits, which the collaboration agreement sets (not the law)."""

from __future__ import annotations

from dataclasses import dataclass, field

from relais.workflows.engine.durations import Duration


@dataclass(frozen=True, slots=True)
class Policy:
    # the CII coordination: receives escalations, runs triage
    coordination: str = "CII-NE"
    # a case whose lead changed more often than this is a revolving-door case
    revolving_door_transfers: int = 3
    # after a reminder, how long the owner has before the coordination is alerted
    reminder_grace: Duration = field(default_factory=lambda: Duration(2, "working_days"))
    # refused handoffs of one case before the coordination must settle competence
    refusals_before_escalation: int = 2


DEFAULT_POLICY = Policy()
