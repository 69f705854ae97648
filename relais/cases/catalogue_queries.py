"""Occupancy figures: per programme and period, capacity, places held, free, cases waiting and
cost committed per payer; and the steering group's version, through the small-count rule of
every steering figure (``cases.steering.protect``: 1–4 shown as "<5", other counts rounded
to 5)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import TYPE_CHECKING, Any

from relais.conventions.catalogue import Occupancy, Period, Programme, Status, occupancy

from .steering.protect import BASE, shown
from .store.catalogue import Measure
from .store.uow import UnitOfWork

if TYPE_CHECKING:
    from .services import CaseServices

COST_ROUNDING = 1000  # CHF: a cost divided by a unit cost would give a count back


def occupancy_of(s: CaseServices, *, start: date | None = None, end: date | None = None,
                 code: str | None = None, within: UnitOfWork | None = None
                 ) -> list[tuple[Programme, Occupancy]]:
    """Every period of the programmes (or of ``code``) that overlaps [start, end]; read in
    ``within``, the caller's unit, or in one of its own."""
    window = Period(start or date.min, end or date.max)
    with s.units(write=False, within=within) as uow:
        store = uow.catalogue
        programmes = store.programmes(code)
        ids = store.place_ids(code)
        chosen = [(p, pl, ids[(p.code, pl.period.start)]) for p in programmes
                  for pl in p.places if pl.period.overlaps(window)]
        rows = store.of_places([place_id for *_, place_id in chosen])
    by_place: dict[int, list[Measure]] = defaultdict(list)
    for m in rows:
        by_place[m.place_id].append(m)
    out = []
    for programme, places, place_id in chosen:
        measures = by_place[place_id]
        assignments = [m.assignment() for m in measures
                       if m.status not in (Status.waiting, Status.withdrawn)]
        waiting = sum(m.status == Status.waiting for m in measures)
        out.append((programme, occupancy(places, assignments, waiting)))
    return out


def _protected(capacity: int, occupied: int, waiting: int) -> dict[str, Any]:
    """Capacity is a number of places, published as is; free places are not published:
    capacity minus free would give the exact count of people placed back."""
    return {"capacity": capacity, "occupied": shown(occupied), "waiting": shown(waiting)}


def steering_occupancy(s: CaseServices, *, start: date, end: date,
                       within: UnitOfWork | None = None) -> dict[str, Any]:
    """Aggregates for the steering group: no case, no person, no exact count of people."""
    figures = occupancy_of(s, start=start, end=end, within=within)
    by_type: dict[str, Counter[str]] = defaultdict(Counter)
    cost: Counter[str] = Counter()
    used: Counter[str] = Counter()
    programmes = []
    for programme, o in figures:
        kind = by_type[str(programme.type)]
        kind.update(capacity=o.capacity, occupied=o.occupied, waiting=o.waiting)
        cost.update(o.cost_by_payer)
        used.update(o.assignments_by_payer)
        programmes.append({
            "code": programme.code, "title": dict(programme.title),
            "type": str(programme.type), "provider": programme.provider,
            "period": {"from": o.period.start.isoformat(), "to": o.period.end.isoformat()},
            **_protected(o.capacity, o.occupied, o.waiting),
            "assignments": shown(o.assignments)})
    return {
        "from": start.isoformat(), "to": end.isoformat(), "programmes": programmes,
        "by_type": {k: _protected(c["capacity"], c["occupied"], c["waiting"])
                    for k, c in sorted(by_type.items())},
        "by_payer": {payer: {"assignments": shown(n), "cost_chf": _rounded(cost[payer])
                             if n >= BASE else None}
                     for payer, n in sorted(used.items())},
    }


def _rounded(chf: int) -> int:
    return COST_ROUNDING * ((chf + COST_ROUNDING // 2) // COST_ROUNDING)
