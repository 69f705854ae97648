"""Signing in to the pages: the tallies, the password, a new session. Blocking work (an
argon2id verification, database writes): the pages call it in a worker thread.

Three short units of work, and the password checked between them, outside any
transaction: a writing unit on SQLite holds the database's write lock, and the check takes
about 0.1 s of a core on purpose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from relais.cases.domain.actors import Actor
from relais.cases.domain.throttle import NO_WAIT
from relais.institutions.registry import Registry

from .store.uow import DatabaseEngine, Units, units_for
from .store.users import password_actor


@dataclass(frozen=True)
class SignIn:
    actor: Actor | None = None
    session_id: str | None = None  # the new session's, for the cookie only
    wait: timedelta = NO_WAIT  # more than nothing: refused before the password was checked


def sign_in(store: DatabaseEngine | Units, registry: Registry, *, name: str, password: str,
            address: str, now: datetime) -> SignIn:
    """``name`` signing in from ``address`` with ``password``: a new session when right; the
    same answer for an unknown name as for a wrong password. ``store``: the services'
    ``units`` (or an engine to open them on)."""
    units = units_for(store)
    with units() as uow:
        wait = uow.tallies.try_sign_in(name=name, address=address, now=now)
    if wait > NO_WAIT:
        return SignIn(wait=wait)
    with units(write=False) as uow:
        user = uow.users.by_name(name) if name else None
    actor = password_actor(user, registry, password) if name else None
    if actor is not None:
        with units() as uow:
            uow.tallies.settle(name=name, address=address, right=True, now=now)
            return SignIn(actor, uow.sessions.open(actor.user, now))
    return SignIn()
