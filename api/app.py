"""The FastAPI application: the contract's endpoints, JSON errors, and a body-size limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, FastAPI, Request, Response

from cases.access import AccessPolicy
from cases.catalogue_services import MeasureServices
from cases.queries import CaseQueries
from cases.services import CaseServices
from cases.sharing import Sharing

from . import aggregates, cases, catalogue, consents, deps, documents, errors, pages, routes
from .headers import SecurityHeaders

MAX_BODY = 1024 * 1024


def create_app(services: CaseServices, *, session_key: str | None = None,
               https_only: bool = False) -> FastAPI:
    # Endpoints are `async def` and call the (synchronous, short) database work directly:
    # measured here, the thread pool that `def` endpoints use cost more than the work itself
    # and its contention made the latency tail (see docs/benchmarks.md). Scale out with
    # processes (uvicorn --workers, or several API machines on PostgreSQL).
    # no interactive docs: FastAPI's load their scripts from a CDN, with inline code that the
    # pages' policy refuses; the schema stays at /openapi.json for any local tool
    app = FastAPI(title="Relais", version="0.1.0", dependencies=[Depends(deps.no_nul)],
                  docs_url=None, redoc_url=None,
                  description="Collaboration interinstitutionnelle (CII) — API des cas, routes "
                              "et indicateurs / CII cases, routes and indicators")
    app.state.services = services
    app.state.queries = CaseQueries(services)
    app.state.sharing = Sharing(services)
    app.state.measures = MeasureServices(services)
    app.state.policy = AccessPolicy(app.state.queries, app.state.sharing)
    errors.install(app)

    @app.middleware("http")
    async def limit_body(request: Request,
                         call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length", "0")
        if not length.isdigit() or int(length) > MAX_BODY:
            # a person (a file chosen in a page) gets the sentence as a page, programs JSON
            return errors._answer(request, 413, "too_large", f"corps de requête trop grand "
                                  f"(maximum {MAX_BODY // 1024} Ko) / request body too large "
                                  f"(at most {MAX_BODY // 1024} KB)")
        return await call_next(request)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(cases.router)
    app.include_router(routes.router)
    app.include_router(consents.router)
    app.include_router(aggregates.router)
    app.include_router(documents.router)
    app.include_router(catalogue.router)
    pages.install(app, session_key=session_key, https_only=https_only)
    app.add_middleware(SecurityHeaders)  # added last: the outermost, so every answer has them
    return app
