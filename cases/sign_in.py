"""Signing in to the pages: the tallies, the password, a new session. Blocking work (an
argon2id verification, database writes): the pages call it in a worker thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from cases.domain.actors import Actor
from cases.domain.throttle import NO_WAIT
from institutions.registry import Registry

from .store import sign_in_tally
from .store.sessions import open_session
from .store.users import actor_for_password


@dataclass(frozen=True)
class SignIn:
    actor: Actor | None = None
    session_id: str | None = None  # the new session's, for the cookie only
    wait: timedelta = NO_WAIT  # more than nothing: refused before the password was checked


def sign_in(engine: Engine, registry: Registry, *, name: str, password: str, address: str,
            now: datetime) -> SignIn:
    """``name`` signing in from ``address`` with ``password``: a new session when right; the
    same answer for an unknown name as for a wrong password."""
    wait = sign_in_tally.try_sign_in(engine, name=name, address=address, now=now)
    if wait > NO_WAIT:
        return SignIn(wait=wait)
    actor = actor_for_password(engine, registry, name, password) if name else None
    sign_in_tally.settle(engine, name=name, address=address, right=actor is not None, now=now)
    if actor is None:
        return SignIn()
    return SignIn(actor, open_session(engine, actor.user, now))
