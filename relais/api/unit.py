"""A request's one unit of work: its visibility check (the case row read once), its decision,
the read record and the disclosures of its answer, in one transaction; all or nothing.

Handlers that touch the database are plain ``def``: FastAPI runs them in its worker threads,
so that a statement waiting on a lock never holds the event loop (and every other request of
the process) behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from relais.cases.access import AccessPolicy
from relais.cases.domain.errors import StaleVersion
from relais.cases.services import UNPINNED_RETRIES
from relais.cases.store.uow import UnitOfWork

T = TypeVar("T")


def in_one_unit(p: AccessPolicy, work: Callable[[UnitOfWork], T]) -> T:
    """``work`` in a unit of its own. A caller who named no version did not decide on what it
    saw: when a concurrent writer takes the case's next event first (PostgreSQL; SQLite's
    writing unit holds the lock from its start), the whole unit is run again on the case as it
    now is, as the services do for a call without a unit."""
    for _ in range(UNPINNED_RETRIES):
        try:
            with p.unit() as uow:
                return work(uow)
        except StaleVersion:
            continue
    with p.unit() as uow:
        return work(uow)
