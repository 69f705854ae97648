"""The FastAPI application: the contract's endpoints, JSON errors, and the door every request
passes first (``BodyGuard``: the API's token, the body's size and NUL characters)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from relais.cases.access import AccessPolicy
from relais.cases.accounts import Accounts
from relais.cases.catalogue_services import MeasureServices
from relais.cases.queries import CaseQueries
from relais.cases.services import CaseServices
from relais.cases.sharing import Sharing

from . import (
    aggregates,
    cases,
    catalogue,
    consents,
    deps,
    documents,
    errors,
    health,
    metrics,
    notes,
    openapi,
    pages,
    reads,
    routes,
)
from .body_guard import BodyGuard
from .headers import SecurityHeaders
from .request_ids import RequestIds
from .upload_checks import DEFAULT_UPLOAD_LIMIT

MAX_BODY = 1024 * 1024


def create_app(services: CaseServices, *, session_key: str | None = None,
               https_only: bool = False,
               orchestration_alive: Callable[[], bool] | None = None,
               upload_limit: int = DEFAULT_UPLOAD_LIMIT) -> FastAPI:
    # Endpoints that touch the database are plain `def`: FastAPI runs them in its worker
    # threads, each request in one unit of work (api/unit.py), so that a statement waiting
    # on SQLite's write lock or on the network never holds the event loop, and every other
    # request with it (tests/test_event_loop.py). Scale out with processes (uvicorn
    # --workers, or several API machines on PostgreSQL).
    # no interactive docs: FastAPI's load their scripts from a CDN, with inline code that the
    # pages' policy refuses; the schema stays at /openapi.json for any local tool
    app = FastAPI(title="Relais", version="0.1.0", docs_url=None, redoc_url=None,
                  generate_unique_id_function=openapi.operation_id,
                  description="Collaboration interinstitutionnelle (CII) — API des cas, routes "
                              "et indicateurs / CII cases, routes and indicators")
    app.state.services = services
    app.state.queries = CaseQueries(services)
    app.state.sharing = Sharing(services)
    app.state.measures = MeasureServices(services)
    app.state.policy = AccessPolicy(app.state.queries, app.state.sharing)
    app.state.accounts = Accounts(services)
    app.state.orchestration_alive = orchestration_alive  # None: runs elsewhere
    app.state.upload_limit = upload_limit  # a file posted from the case page
    errors.install(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.state.figures = metrics.Figures(services.engine)
    app.include_router(cases.router)
    app.include_router(routes.router)
    app.include_router(consents.router)
    app.include_router(reads.router)
    app.include_router(aggregates.router)
    app.include_router(documents.router)
    app.include_router(notes.router)
    app.include_router(catalogue.router)
    # inside the session's middleware (an error page speaks the session's language), outside
    # everything that reads a body
    app.add_middleware(BodyGuard, limit=MAX_BODY, authenticate=deps.authenticate,
                       upload_limit=upload_limit, is_upload=pages.is_upload)
    pages.install(app, session_key=session_key, https_only=https_only)
    app.add_middleware(SecurityHeaders)  # added last: the outermost, so every answer has them
    app.add_middleware(metrics.RequestMetrics, figures=app.state.figures)  # and timed
    openapi.install(app)
    app.add_middleware(RequestIds)  # outermost of all: every line of the request has its id
    return app
