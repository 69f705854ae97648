"""The services the orchestration works through: the outbox's rows under a lease, the case
as the event that queued an action left it, the ledger of the action's visible effects, and
its result recorded as an event. The orchestration (``orchestration/``) imports these and
never the store.

An action costs, on SQLite: one statement to read its case, one per visible effect
recorded, and one unit of work that records its result (the case row it read is passed on,
not read again). See docs/architecture.md, "The cost of one action".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

from relais.workflows.engine.model import Route, StateSpec

from .domain.case import CaseState
from .domain.events import Event, keeps_case, replay
from .domain.person import Person
from .domain.results import Document, Task
from .services import CaseServices, Outcome
from .store.action_rows import ActionRows
from .store.outbox import Outbox, Work

__all__ = ["CaseAt", "OutboxServices", "Work"]


@dataclass(eq=False)
class CaseAt:
    """A case as event ``event`` left it: an action works from the event that queued it, not
    from the case as it is now, so that a retried action says the same words and a case
    that moved on meanwhile is described as it was."""

    case: CaseState  # after the event
    event: Event
    route: Route
    person: Person
    row: CaseState  # the case row as read: the version the unit recording the result expects
    _history: Any = field(repr=False)  # () -> list[Event], read only when ``before`` is

    @property
    def state(self) -> StateSpec:
        return self.route.states[self.case.state]

    @property
    def ref(self) -> str:
        """The reference people quote: year of opening and the start of the case's id."""
        return f"{self.case.opened_at.year}-{self.case.id[:6].upper()}"

    @cached_property
    def before(self) -> CaseState | None:
        """The case before the event (a reminder's deadline, a handoff's parties): the
        history replayed up to it, read only by the actions that ask."""
        return replay(self._history()[:self.event.seq - 1])


class OutboxServices:
    def __init__(self, services: CaseServices) -> None:
        self.services = services
        self.outbox = Outbox(services.engine)
        self.rows = ActionRows(services.engine)

    # -- the outbox: rows under a lease ---------------------------------------------------

    def claim(self, worker: str, *, limit: int, lease: timedelta) -> list[Work]:
        return self.outbox.claim(worker, self.services.clock(), limit=limit, lease=lease)

    def complete(self, work: Work, worker: str) -> bool:
        """Mark done; False when the lease was lost (another worker has the row now)."""
        return self.outbox.complete(work, worker, self.services.clock())

    def fail(self, work: Work, worker: str, error: str) -> str:
        """Back to the queue with a growing delay, or ``failed`` after the last attempt."""
        return self.outbox.fail(work, worker, self.services.clock(), error)

    def renew(self, works: list[Work], worker: str, lease: timedelta) -> int:
        return self.outbox.renew(works, worker, self.services.clock() + lease)

    def release(self, work: Work, worker: str) -> None:
        self.outbox.release(work, worker)

    # -- one action ---------------------------------------------------------------------

    def case_at(self, case_id: str, seq: int) -> CaseAt:
        """The case as event ``seq`` left it. The case row suffices when nothing but
        results (``keeps_case``) was recorded since: one statement; else its history is
        replayed up to the event."""
        found = self.rows.case_at(case_id, seq)
        if found is None:
            raise LookupError(f"case {case_id} has no event {seq}")
        now, event, person = found
        after: CaseState | None = now
        if now.version != seq:
            later = self.rows.events_after(case_id, seq)
            if all(keeps_case(e) for e in later):
                after = now.but(version=seq, last_hash=event.hash)
            else:
                after = replay(self.services.history(case_id)[:seq])
        assert after is not None
        return CaseAt(after, event, self.services.route_of(after), person, now,
                      lambda: self.services.history(case_id))

    def effects_done(self, key: str, attempt: int | None) -> dict[str, dict[str, Any]]:
        """What the action ``key`` did already, by effect key. At its first attempt (the
        outbox counts them) nothing can be on record: no statement is needed to know it."""
        return {} if attempt == 1 else self.rows.effects(key)

    def record_effect(self, key: str, *, action: str, case_id: str,
                      result: dict[str, Any]) -> dict[str, Any]:
        """A visible effect done (a mail sent), on record before the next one is tried; the
        result on record (another worker's, when it recorded the same key first)."""
        return self.rows.add_effect(key, action=action, case_id=case_id, result=result,
                                    at=self.services.clock())

    def record_action(self, at: CaseAt, *, key: str, action: str, summary: dict[str, Any],
                      documents: Sequence[Document] = (), tasks: Sequence[Task] = ()
                      ) -> Outcome:
        """The action's result as one event, once per ``key``, in one unit of work that
        starts from the case row ``at`` was read from (stale: read again)."""
        return self.services.record_action(at.event.case_id, key=key, action=action,
                                           summary=summary, documents=documents, tasks=tasks,
                                           loaded=at.row)
