"""Signing in and out, the language switch, and each role's home page."""

from __future__ import annotations

import math
import os
from functools import partial
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from relais.cases.accounts import Accounts

from . import session
from .people import HOME, Form, Person, client_address, local_path
from .render import page

router = APIRouter(include_in_schema=False)
Then = Annotated[str | None, Query(alias="suite", max_length=2000)]
# argon2id verifications at once per process (64 MiB and ~0.1 s of a core each): more
# sign-ins queue, in no one else's way (the thread pool and the event loop stay free)
HASHING_AT_ONCE = max(2, (os.cpu_count() or 2) // 2)


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


@router.get("/")
async def home(person: Person) -> Response:
    return _see(HOME[person.role])


@router.get("/connexion")
async def sign_in_form(request: Request, then: Then = None) -> Response:
    return page(request, "signin.html.j2", None, then=local_path(then) or "", name="",
                failed=False, wait_s=0)


@router.post("/connexion")
async def sign_in(request: Request, form: Form) -> Response:
    name = str(form.get("name", "")).strip()[:100]
    password = str(form.get("password", ""))[:1000]
    then = local_path(str(form.get("suite", "")))
    known: Accounts = request.app.state.accounts
    tried = await anyio.to_thread.run_sync(
        partial(known.sign_in, name=name, password=password, address=client_address(request)),
        limiter=request.app.state.hashing)
    if tried.actor is None or tried.session_id is None:
        wait_s = math.ceil(tried.wait.total_seconds())
        answer = page(request, "signin.html.j2", None, status=429 if wait_s else 401,
                      then=then or "", name=name, failed=True, wait_s=wait_s)
        if wait_s:
            answer.headers["Retry-After"] = str(wait_s)
        return answer
    session.begin(request.session, tried.session_id)
    return _see(then or HOME[tried.actor.role])


@router.post("/deconnexion")
def sign_out(request: Request, _: Form) -> Response:
    known: Accounts = request.app.state.accounts
    known.sign_out(session.end(request.session))
    return _see("/connexion")


@router.get("/langue/{lang}")
async def switch_language(request: Request, lang: Literal["fr", "de", "it", "en"],
                          then: Then = None) -> Response:
    request.session["lang"] = lang
    return _see(local_path(then) or "/")

