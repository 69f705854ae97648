"""Aggregates for the steering group: counts over cases and their history, never a person.

Counts from 1 to 4 are shown as "<5", so that no figure points at someone.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from institutions.registry import Registry

from .store.repository import case_t, event_t

BREACHES = ("deadline_reminded", "deadline_escalated", "handoff_expired")


def shown(n: int) -> int | str:
    return "<5" if 0 < n < 5 else n


def indicators(engine: Engine, *, start: datetime, end: datetime,
               route: str | None = None) -> dict[str, Any]:
    in_route = [case_t.c.route_id == route] if route else []
    with engine.connect() as conn:
        def grouped(column: Any, *where: Any) -> dict[str, int | str]:
            rows = conn.execute(select(column, func.count()).where(*in_route, *where)
                                .group_by(column))
            return {str(k): shown(n) for k, n in rows if k is not None}

        def count(*where: Any) -> int:
            return int(conn.execute(select(func.count()).select_from(case_t)
                                    .where(*in_route, *where)).scalar() or 0)

        def events(*kinds: str) -> int:
            query = (select(func.count()).select_from(event_t)
                     .join(case_t, case_t.c.id == event_t.c.case_id)
                     .where(*in_route, event_t.c.kind.in_(kinds), event_t.c.at >= start,
                            event_t.c.at < end))
            return int(conn.execute(query).scalar() or 0)

        opened = (case_t.c.opened_at >= start, case_t.c.opened_at < end)
        closed = (case_t.c.closed_at >= start, case_t.c.closed_at < end)
        return {
            "from": start.isoformat(), "to": end.isoformat(), "route": route,
            "referred": shown(count(*opened)),
            "referred_by": grouped(event_t.c.institution, event_t.c.kind == "case_opened",
                                   event_t.c.at >= start, event_t.c.at < end,
                                   event_t.c.case_id == case_t.c.id),
            "open_by_state": grouped(case_t.c.state, case_t.c.closed_at.is_(None),
                                     case_t.c.opened_at < end),
            "closed": shown(count(*closed)),
            "closed_by_outcome": grouped(case_t.c.outcome, *closed),
            "closed_without_outcome_by_state": grouped(case_t.c.state, *closed,
                                                       case_t.c.outcome.is_(None)),
            "transfers": shown(events("handoff_accepted")),
            "refused_handoffs": shown(events("handoff_refused")),
            "deadline_breaches": shown(events(*BREACHES)),
            "escalations": shown(events("deadline_escalated", "handoff_expired")),
            "revolving_door_cases": shown(count(case_t.c.revolving_door.is_not(None),
                                                case_t.c.opened_at < end)),
        }


def flows(engine: Engine, registry: Registry, *, start: datetime, end: datetime
          ) -> list[dict[str, Any]]:
    """Lead transfers between institution kinds in the period."""
    query = (select(event_t.c.data).where(event_t.c.kind == "handoff_accepted",
                                          event_t.c.at >= start, event_t.c.at < end))
    moves: Counter[tuple[str, str]] = Counter()
    with engine.connect() as conn:
        for (data,) in conn.execute(query):
            sender, receiver = data["handed_on"][-1], data["lead"]
            kinds = [registry.get(c).kind.value if c in registry else c
                     for c in (sender, receiver)]
            moves[(kinds[0], kinds[1])] += 1
    return [{"from": a, "to": b, "count": shown(n)} for (a, b), n in sorted(moves.items())]
