"""The sign-in tallies of ``cases.domain.throttle`` in the database, so that every process
and machine of one Relais counts alike. Each try reads and writes its two tallies in one
transaction holding their rows (BEGIN IMMEDIATE on SQLite, FOR UPDATE on PostgreSQL): tries
made at the same moment are counted one after the other."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from relais.cases.domain.throttle import (
    ADDRESS,
    NO_WAIT,
    PAIR,
    Budget,
    Tally,
    address_group,
    charge,
    clear_at,
    refund,
)

from . import WRITE
from .codec import aware
from .tables import tally_t


def _keys(name: str, address: str) -> list[tuple[str, Budget]]:
    # hashed: the table says how much was guessed, not who was named or from where
    def h(*parts: str) -> str:
        return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()
    group = address_group(address)
    return [(h("address", group), ADDRESS), (h("pair", name, group), PAIR)]


def _held(conn: Connection, key: str, now: datetime) -> Tally | None:
    """The tally under ``key``, its row held until the transaction ends."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(tally_t)
    conn.execute(insert.values(key=key, failures=0, since=now, next_at=now, clear_at=now)
                 .on_conflict_do_nothing())
    row = conn.execute(select(tally_t).where(tally_t.c.key == key).with_for_update()).one()
    if row.failures == 0 and aware(row.next_at) <= now:
        return None
    return Tally(row.failures, aware(row.since), aware(row.next_at))


def _keep(conn: Connection, key: str, budget: Budget, tally: Tally) -> None:
    conn.execute(update(tally_t).where(tally_t.c.key == key).values(
        failures=tally.failures, since=tally.since, next_at=tally.next_at,
        clear_at=clear_at(budget, tally)))


class SignInTallies:
    """The tallies in one writing unit of work (which holds their rows until it ends)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def try_sign_in(self, *, name: str, address: str, now: datetime) -> timedelta:
        """Charge a sign-in of ``name`` from ``address``; the wait if it must not be tried
        now (then nothing is charged), else ``NO_WAIT``: check the password, then
        ``settle``."""
        conn = self.conn
        conn.execute(delete(tally_t).where(tally_t.c.clear_at < now))  # what says nothing
        tries = [(key, budget, charge(budget, _held(conn, key, now), now))
                 for key, budget in _keys(name, address)]
        wait = max(t.wait for _, _, t in tries)
        if wait == NO_WAIT:
            for key, budget, t in tries:
                _keep(conn, key, budget, t.tally)
        return wait

    def settle(self, *, name: str, address: str, right: bool, now: datetime) -> None:
        """After the check: a right password clears the name's tally at this address and
        gives the address its try back; a wrong one stays charged."""
        if not right:
            return
        (address_key, address_budget), (pair_key, _) = _keys(name, address)
        tally = _held(self.conn, address_key, now)  # the address first, as a try holds them
        if tally is not None:
            _keep(self.conn, address_key, address_budget, refund(address_budget, tally))
        self.conn.execute(delete(tally_t).where(tally_t.c.key == pair_key))


def try_sign_in(engine: Engine, *, name: str, address: str, now: datetime) -> timedelta:
    """``SignInTallies.try_sign_in`` in a transaction of its own."""
    with engine.connect() as conn, conn.execution_options(**WRITE).begin():
        return SignInTallies(conn).try_sign_in(name=name, address=address, now=now)


def settle(engine: Engine, *, name: str, address: str, right: bool, now: datetime) -> None:
    """``SignInTallies.settle`` in a transaction of its own."""
    if right:
        with engine.connect() as conn, conn.execution_options(**WRITE).begin():
            SignInTallies(conn).settle(name=name, address=address, right=right, now=now)
