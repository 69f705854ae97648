"""Who is calling, for the API and the pages, which hold no engine: the user of an API token,
the person of a page session, signing in and out; and the operator's view of the
orchestration. Blocking (database reads and writes, an argon2id verification): the callers
run these in a worker thread."""

from __future__ import annotations

from typing import Any

from .domain.actors import Actor
from .services import CaseServices
from .sign_in import SignIn, sign_in
from .store.ops import ops_status
from .store.sessions import end_session, session_actor
from .store.users import actor_for_token


class Accounts:
    def __init__(self, services: CaseServices) -> None:
        self.s = services

    def by_token(self, token: str) -> Actor | None:
        """The active user whose API token this is; None for an unknown or revoked one."""
        return actor_for_token(self.s.engine, self.s.registry, token)

    def by_session(self, session_id: object) -> Actor | None:
        """The person of a live page session (its idle time renewed); None otherwise."""
        return session_actor(self.s.engine, self.s.registry, session_id, self.s.clock())

    def sign_in(self, *, name: str, password: str, address: str) -> SignIn:
        return sign_in(self.s.engine, self.s.registry, name=name, password=password,
                       address=address, now=self.s.clock())

    def sign_out(self, session_id: object) -> None:
        end_session(self.s.engine, session_id)

    def ops_status(self) -> dict[str, Any]:
        """The outbox and the timer lag (due → handled) of the last 24 hours."""
        return ops_status(self.s.engine, self.s.clock())
