"""The pages' sessions, kept on the server: the cookie carries a random id, this table its
SHA-256 (a stolen copy of the table opens nothing). A session ends when its row goes: at
sign-out, when the user's password changes or the user is revoked, after ``IDLE`` without a
page, and ``LIFETIME`` after sign-in however busy (OWASP ASVS 3.3)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, insert, or_, select, update

from relais.cases.domain.actors import Actor
from relais.institutions.registry import Registry, Role

from . import WRITE
from .codec import aware
from .tables import session_t, user_t

IDLE = timedelta(minutes=30)
LIFETIME = timedelta(hours=10)  # one working day: a forgotten session does not outlive it
TOUCH_EVERY = timedelta(minutes=1)  # how precisely "idle since" is kept: one write a minute


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def open_session(engine: Engine, user: str, now: datetime) -> str:
    """A new session of the active user ``user``; its id, for the cookie only."""
    with engine.connect() as conn, conn.execution_options(**WRITE).begin():
        return SessionRows(conn).open(user, now)


class SessionRows:
    """The sessions in one unit of work."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def open(self, user: str, now: datetime) -> str:
        """A new session of the active user ``user`` (the ended ones cleared); its id, for
        the cookie only."""
        session_id = secrets.token_urlsafe(32)
        self.conn.execute(delete(session_t).where(or_(session_t.c.expires_at <= now,
                                                      session_t.c.last_seen_at <= now - IDLE)))
        user_id = self.conn.execute(select(user_t.c.id).where(
            user_t.c.name == user, user_t.c.revoked_at.is_(None))).scalar_one()
        self.conn.execute(insert(session_t).values(id_hash=_hash(session_id), user_id=user_id,
                                                   created_at=now, last_seen_at=now,
                                                   expires_at=now + LIFETIME))
        return session_id


def session_actor(engine: Engine, registry: Registry, session_id: object,
                  now: datetime) -> Actor | None:
    """Who holds the live session ``session_id``; None when it is unknown, over, or its
    user revoked. Keeps the session alive (its idle time starts again)."""
    if not isinstance(session_id, str) or len(session_id) > 100:
        return None
    key = _hash(session_id)
    with engine.connect() as conn:
        row = conn.execute(
            select(session_t.c.last_seen_at, session_t.c.expires_at, user_t.c.name,
                   user_t.c.institution, user_t.c.role, user_t.c.revoked_at)
            .join(user_t, user_t.c.id == session_t.c.user_id)
            .where(session_t.c.id_hash == key)).first()
    if row is None or row.revoked_at is not None or row.institution not in registry:
        return None
    seen = aware(row.last_seen_at)
    if now >= aware(row.expires_at) or now - seen >= IDLE:
        return None
    if now - seen >= TOUCH_EVERY:
        with engine.connect() as conn, conn.execution_options(**WRITE).begin():
            conn.execute(update(session_t).where(session_t.c.id_hash == key)
                         .values(last_seen_at=now))
    return Actor(row.name, row.institution, registry.get(row.institution).kind, Role(row.role))


def end_session(engine: Engine, session_id: object) -> None:
    if isinstance(session_id, str):
        with engine.connect() as conn, conn.execution_options(**WRITE).begin():
            conn.execute(delete(session_t).where(session_t.c.id_hash == _hash(session_id)))


def end_sessions_of(conn: Connection, user: str) -> None:
    """End every session of ``user`` (in the caller's transaction: a new password, a
    revocation)."""
    conn.execute(delete(session_t).where(session_t.c.user_id.in_(
        select(user_t.c.id).where(user_t.c.name == user))))
