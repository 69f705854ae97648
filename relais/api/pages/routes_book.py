"""The published routes as pages: the list with every version, and one version read in full
(its drawing, states, transitions, fields, outcomes) with its YAML source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from relais.cases.services import CaseServices
from relais.workflows.engine import diagram
from relais.workflows.engine.schema import MAX_VERSION

from .people import Person
from .render import lang_of, page
from .route_words import Words

router = APIRouter(include_in_schema=False)
RouteId = Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9-]+$")]
Version = Annotated[int, Path(ge=1, le=MAX_VERSION)]
DONE = {"publiee": ("Version publiée. Les nouveaux dossiers la suivront ; les dossiers en cours "
                    "gardent leur version.", "Version published. New cases follow it; running "
                    "cases keep their version."),
        "deja": ("Cette version était déjà publiée à l'identique : rien n'a changé.",
                 "This version was already published with the same content: nothing changed.")}


@dataclass(frozen=True)
class Published:
    version: int
    at: datetime
    by: str


def published(s: CaseServices) -> dict[str, list[Published]]:
    """Every route id with its versions in order, when and by whom each was published."""
    return {rid: [Published(v, at, by) for v, at, by in vs]
            for rid, vs in s.published_routes().items()}


# The handlers read the published routes (blocking): plain ``def``, run in a worker thread.
@router.get("/routes")
def routes_list(request: Request, person: Person) -> Response:
    s: CaseServices = request.app.state.services
    book = published(s)
    titles = {rid: s.route(rid, vs[-1].version).title for rid, vs in book.items()}
    return page(request, "routes_list.html.j2", person, book=book, titles=titles)


@router.get("/routes/{route_id}/versions/{version}")
def route_version(request: Request, person: Person, route_id: RouteId, version: Version,
                  done: Annotated[str | None, Query(alias="fait", max_length=20)] = None
                  ) -> Response:
    s: CaseServices = request.app.state.services
    route = s.route(route_id, version)  # NotFound: a 404 page
    lang = lang_of(request)
    versions = [p.version for p in published(s).get(route_id, [])]
    return page(request, "routes_version.html.j2", person, route=route, versions=versions,
                drawing=Markup(diagram.svg(route, lang=lang)),  # noqa: S704 (escaped inside)
                words=Words(lang),
                notice=DONE.get(done or ""))


@router.get("/routes/{route_id}/versions/{version}/source.yaml")
def route_source(request: Request, _: Person, route_id: RouteId, version: Version
                 ) -> Response:
    """The text as it was published, comments included: shown by the browser, not saved."""
    s: CaseServices = request.app.state.services
    route = s.route(route_id, version)
    return Response(route.source, media_type="text/plain; charset=utf-8", headers={
        "Content-Disposition": f'inline; filename="{route.id}-v{route.version}.yaml"'})
