"""Aggregates for the steering group: figures over the event history, never a person.

``figures`` assembles them, ``counts`` and ``durations`` hold the SQL (one GROUP BY each,
over the period's events), ``triage`` reads a route's entry check, and ``protect`` is the
small-count rule every published count goes through. Definitions: docs/architecture.md,
"Steering figures".
"""

from .figures import flows, indicators
from .protect import BASE, SMALL, shown

__all__ = ["BASE", "SMALL", "flows", "indicators", "shown"]
