"""Every error answers a problem document (RFC 9457, ``application/problem+json``: ``type``,
``title``, ``status``, ``detail``, ``instance``) with a status a client can act on, keeping the
contract's ``{"error", "message"}`` and each error's details as extension members.

Domain errors map to 4xx; malformed requests to 422; unknown paths to 404. An unexpected
exception is logged and answered 500 in the same shape: the test suite (schemathesis)
makes sure no input reaches it.

``title``, ``detail`` and ``message`` are in the language ``Accept-Language`` asks for (fr,
de, it, en; French by default), one language a string (``Content-Language`` says which);
the ``error`` codes and ``type`` never change with it.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from relais.cases.domain.errors import (
    CaseError,
    Conflict,
    EventRefused,
    HandoffPending,
    MissingInput,
    NotAllowed,
    NotFound,
    StaleVersion,
)
from relais.cases.domain.person import InvalidPerson
from relais.cases.store.route_book import InvalidRoute
from relais.i18n import N_, localize, negotiate, tr

log = logging.getLogger("relais.api")

STATUS: dict[type[CaseError], int] = {
    NotFound: 404, NotAllowed: 403, EventRefused: 409, HandoffPending: 409, Conflict: 409,
    MissingInput: 422, StaleVersion: 412,
}
_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
               412: "precondition_failed", 413: "too_large", 415: "unsupported_media_type",
               422: "invalid_input", 428: "precondition_required"}


PROBLEM = "application/problem+json"
# each status's title (HTTP's reason phrase, as Python 3.11 words it), for the catalogues
TITLES = {400: N_("Bad Request"), 401: N_("Unauthorized"), 403: N_("Forbidden"),
          404: N_("Not Found"), 405: N_("Method Not Allowed"), 406: N_("Not Acceptable"),
          409: N_("Conflict"), 412: N_("Precondition Failed"),
          413: N_("Request Entity Too Large"), 415: N_("Unsupported Media Type"),
          422: N_("Unprocessable Entity"), 428: N_("Precondition Required"),
          429: N_("Too Many Requests"), 500: N_("Internal Server Error"),
          503: N_("Service Unavailable")}


def lang_of(request: Request) -> str:
    """The language the client asks for (``Accept-Language``), French when none of the four."""
    return negotiate(request.headers.get("accept-language"))


def problem_type(code: str) -> str:
    """A problem's ``type``: a stable name per error code (listed in docs/api.md)."""
    return f"urn:relais:problem:{code}"


def error(status: int, code: str, message: str, *, instance: str | None = None,
          lang: str = "fr", **details: Any) -> JSONResponse:
    """The problem document, its words in ``lang`` (``message``: a msgid, or a text still
    written « français / English »)."""
    said = localize(message, lang)
    title = tr(lang, TITLES[status]) if status in TITLES else HTTPStatus(status).phrase
    body: dict[str, Any] = {"type": problem_type(code), "title": title, "status": status,
                            "detail": said, "error": code, "message": said}
    if instance is not None:
        body["instance"] = instance
    return JSONResponse({**body, **details}, status_code=status, media_type=PROBLEM,
                        headers={"Content-Language": lang})


def _for_a_person(request: Request) -> bool:
    """A browser asking for a page (not the API): it gets the error as a page."""
    return (not request.url.path.startswith(("/api/", "/healthz", "/openapi"))
            and "text/html" in request.headers.get("accept", "")
            and getattr(request.app.state, "html_error", None) is not None)


def bilingual(message: str) -> tuple[str, str]:
    """A message written « français / English », as its French and English (French again
    when it has no English)."""
    fr, _, en = message.partition(" / ")
    return fr, en or fr


async def _answer(request: Request, status: int, code: str, message: str,
                  **details: Any) -> Response:
    if _for_a_person(request):  # the page finds who is signed in: a database read, off the loop
        return await run_in_threadpool(
            request.app.state.html_error, request, status, *bilingual(message))
    return error(status, code, message, instance=request.url.path, lang=lang_of(request),
                 **details)


class ApiError(Exception):
    """An error the API itself raises (authentication, headers, bodies)."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        response = error(exc.status, exc.code, exc.message, instance=request.url.path,
                         lang=lang_of(request), **exc.details)
        if headers:
            response.headers.update(headers)
        return response

    @app.exception_handler(CaseError)
    async def case_error(request: Request, exc: CaseError) -> Response:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        return await _answer(request, status, exc.code, exc.message, **_jsonable(exc.details))

    @app.exception_handler(InvalidPerson)
    async def invalid_person(request: Request, exc: InvalidPerson) -> JSONResponse:
        return error(422, "invalid_person", exc.message, instance=request.url.path,
                     lang=lang_of(request), field=f"person.{exc.field}")

    @app.exception_handler(InvalidRoute)
    async def invalid_route(request: Request, exc: InvalidRoute) -> JSONResponse:
        lang = lang_of(request)
        return error(422, "invalid_route", "le fichier de route n'est pas valide / the route "
                     "file is not valid", instance=request.url.path, lang=lang, valid=False,
                     errors=[{"line": p.line, "path": p.path, "message": p.message(lang)}
                             for p in exc.problems])

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"loc": [str(x) for x in e.get("loc", ())], "message": str(e.get("msg"))}
                    for e in exc.errors()[:20]]
        first = problems[0] if problems else {"loc": [], "message": "?"}
        lang = lang_of(request)
        # pydantic words its reasons in English: they stay, as data, in ``problems``
        said = tr(lang, "invalid value: %(field)s") % {"field": ".".join(first["loc"])}
        return error(422, "invalid_input", said if lang != "en" else
                     f"{'.'.join(first['loc'])}: {first['message']}",
                     instance=request.url.path, lang=lang, problems=problems)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)  # a Said stays
        if exc.status_code == 404:
            message = "page introuvable / page not found"
        return await _answer(request, exc.status_code, code, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:  # pragma: no cover
        log.exception("unexpected error", exc_info=exc)
        return await _answer(request, 500, "internal_error", "erreur interne, rien n'a été "
                       "modifié / internal error, nothing was changed")


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, str | int | float | bool | list | dict | None) else str(v)
            for k, v in details.items()}
