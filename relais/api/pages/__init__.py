"""The HTML pages for people, served by the same application as the API.

``signin`` (sign-in, sign-out, language), and one module per kind of user: case managers
(inbox, case file, referral), coordinators (routes workshop, escalations, revolving door),
the steering group (dashboard). Everything they load comes from this application:
``/static`` holds the style sheet and the few scripts that improve a page without being
needed by it.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from relais.cases.accounts import Accounts

from . import case_manager, catalogue, coordinator, session, signin, steering
from .case_files import is_upload
from .people import PageRefused, SignInRequired
from .render import page

STATIC = Path(__file__).resolve().parents[1] / "static"
__all__ = ["install", "is_upload"]
ROUTERS = [signin.router, steering.router, case_manager.router, coordinator.router,
           catalogue.router]


def _error_page(request: Request, status: int, fr: str, en: str) -> Response:
    """The error as a page, with the person's navigation when they are signed in."""
    person = getattr(request.state, "person", None)
    if person is None and "session" in request.scope:
        known: Accounts = request.app.state.accounts
        person = known.by_session(request.session.get(session.SID))
    return page(request, "error.html.j2", person, status=status, status_code=status,
                message_fr=fr, message_en=en)


def install(app: FastAPI, *, session_key: str | None, https_only: bool = False) -> None:
    # without a key (tests, one process) each start signs with a new one
    session.install(app, session_key or secrets.token_urlsafe(48), https_only=https_only)
    app.state.hashing = anyio.CapacityLimiter(signin.HASHING_AT_ONCE)  # password checks
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:  # browsers ask it of every site, whatever the page says
        return RedirectResponse("/static/favicon.svg", status_code=301)
    app.state.html_error = _error_page

    @app.exception_handler(SignInRequired)
    async def sign_in_first(_: Request, exc: SignInRequired) -> Response:
        from urllib.parse import quote
        return RedirectResponse(f"/connexion?suite={quote(exc.then, safe='/')}",
                                status_code=303)

    @app.exception_handler(PageRefused)
    async def refused(request: Request, exc: PageRefused) -> Response:
        return await run_in_threadpool(_error_page, request, exc.status, exc.fr, exc.en)

    for router in ROUTERS:
        app.include_router(router)
