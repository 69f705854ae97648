"""Aggregates for the steering group: figures over the event history, never a person.

``figures`` assembles them from the steering store's counts (cases/store/steering.py: one
GROUP BY each, over the period's events, read in one unit of work), ``triage`` reads a
route's entry check, and ``protect`` is the small-count rule every published count goes
through. Definitions: docs/architecture.md,
"Steering figures".
"""

from .figures import BREACHES, ESCALATIONS, flows, indicators, snapshot
from .protect import BASE, SMALL, shown

__all__ = ["BASE", "BREACHES", "ESCALATIONS", "SMALL", "flows", "indicators", "shown",
           "snapshot"]
