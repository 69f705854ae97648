"""What every rule needs: the route, its machine, the registry, the agreement, the time;
the actor's input; and how a rule drafts an event."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from relais.conventions.data_sharing import Consent
from relais.conventions.policy import Policy
from relais.institutions.calendar import WorkingCalendar, calendar
from relais.institutions.registry import Registry
from relais.workflows.engine.compile import RouteMachine
from relais.workflows.engine.model import Route, StateSpec

from .actors import Actor
from .consent import GuardValues, consent_values
from .events import Event, EventKind
from .fields import guard_view
from .payloads import Entering, Payload

DEADLINE_PASSED = "délai échu / deadline passed"


@dataclass(frozen=True)
class Context:
    route: Route
    machine: RouteMachine
    registry: Registry
    policy: Policy
    now: datetime
    # the case's consent records, loaded when a guard reads a consent field
    consents: Callable[[], tuple[Consent, ...]] = tuple

    def guard_values(self, stored: dict[str, Any]) -> Mapping[str, Any]:
        """The case's values as its guards read them, its consent fields computed."""
        viewed = guard_view(self.route, stored)
        names = frozenset(f.name for f in self.route.consent_fields)
        if not names:
            return viewed
        return GuardValues(viewed, names, lambda: consent_values(
            self.route, self.consents(), self.registry, self.calendar.today(self.now)))

    @property
    def calendar(self) -> WorkingCalendar:
        return calendar(self.route.calendar)

    def due(self, state: StateSpec) -> str | None:
        if state.deadline is None:
            return None
        return state.deadline.due_after(self.now, self.calendar).isoformat()


@dataclass(frozen=True)
class EventInput:
    reason: str | None = None
    outcome: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    lead: str | None = None  # the receiver, where the transition says `lead: choose`


def draft(ctx: Context, case_id: str, kind: EventKind, actor: Actor, *,
          event: str | None = None, from_state: str | None = None,
          to_state: str | None = None, reason: str | None = None,
          data: Payload | None = None) -> Event:
    """An event to record; ``data`` is the kind's payload (``payloads``), stored as JSON."""
    return Event(case_id=case_id, seq=0, at=ctx.now, kind=kind, actor=actor.user,
                 institution=actor.institution, event=event, from_state=from_state,
                 to_state=to_state, reason=reason,
                 data=cast(dict[str, Any], data) if data is not None else {},
                 route_version=ctx.route.version)


def entering(ctx: Context, target: StateSpec, actions: tuple[str, ...], outcome: str | None,
              new_fields: dict[str, Any] | None = None) -> Entering:
    data = Entering(deadline_at=ctx.due(target), actions=list(actions))
    if new_fields:
        data["fields"] = new_fields
    if target.final:
        data["closed"] = True
        data["outcome"] = outcome
    return data


def lag(ctx: Context, due: datetime) -> float:
    return round((ctx.now - due).total_seconds(), 3)
