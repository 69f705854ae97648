"""The outbox seen from the dispatcher: claim work under a lease, complete it, or retry it
later; and the ledger of visible effects that makes a retried action act only once.

A worker that dies leaves its rows ``dispatched`` with a lease that runs out: the next
claim takes them again. Only the holder of the lease may complete a row. On PostgreSQL
claimers skip each other's locked rows; SQLite serialises them (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from relais.cases.store.tables import outbox_t

from . import WRITE
from .tables import effect_t

MAX_ATTEMPTS = 8
BACKOFF = timedelta(seconds=30)  # doubled at each failure: 30 s, 1 min, 2 min... ~1 h


@dataclass(frozen=True)
class Work:
    id: int
    key: str
    case_id: str
    seq: int
    action: str
    payload: dict[str, Any]
    attempts: int


class OutboxRows:
    """The outbox in one unit of work: what a dispatcher claims, completes, renews, gives
    back or fails."""

    def __init__(self, conn: Connection, *, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.conn = conn
        self.max_attempts = max_attempts

    def claim(self, worker: str, now: datetime, *, limit: int = 50,
              lease: timedelta = timedelta(minutes=5)) -> list[Work]:
        """Rows ready now, leased to ``worker`` (in a writing unit: SQLite serialises the
        claimers, PostgreSQL lets them skip each other's locked rows)."""
        ready = or_(and_(outbox_t.c.status == "pending",
                         or_(outbox_t.c.not_before.is_(None), outbox_t.c.not_before <= now)),
                    and_(outbox_t.c.status == "dispatched", outbox_t.c.lease_until < now))
        query = select(outbox_t).where(ready).order_by(outbox_t.c.id).limit(limit)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(self.conn.execute(query))
        if rows:
            self.conn.execute(update(outbox_t).where(outbox_t.c.id.in_([r.id for r in rows]))
                              .values(status="dispatched", claimed_by=worker,
                                      lease_until=now + lease,
                                      attempts=outbox_t.c.attempts + 1))
        return [Work(r.id, r.idempotency_key, r.case_id, r.seq, r.action, r.payload,
                     r.attempts + 1) for r in rows]

    def _held(self, work: Work, worker: str) -> Any:
        return and_(outbox_t.c.id == work.id, outbox_t.c.status == "dispatched",
                    outbox_t.c.claimed_by == worker)

    def complete(self, work: Work, worker: str, now: datetime) -> bool:
        """Mark done; False when the lease was lost (another worker has the row now)."""
        done = self.conn.execute(update(outbox_t).where(self._held(work, worker))
                                 .values(status="done", done_at=now, lease_until=None))
        return bool(done.rowcount == 1)

    def renew(self, works: list[Work], worker: str, until: datetime) -> int:
        """Extend the lease of the rows this worker still holds: it is alive and working.
        The rows it no longer holds (done, or taken over) are left alone."""
        return int(self.conn.execute(update(outbox_t).where(
            outbox_t.c.id.in_([w.id for w in works]), outbox_t.c.status == "dispatched",
            outbox_t.c.claimed_by == worker).values(lease_until=until)).rowcount)

    def holders(self, prefix: str) -> list[str]:
        """The workers named ``prefix…`` that hold rows now."""
        return [r[0] for r in self.conn.execute(
            select(outbox_t.c.claimed_by).distinct().where(
                outbox_t.c.status == "dispatched",
                outbox_t.c.claimed_by.startswith(prefix, autoescape=True)))]

    def release_all(self, worker: str) -> int:
        """Give back every row ``worker`` holds (it is known to be dead)."""
        return int(self.conn.execute(update(outbox_t).where(
            outbox_t.c.status == "dispatched", outbox_t.c.claimed_by == worker)
            .values(status="pending", claimed_by=None, lease_until=None)).rowcount)

    def release(self, work: Work, worker: str) -> None:
        """Give back a row this worker claimed but will not run (it is stopping): at once,
        without waiting for the lease, and without counting an attempt."""
        self.conn.execute(update(outbox_t).where(self._held(work, worker))
                          .values(status="pending", claimed_by=None, lease_until=None,
                                  attempts=outbox_t.c.attempts - 1))

    def fail(self, work: Work, worker: str, now: datetime, error: str) -> str:
        """Put it back with a growing delay, or give up (``failed``) after max attempts."""
        give_up = work.attempts >= self.max_attempts
        values: dict[str, Any] = {"status": "failed" if give_up else "pending",
                                  "last_error": error[:2000], "lease_until": None,
                                  "not_before": None if give_up else
                                  now + BACKOFF * 2 ** (work.attempts - 1)}
        self.conn.execute(update(outbox_t).where(self._held(work, worker)).values(values))
        return str(values["status"])

    def settle_past(self, before: datetime, now: datetime, note: str) -> int:
        """Mark done, without running them, the waiting rows created before ``before``, each
        with ``note`` in its payload (``not_run``); how many. For a history written in the
        past (the demonstration's): its actions are not to be run all at once now, years
        late. Rows created since ``before`` keep waiting: the dispatcher runs them."""
        rows = list(self.conn.execute(select(outbox_t.c.id, outbox_t.c.payload).where(
            outbox_t.c.status == "pending", outbox_t.c.created_at < before)))
        if rows:
            self.conn.execute(update(outbox_t).where(outbox_t.c.id == bindparam("row"))
                              .values(status="done", done_at=now, payload=bindparam("note")),
                              [{"row": r.id, "note": {**r.payload, "not_run": note}}
                               for r in rows])
        return len(rows)


# what an operator may list, and what each operator's command may move
LISTED = ("pending", "dispatched", "done", "failed", "cancelled")
RETRIABLE = ("failed", "cancelled")
CANCELLABLE = ("pending", "failed")  # a row a worker holds ends by its hand, not by an UPDATE


class OperatorRows:
    """The outbox as an operator handles it (``relais outbox``): list rows, run failed or
    cancelled ones again, cancel waiting ones; each change says who and why in the row."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def listing(self, status: str | None, limit: int) -> list[dict[str, Any]]:
        query = select(outbox_t.c.id, outbox_t.c.idempotency_key, outbox_t.c.case_id,
                       outbox_t.c.seq, outbox_t.c.action, outbox_t.c.status,
                       outbox_t.c.attempts, outbox_t.c.created_at, outbox_t.c.not_before,
                       outbox_t.c.claimed_by, outbox_t.c.last_error)
        if status is not None:
            query = query.where(outbox_t.c.status == status)
        rows = self.conn.execute(query.order_by(outbox_t.c.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]

    def _move(self, ids: list[int], statuses: tuple[str, ...], values: dict[str, Any],
              note: dict[str, Any]) -> list[int]:
        rows = list(self.conn.execute(select(outbox_t.c.id, outbox_t.c.payload).where(
            outbox_t.c.id.in_(ids), outbox_t.c.status.in_(statuses))))
        if rows:
            self.conn.execute(update(outbox_t).where(outbox_t.c.id == bindparam("row"))
                              .values(**values, payload=bindparam("noted")),
                              [{"row": r.id, "noted": {**(r.payload or {}),
                                                       "operator": [*(r.payload or {}).get(
                                                           "operator", []), note]}}
                               for r in rows])
        return sorted(r.id for r in rows)

    def retry(self, ids: list[int], *, by: str, reason: str, now: datetime) -> list[int]:
        """Failed or cancelled rows wait again, from their first attempt (the effects
        ledger keeps what they already did from being done twice)."""
        return self._move(ids, RETRIABLE, {"status": "pending", "attempts": 0,
                                           "not_before": None, "done_at": None},
                          {"retried_by": by, "reason": reason, "at": now.isoformat()})

    def cancel(self, ids: list[int], *, by: str, reason: str, now: datetime) -> list[int]:
        return self._move(ids, CANCELLABLE, {"status": "cancelled", "done_at": now,
                                             "not_before": None},
                          {"cancelled_by": by, "reason": reason, "at": now.isoformat()})

    def ids_with(self, status: str) -> list[int]:
        return [r[0] for r in self.conn.execute(
            select(outbox_t.c.id).where(outbox_t.c.status == status))]


class Outbox:
    """``OutboxRows``, each call a transaction of its own on ``engine`` (the dispatcher's
    and the operator's)."""

    def __init__(self, engine: Engine, *, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.engine = engine
        self.max_attempts = max_attempts

    @contextmanager
    def _rows(self, write: bool = True) -> Iterator[OutboxRows]:
        with self.engine.connect() as conn:
            if write:
                conn.execution_options(**WRITE)
            with conn.begin():
                yield OutboxRows(conn, max_attempts=self.max_attempts)

    def claim(self, worker: str, now: datetime, *, limit: int = 50,
              lease: timedelta = timedelta(minutes=5)) -> list[Work]:
        with self._rows() as rows:
            return rows.claim(worker, now, limit=limit, lease=lease)

    def complete(self, work: Work, worker: str, now: datetime) -> bool:
        with self._rows() as rows:
            return rows.complete(work, worker, now)

    def renew(self, works: list[Work], worker: str, until: datetime) -> int:
        with self._rows() as rows:
            return rows.renew(works, worker, until)

    def holders(self, prefix: str) -> list[str]:
        with self._rows(write=False) as rows:
            return rows.holders(prefix)

    def release_all(self, worker: str) -> int:
        with self._rows() as rows:
            return rows.release_all(worker)

    def release(self, work: Work, worker: str) -> None:
        with self._rows() as rows:
            rows.release(work, worker)

    def fail(self, work: Work, worker: str, now: datetime, error: str) -> str:
        with self._rows() as rows:
            return rows.fail(work, worker, now, error)

    def settle_past(self, before: datetime, now: datetime, note: str) -> int:
        with self._rows() as rows:
            return rows.settle_past(before, now, note)

    @contextmanager
    def operator(self, write: bool = True) -> Iterator[OperatorRows]:
        """The operator's commands, in one transaction."""
        with self._rows(write) as rows:
            yield OperatorRows(rows.conn)


def effect_recorded(conn: Connection, key: str) -> bool:
    """Whether the effect of ``key`` is on record, in the caller's transaction."""
    return EffectRows(conn).recorded(key)


class EffectRows:
    """The effects ledger in one unit of work."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def recorded(self, key: str) -> bool:
        """Whether the effect of ``key`` is on record."""
        return self.conn.execute(select(effect_t.c.idempotency_key)
                                 .where(effect_t.c.idempotency_key == key)).first() is not None

    def result(self, key: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(effect_t.c.result)
                                .where(effect_t.c.idempotency_key == key)).first()
        return dict(row[0]) if row else None

    def add(self, key: str, *, action: str, case_id: str, result: dict[str, Any],
            at: datetime) -> None:
        """Record an effect; a key already recorded raises (the unit then loses the race)."""
        self.conn.execute(insert(effect_t).values(idempotency_key=key, action=action,
                                                  case_id=case_id, at=at, result=result))


class Effects:
    """What actions have visibly done, by idempotency key."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, key: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return EffectRows(conn).result(key)

    def record(self, key: str, *, action: str, case_id: str, result: dict[str, Any],
               now: datetime) -> bool:
        """Record an effect; False when it was already recorded (nothing is overwritten)."""
        try:
            with self.engine.begin() as conn:
                EffectRows(conn).add(key, action=action, case_id=case_id, result=result, at=now)
        except IntegrityError:
            return False
        return True
