"""The catalogue's rows: programmes, their places by period, and the measures of cases.

A place row is the lock of its period: whoever gives a place, or checks that one is free,
first takes ``SELECT … FOR UPDATE`` on it (PostgreSQL; SQLite's writers are serialised by
BEGIN IMMEDIATE already), then counts, in the same transaction as the case's event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from relais.cases.domain.errors import Conflict
from relais.conventions.catalogue import (
    HOLDS_PLACE,
    Assignment,
    Period,
    Places,
    Programme,
    ProgrammeType,
    Status,
    WaitingEntry,
)

from .codec import aware
from .tables import (
    measure_t,
    place_t,
    programme_t,
)

OPEN = (Status.waiting, Status.planned, Status.active)
_HELD = [str(s) for s in HOLDS_PLACE]


@dataclass(frozen=True)
class Measure:
    """A case_measure row with its period."""

    id: str
    case_id: str
    programme: str
    place_id: int
    period: Period
    status: Status
    queue_no: int
    offered: bool
    payer: str
    starts_on: date
    ends_on: date | None
    ended_on: date | None
    unit_cost_chf: int
    since: datetime

    def assignment(self) -> Assignment:
        return Assignment(self.id, self.case_id, self.programme, self.period, self.starts_on,
                          self.ends_on or self.starts_on, self.payer, self.status,
                          self.unit_cost_chf, self.offered, self.ended_on)

    def waiting(self, position: int) -> WaitingEntry:
        return WaitingEntry(self.id, self.case_id, self.programme, self.period, self.since,
                            position, self.starts_on, self.payer)


@dataclass
class LoadReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    places_added: int = 0
    places_changed: int = 0
    place_ids: list[int] = field(default_factory=list)  # new or changed: offer what is free


_MEASURE_COLUMNS = [measure_t.c[n] for n in (
    "id", "case_id", "programme", "place_id", "status", "queue_no", "offered", "payer",
    "starts_on", "ends_on", "ended_on", "unit_cost_chf", "since")]


class CatalogueStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- programmes and places --------------------------------------------------------------

    def programmes(self, code: str | None = None) -> list[Programme]:
        query = select(programme_t).order_by(programme_t.c.code)
        places_q = select(place_t).order_by(place_t.c.programme, place_t.c.period_start)
        if code is not None:
            query = query.where(programme_t.c.code == code)
            places_q = places_q.where(place_t.c.programme == code)
        places: dict[str, list[Places]] = {}
        for r in self.conn.execute(places_q):
            places.setdefault(r.programme, []).append(
                Places(r.programme, Period(r.period_start, r.period_end), r.capacity))
        return [Programme(code=r.code, title=dict(r.title), provider=r.provider,
                          type=ProgrammeType(r.type), payer=r.payer,
                          unit_cost_chf=r.unit_cost_chf, duration_months=r.duration_months,
                          routes=tuple(r.routes), eligibility=r.eligibility,
                          places=tuple(places.get(r.code, ())))
                for r in self.conn.execute(query)]

    def place_id(self, code: str, start: date) -> int | None:
        return self.conn.execute(select(place_t.c.id).where(
            place_t.c.programme == code, place_t.c.period_start == start)).scalar()

    def place_ids(self, code: str | None = None) -> dict[tuple[str, date], int]:
        query = select(place_t.c.id, place_t.c.programme, place_t.c.period_start)
        if code is not None:
            query = query.where(place_t.c.programme == code)
        return {(r.programme, r.period_start): r.id for r in self.conn.execute(query)}

    def capacity(self, place_id: int, *, lock: bool = False) -> int:
        """A period's capacity; ``lock``: and its lock, until the transaction ends."""
        query = select(place_t.c.capacity).where(place_t.c.id == place_id)
        return int(self.conn.execute(query.with_for_update() if lock else query).scalar_one())

    def lock_place(self, place_id: int) -> int:
        return self.capacity(place_id, lock=True)

    def save(self, programmes: list[Programme], now: datetime, *,
             only_new: bool = False) -> LoadReport:
        """Add new programmes and periods; update changed ones unless ``only_new`` (the
        shipped seed never overwrites what an operator loaded)."""
        report = LoadReport()
        existing = {p.code: p for p in self.programmes()}
        for p in programmes:
            values = {"title": dict(p.title), "provider": p.provider, "type": str(p.type),
                      "payer": p.payer, "unit_cost_chf": p.unit_cost_chf,
                      "duration_months": p.duration_months, "routes": list(p.routes),
                      "eligibility": p.eligibility, "updated_at": now}
            old = existing.get(p.code)
            if old is None:
                self.conn.execute(insert(programme_t).values(code=p.code, **values))
                report.added.append(p.code)
            elif not only_new and _differs(old, p):
                self.conn.execute(update(programme_t).where(programme_t.c.code == p.code)
                                  .values(**values))
                report.changed.append(p.code)
            self._save_places(p, old, report, only_new)
        return report

    def _save_places(self, p: Programme, old: Programme | None, report: LoadReport,
                     only_new: bool) -> None:
        before = {pl.period.start: pl for pl in (old.places if old else ())}
        for pl in p.places:
            prior = before.get(pl.period.start)
            clash = next((o for o in before.values() if o.period.start != pl.period.start
                          and o.period.overlaps(pl.period)), None)
            if clash is not None and only_new:
                continue  # the seed leaves an operator's periods alone
            if clash is not None:
                raise Conflict(f"{p.code} : la période {pl.period.start} – {pl.period.end} "
                               f"chevauche {clash.period.start} – {clash.period.end}, déjà "
                               f"enregistrée / overlaps a stored period", programme=p.code)
            if prior is None:
                key = self.conn.execute(insert(place_t).values(
                    programme=p.code, period_start=pl.period.start,
                    period_end=pl.period.end, capacity=pl.capacity)).inserted_primary_key
                assert key is not None
                report.place_ids.append(int(key[0]))
                report.places_added += 1
            elif prior != pl and not only_new:
                place_id = self.place_id(p.code, pl.period.start)
                assert place_id is not None
                self.conn.execute(update(place_t).where(place_t.c.id == place_id).values(
                    period_end=pl.period.end, capacity=pl.capacity))
                report.place_ids.append(place_id)
                report.places_changed += 1

    # -- measures ---------------------------------------------------------------------------

    def _measures(self, *where: Any) -> list[Measure]:
        query = (select(*_MEASURE_COLUMNS, place_t.c.period_start, place_t.c.period_end)
                 .join(place_t, place_t.c.id == measure_t.c.place_id)
                 .where(*where).order_by(measure_t.c.queue_no, measure_t.c.since))
        return [Measure(r.id, r.case_id, r.programme, r.place_id,
                        Period(r.period_start, r.period_end), Status(r.status), r.queue_no,
                        bool(r.offered), r.payer, r.starts_on, r.ends_on, r.ended_on,
                        r.unit_cost_chf, aware(r.since)) for r in self.conn.execute(query)]

    def measure(self, measure_id: str) -> Measure | None:
        found = self._measures(measure_t.c.id == measure_id)
        return found[0] if found else None

    def of_case(self, case_id: str) -> list[Measure]:
        return self._measures(measure_t.c.case_id == case_id)

    def of_places(self, place_ids: list[int]) -> list[Measure]:
        return self._measures(measure_t.c.place_id.in_(place_ids)) if place_ids else []

    def waiting(self, place_id: int) -> list[Measure]:
        """The waiting list of a period, first come first."""
        return self._measures(measure_t.c.place_id == place_id,
                              measure_t.c.status == str(Status.waiting))

    def counts(self, place_id: int) -> tuple[int, int]:
        """(places held, cases waiting) in a period."""
        rows = self.conn.execute(select(measure_t.c.status, func.count())
                                 .where(measure_t.c.place_id == place_id,
                                        measure_t.c.status.in_([*_HELD, "waiting"]))
                                 .group_by(measure_t.c.status))
        by = {status: int(n) for status, n in rows}
        return sum(by.get(s, 0) for s in _HELD), by.get("waiting", 0)

    def open_in(self, case_id: str, place_id: int) -> bool:
        """Does the case already wait for, or hold, a place in this period?"""
        return self.conn.execute(select(measure_t.c.id).where(
            measure_t.c.case_id == case_id, measure_t.c.place_id == place_id,
            measure_t.c.status.in_([str(s) for s in OPEN])).limit(1)).first() is not None

    def add(self, *, measure_id: str, case_id: str, programme: str, place_id: int,
            status: Status, payer: str, starts_on: date, ends_on: date | None,
            unit_cost_chf: int, now: datetime) -> None:
        last = self.conn.execute(select(func.max(measure_t.c.queue_no))
                                 .where(measure_t.c.place_id == place_id)).scalar()
        self.conn.execute(insert(measure_t).values(
            id=measure_id, case_id=case_id, programme=programme, place_id=place_id,
            status=str(status), queue_no=int(last or 0) + 1, offered=False, payer=payer,
            starts_on=starts_on, ends_on=ends_on, unit_cost_chf=unit_cost_chf, since=now,
            updated_at=now))

    def change(self, measure_id: str, was: Status, now: datetime, **values: Any) -> bool:
        """Move a measure on from status ``was``; False if someone moved it first."""
        values = {k: str(v) if isinstance(v, Status) else v for k, v in values.items()}
        done = self.conn.execute(update(measure_t).where(
            measure_t.c.id == measure_id, measure_t.c.status == str(was))
            .values(updated_at=now, **values))
        return bool(done.rowcount == 1)


def _differs(old: Programme, new: Programme) -> bool:
    keys = ("title", "provider", "type", "payer", "unit_cost_chf", "duration_months", "routes",
            "eligibility")
    return any(getattr(old, k) != getattr(new, k) for k in keys)
