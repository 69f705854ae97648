"""Users and their tokens. A token is shown once; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from relais.cases.domain.actors import Actor
from relais.cases.domain.errors import Conflict, NotFound
from relais.institutions.registry import Registry, Role

from . import fastsql
from .sessions import end_sessions_of
from .tables import user_t

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters
# verified against when the name is unknown, so that an unknown name costs the same time
_NOBODY = _hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD = 10


@dataclass(frozen=True)
class User:
    name: str
    institution: str
    role: Role
    revoked: bool


@dataclass(frozen=True)
class StoredUser(User):
    password_hash: str | None  # argon2id; None: no password for the pages


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(engine: Engine, registry: Registry, *, name: str, institution: str, role: str,
             now: datetime) -> str:
    """Create a user; return its token (the only time it is ever seen)."""
    if institution not in registry:
        raise NotFound(f"institution inconnue « {institution} » / unknown institution; "
                       f"connues / known: {', '.join(i.code for i in registry)}")
    if role not in Role.__members__:
        raise NotFound(f"rôle inconnu « {role} » ; rôles : {', '.join(Role.__members__)}")
    token = secrets.token_urlsafe(32)
    try:
        with engine.begin() as conn:
            conn.execute(insert(user_t).values(name=name, institution=institution, role=role,
                                               token_hash=token_hash(token), created_at=now))
    except IntegrityError:
        raise Conflict(f"l'utilisateur « {name} » existe déjà / user already exists") from None
    return token


def revoke_user(engine: Engine, name: str, now: datetime) -> None:
    """Revoke the user's token, and end their sessions in the pages."""
    with engine.begin() as conn:
        done = conn.execute(update(user_t).where(user_t.c.name == name,
                                                 user_t.c.revoked_at.is_(None))
                            .values(revoked_at=now))
        end_sessions_of(conn, name)
    if done.rowcount != 1:
        raise NotFound(f"aucun utilisateur actif « {name} » / no active user")


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        rows = conn.execute(select(user_t).order_by(user_t.c.name))
        return [User(r.name, r.institution, Role(r.role), r.revoked_at is not None)
                for r in rows]


def actor_for_token(engine: Engine, registry: Registry, token: str) -> Actor | None:
    """The active user holding ``token``, as an Actor; None when unknown or revoked."""
    with engine.connect() as conn:  # on every request: straight to the driver
        sql = fastsql.statements(conn.dialect.name).select(user_t, ["token_hash"])
        row = fastsql.fetch_one(conn, sql, {"token_hash": token_hash(token)})
    if row is None or row["revoked_at"] is not None or row["institution"] not in registry:
        return None
    return Actor(row["name"], row["institution"], registry.get(row["institution"]).kind,
                 Role(row["role"]))


def set_password(engine: Engine, name: str, password: str) -> None:
    """Give an active user a password for the pages (argon2id; the password is not kept),
    ending every session they had: a password changed after a theft shuts the thief out."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"mot de passe trop court (au moins {MIN_PASSWORD} caractères) / "
                         f"password too short (at least {MIN_PASSWORD} characters)")
    with engine.begin() as conn:
        done = conn.execute(update(user_t).where(user_t.c.name == name,
                                                 user_t.c.revoked_at.is_(None))
                            .values(password_hash=_hasher.hash(password)))
        end_sessions_of(conn, name)
    if done.rowcount != 1:
        raise NotFound(f"aucun utilisateur actif « {name} » / no active user")


def actor_for_password(engine: Engine, registry: Registry, name: str,
                       password: str) -> Actor | None:
    """The active user ``name`` if ``password`` is theirs (``password_actor``)."""
    with engine.connect() as conn:
        row = UserRows(conn).by_name(name)
    return password_actor(row, registry, password)


class UserRows:
    """The users in one unit of work."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def by_name(self, name: str) -> StoredUser | None:
        row = self.conn.execute(select(user_t).where(user_t.c.name == name)).first()
        return None if row is None else StoredUser(
            row.name, row.institution, Role(row.role), row.revoked_at is not None,
            row.password_hash)


def password_actor(user: StoredUser | None, registry: Registry, password: str) -> Actor | None:
    """``user`` as an Actor if ``password`` is theirs; None otherwise (unknown name, wrong
    password, revoked, no password set), after the same work in every case: an argon2id
    verification, against a made-up hash when there is nothing to verify against.

    Slow on purpose (about 0.1 s of a core): call it off the event loop and outside any
    transaction. How often it may be tried is ``cases.store.sign_in_tally``'s business,
    never a lock of the user."""
    stored = user.password_hash if user is not None and user.password_hash else _NOBODY
    try:
        _hasher.verify(stored, password)
        right = True
    except (VerificationError, InvalidHashError):
        right = False
    if (not right or user is None or not user.password_hash or user.revoked
            or user.institution not in registry):
        return None
    return Actor(user.name, user.institution, registry.get(user.institution).kind, user.role)
