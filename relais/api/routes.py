"""Routes: list, validate, publish, draw (coordinators write; every user may read)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse

from relais.cases.domain.errors import NotFound
from relais.i18n import tr
from relais.workflows.engine import diagram
from relais.workflows.engine.located_yaml import MAX_BYTES
from relais.workflows.engine.schema import MAX_VERSION
from relais.workflows.engine.validate import parse_route

from .deps import CallerDep, Coordinator, ServicesDep
from .errors import ApiError, error, lang_of
from .schemas import ProblemOut, RouteVersions, Validation

router = APIRouter(prefix="/api/routes", tags=["routes"])
YAML_BODY = {"requestBody": {"required": True, "content": {
    "application/yaml": {"schema": {"type": "string"}}}}}


async def _yaml(request: Request) -> str:
    """The route file of the request's body: read on the event loop, as a dependency, so that
    the handlers that parse it and write it are plain ``def`` run in a worker thread."""
    body = await request.body()
    if len(body) > MAX_BYTES:
        raise ApiError(413, "too_large", f"fichier de route trop grand (maximum {MAX_BYTES} "
                       f"octets) / route file too large")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(422, "invalid_input", "le fichier doit être en UTF-8 / the file must be "
                       "UTF-8") from None


# read after the dependencies named before it in a handler's signature: the caller's first
Yaml = Annotated[str, Depends(_yaml)]


@router.get("", response_model=list[RouteVersions])
def list_routes(_: CallerDep, s: ServicesDep) -> list[RouteVersions]:
    return [RouteVersions(id=rid, versions=[v for v, _, _ in vs],
                          title=dict(s.route(rid, vs[-1][0]).title))
            for rid, vs in s.published_routes().items()]


@router.post("/validate", response_model=Validation, response_model_exclude_none=True,
             openapi_extra=YAML_BODY)
def validate(request: Request, _: CallerDep, text: Yaml) -> Validation | JSONResponse:
    """200 ``{"valid": true}``, or 422: a problem document with ``valid: false`` and
    ``errors`` (each with its line, path and message)."""
    lang = lang_of(request)
    problems = parse_route(text)[1]
    if problems:
        return error(422, "invalid_route", tr(lang, "%(n)d problem(s) in the route file")
                     % {"n": len(problems)}, instance=request.url.path, lang=lang, valid=False,
            errors=[ProblemOut(line=p.line, path=p.path, message=p.message(lang)).model_dump()
                    for p in problems])
    return Validation(valid=True)


@router.post("", status_code=201, openapi_extra=YAML_BODY)
def publish(actor: Coordinator, text: Yaml, s: ServicesDep,
            response: Response) -> dict[str, object]:
    route, new = s.publish_route(text, by=actor.user)
    if not new:
        response.status_code = 200
    return {"id": route.id, "version": route.version, "published": new}


@router.get("/{route_id}/versions/{version}/diagram.svg",
            responses={200: {"content": {"image/svg+xml": {}}}})
def draw(route_id: Annotated[str, Path(max_length=64)],
         version: Annotated[int, Path(ge=1, le=MAX_VERSION)], _: CallerDep, s: ServicesDep,
         current: str | None = None) -> Response:
    try:
        route = s.route(route_id, version)
    except NotFound:
        raise ApiError(404, "not_found", "route ou version inconnue / unknown route or "
                       "version") from None
    if current is not None and current not in route.states:
        raise ApiError(422, "invalid_input", "état inconnu / unknown state")
    return Response(diagram.svg(route, current), media_type="image/svg+xml")

