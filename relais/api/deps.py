"""What every request needs: the services, and who is calling."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request

from relais.cases.access import AccessPolicy
from relais.cases.accounts import Accounts
from relais.cases.domain.actors import Actor
from relais.cases.queries import CaseQueries
from relais.cases.services import CaseServices
from relais.cases.sharing import Sharing
from relais.i18n import bi
from relais.institutions.registry import Role

from .errors import ApiError


async def services(request: Request) -> CaseServices:
    return request.app.state.services  # type: ignore[no-any-return]


async def queries(request: Request) -> CaseQueries:
    return request.app.state.queries  # type: ignore[no-any-return]


async def policy(request: Request) -> AccessPolicy:
    return request.app.state.policy  # type: ignore[no-any-return]


async def sharing(request: Request) -> Sharing:
    return request.app.state.sharing  # type: ignore[no-any-return]


async def accounts(request: Request) -> Accounts:
    return request.app.state.accounts  # type: ignore[no-any-return]


def authenticate(request: Request) -> Actor:
    """The active user whose token the request carries; 401 otherwise. Blocking (a database
    read): ``BodyGuard`` runs it in a thread before the body is read, for every /api/ path."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "jeton manquant : Authorization: Bearer <jeton> / "
                       "missing token")
    known: Accounts = request.app.state.accounts
    actor = known.by_token(token.strip())
    if actor is None:
        raise ApiError(401, "unauthorized", "jeton inconnu ou révoqué / unknown or revoked token")
    return actor


async def caller(request: Request) -> Actor:
    """Who is calling, as ``BodyGuard`` found them before reading anything."""
    actor = request.scope.get("state", {}).get("actor")
    if isinstance(actor, Actor):
        return actor
    return await anyio.to_thread.run_sync(authenticate, request)


def _role(*roles: Role):  # type: ignore[no-untyped-def]
    async def check(actor: Annotated[Actor, Depends(caller)]) -> Actor:
        if actor.role not in roles:
            raise ApiError(403, "forbidden", bi("réservé aux rôles %(roles)s",
                                                "for roles %(roles)s only",
                                                roles=", ".join(roles)))
        return actor
    return check


ServicesDep = Annotated[CaseServices, Depends(services)]
AccountsDep = Annotated[Accounts, Depends(accounts)]
QueriesDep = Annotated[CaseQueries, Depends(queries)]
SharingDep = Annotated[Sharing, Depends(sharing)]
PolicyDep = Annotated[AccessPolicy, Depends(policy)]
CallerDep = Annotated[Actor, Depends(caller)]
CaseWorker = Annotated[Actor, Depends(_role(Role.case_manager, Role.coordinator))]
Coordinator = Annotated[Actor, Depends(_role(Role.coordinator))]
Operator = Annotated[Actor, Depends(_role(Role.coordinator, Role.admin))]
Steering = Annotated[Actor, Depends(_role(Role.steering, Role.coordinator, Role.admin))]
