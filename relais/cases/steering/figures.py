"""The steering group's figures for a period and a route, as published: never a person,
never a count small enough to point at one (``protect``). The counts come from the steering
store (cases/store/steering.py), read in one snapshot."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from relais.cases.domain.errors import NotFound
from relais.cases.store.route_book import BoundRoutes
from relais.cases.store.steering import Scope
from relais.cases.store.uow import UnitOfWork
from relais.institutions.registry import Registry
from relais.workflows.engine.model import Route

from .protect import BASE, SMALL, shown, shown_by
from .triage import entry_checks, verdict

if TYPE_CHECKING:
    from relais.cases.services import CaseServices

DAY_S = 86400
BREACHES = ("deadline_reminded", "deadline_escalated", "handoff_expired")
ESCALATIONS = ("deadline_escalated", "handoff_expired")


@contextmanager
def snapshot(s: CaseServices, within: UnitOfWork | None = None) -> Iterator[UnitOfWork]:
    """One read unit, one snapshot, so that the figures of an answer agree with each other;
    or ``within``, the caller's (a snapshot already, when it needs one)."""
    with s.units(write=False, within=within) as uow:
        if within is None:
            uow.steering.snapshot()
        yield uow


def _routes(book: BoundRoutes, route: str | None) -> dict[tuple[str, int], Route]:
    published = book.versions()
    if route is not None and route not in published:
        raise NotFound(f"route inconnue « {route} » / unknown route", route=route)
    return {(rid, v): book.get(rid, v) for rid, versions in published.items()
            for v in versions if route in (None, rid)}


def _owners(routes: dict[tuple[str, int], Route]) -> dict[str, set[str]]:
    """Each state name, and the routes that have a state of that name."""
    owners: dict[str, set[str]] = {}
    for (rid, _), r in routes.items():
        for name in r.states:
            owners.setdefault(name, set()).add(rid)
    return owners


def _kind(registry: Registry, code: str) -> str:
    return registry.get(code).kind.value if code in registry else code


def _kinds(registry: Registry, by_code: Counter[str]) -> Counter[str]:
    out: Counter[str] = Counter()
    for code, n in by_code.items():
        out[_kind(registry, code)] += n
    return out


def indicators(s: CaseServices, *, start: datetime, end: datetime, route: str | None = None,
               within: UnitOfWork | None = None) -> dict[str, Any]:
    registry = s.registry
    scope = Scope(start, end, route)
    with snapshot(s, within) as uow:
        store = uow.steering
        routes = _routes(s.routes.on(uow), route)
        referred = store.referred(scope)
        checks = frozenset().union(*(entry_checks(r) for r in routes.values()))
        owners = _owners(routes)
        ambiguous = route is None and any(len(owners[name]) > 1 for name in checks)
        decided = store.decisions(scope, checks, by_route=ambiguous)
        events = store.by_state(scope, (*BREACHES, "handoff_refused"))
        leads, revolving = store.lead_changes(scope)
        closed = store.closed(scope)
        open_now = store.open_at_end(scope)
        stays = store.stays(scope, frozenset(owners))
    triage: Counter[str] = Counter()
    refused_by_state: Counter[str] = Counter()
    for (rid, version, left, entered), n in decided.items():
        rid = rid or route or min(owners[left])  # unambiguous: the one route with that state
        answer = verdict(routes[rid, version], left, entered) if (rid, version) in routes else None
        if answer is not None:
            triage[answer] += n
        if answer == "refused":
            refused_by_state[entered] += n
    breaches: Counter[str] = Counter()
    for (kind, state, _), n in events.items():
        if kind in BREACHES and state is not None:
            breaches[state] += n
    kind_total: Counter[str] = Counter()
    for (kind, _, _), n in events.items():
        kind_total[kind] += n
    without_outcome = Counter({state: n for (state, outcome), n in closed.items()
                               if outcome is None})
    return {
        "from": start.isoformat(), "to": end.isoformat(), "route": route,
        "referred": shown(sum(referred.values())),
        "referred_by": shown_by(referred),
        "referred_by_kind": shown_by(_kinds(registry, referred)),
        "accepted_at_triage": shown(triage["accepted"]),
        "refused_at_triage": shown(triage["refused"]),
        "refused_at_triage_by_state": shown_by(refused_by_state),
        "open": shown(sum(open_now.values())),
        "open_by_state": shown_by(open_now),
        "closed": shown(sum(closed.values())),
        "closed_by_outcome": shown_by(Counter({o: n for (_, o), n in closed.items()
                                               if o is not None})),
        "closed_with_outcome": shown(sum(n for (_, o), n in closed.items() if o is not None)),
        "closed_without_outcome_by_state": shown_by(without_outcome),
        "outside_criteria": shown(sum(without_outcome.values())),
        "durations": {state: {"stays": shown(st.count),
                              "median_days": round(st.median_s / DAY_S, 2),
                              "p90_days": round(st.p90_s / DAY_S, 2)}
                      for state, st in sorted(stays.items()) if st.count >= BASE},
        "transfers": shown(sum(leads.values())),
        "transfers_between_kinds": _flows(registry, leads),
        "refused_handoffs": shown(kind_total["handoff_refused"]),
        "deadline_breaches": shown(sum(kind_total[k] for k in BREACHES)),
        "deadline_breaches_by_state": shown_by(breaches),
        "escalations": shown(sum(kind_total[k] for k in ESCALATIONS)),
        "revolving_door_cases": shown(revolving),
        "small_counts": {"shown_as": SMALL, "below": BASE, "rounded_to": BASE},
    }


def _flows(registry: Registry, leads: Counter[tuple[str, str]]) -> list[dict[str, Any]]:
    moves: Counter[tuple[str, str]] = Counter()
    for (sender, receiver), n in leads.items():
        moves[_kind(registry, sender), _kind(registry, receiver)] += n
    return [{"from": a, "to": b, "count": shown(n)} for (a, b), n in sorted(moves.items())]


def flows(s: CaseServices, *, start: datetime, end: datetime, route: str | None = None,
          within: UnitOfWork | None = None) -> list[dict[str, Any]]:
    """Changes of lead between institution kinds in the period."""
    with snapshot(s, within) as uow:
        _routes(s.routes.on(uow), route)
        leads, _ = uow.steering.lead_changes(Scope(start, end, route))
    return _flows(s.registry, leads)
