"""What every request needs: the services, and who is calling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from cases.access import AccessPolicy
from cases.domain.actors import Actor
from cases.queries import CaseQueries
from cases.services import CaseServices
from cases.sharing import Sharing
from cases.store.users import actor_for_token
from institutions.registry import Role

from .errors import ApiError


async def services(request: Request) -> CaseServices:
    return request.app.state.services  # type: ignore[no-any-return]


async def queries(request: Request) -> CaseQueries:
    return request.app.state.queries  # type: ignore[no-any-return]


async def no_nul(request: Request) -> None:
    """PostgreSQL text cannot hold a NUL character: refuse it at the door, whatever the field."""
    target = f"{request.url.path}?{request.url.query}"
    body = await request.body()
    if "\x00" in target or "%00" in target or b"\x00" in body or b"\\u0000" in body:
        raise ApiError(422, "invalid_input", "caractère NUL refusé / NUL character refused")


async def policy(request: Request) -> AccessPolicy:
    return request.app.state.policy  # type: ignore[no-any-return]


async def sharing(request: Request) -> Sharing:
    return request.app.state.sharing  # type: ignore[no-any-return]


async def caller(request: Request) -> Actor:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "jeton manquant : Authorization: Bearer <jeton> / "
                       "missing token")
    s: CaseServices = request.app.state.services
    actor = actor_for_token(s.engine, s.registry, token.strip())
    if actor is None:
        raise ApiError(401, "unauthorized", "jeton inconnu ou révoqué / unknown or revoked token")
    return actor


def _role(*roles: Role):  # type: ignore[no-untyped-def]
    async def check(actor: Annotated[Actor, Depends(caller)]) -> Actor:
        if actor.role not in roles:
            raise ApiError(403, "forbidden", f"réservé aux rôles {', '.join(roles)} / "
                           f"for roles {', '.join(roles)} only")
        return actor
    return check


ServicesDep = Annotated[CaseServices, Depends(services)]
QueriesDep = Annotated[CaseQueries, Depends(queries)]
SharingDep = Annotated[Sharing, Depends(sharing)]
PolicyDep = Annotated[AccessPolicy, Depends(policy)]
CallerDep = Annotated[Actor, Depends(caller)]
CaseWorker = Annotated[Actor, Depends(_role(Role.case_manager, Role.coordinator))]
Coordinator = Annotated[Actor, Depends(_role(Role.coordinator))]
Operator = Annotated[Actor, Depends(_role(Role.coordinator, Role.admin))]
Steering = Annotated[Actor, Depends(_role(Role.steering, Role.coordinator, Role.admin))]
