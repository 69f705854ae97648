"""The steering group's figures for a period and a route, as published: never a person,
never a count small enough to point at one (``protect``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

from cases.domain.errors import NotFound
from cases.store.route_book import RouteBook
from institutions.registry import Registry
from workflows.engine.model import Route

from . import counts, durations
from .counts import BREACHES, ESCALATIONS, Scope
from .protect import BASE, SMALL, shown, shown_by
from .triage import entry_checks, verdict

DAY_S = 86400


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """One read transaction, so that the figures of an answer agree with each other."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if conn.dialect.name == "postgresql":
                # the stays sort in memory; compiling these one-off plans (JIT) costs more
                # than it saves
                conn.execute(text("SET LOCAL work_mem = '64MB'"))
                conn.execute(text("SET LOCAL jit = off"))
            yield conn


def _routes(conn: Connection, book: RouteBook, route: str | None) -> dict[tuple[str, int], Route]:
    published = book.versions(conn)
    if route is not None and route not in published:
        raise NotFound(f"route inconnue « {route} » / unknown route", route=route)
    return {(rid, v): book.get(conn, rid, v) for rid, versions in published.items()
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


def indicators(engine: Engine, book: RouteBook, registry: Registry, *, start: datetime,
               end: datetime, route: str | None = None) -> dict[str, Any]:
    with _snapshot(engine) as conn:
        scope = Scope(start, end, route, conn.dialect.name == "postgresql")
        routes = _routes(conn, book, route)
        referred = counts.referred(conn, scope)
        checks = frozenset().union(*(entry_checks(r) for r in routes.values()))
        owners = _owners(routes)
        ambiguous = route is None and any(len(owners[name]) > 1 for name in checks)
        decided = counts.decisions(conn, scope, checks, by_route=ambiguous)
        events = counts.by_state(conn, scope, (*BREACHES, "handoff_refused"))
        leads, revolving = counts.lead_changes(conn, scope)
        closed = counts.closed(conn, scope)
        open_now = counts.open_at_end(conn, scope)
        stays = durations.stays(conn, scope, frozenset(owners))
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
        "durations": {state: {"stays": shown(s.count), "median_days": round(s.median_s / DAY_S, 2),
                              "p90_days": round(s.p90_s / DAY_S, 2)}
                      for state, s in sorted(stays.items()) if s.count >= BASE},
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


def flows(engine: Engine, book: RouteBook, registry: Registry, *, start: datetime,
          end: datetime, route: str | None = None) -> list[dict[str, Any]]:
    """Changes of lead between institution kinds in the period."""
    with _snapshot(engine) as conn:
        _routes(conn, book, route)
        leads, _ = counts.lead_changes(
            conn, Scope(start, end, route, conn.dialect.name == "postgresql"))
    return _flows(registry, leads)
