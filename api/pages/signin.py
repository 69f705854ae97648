"""Signing in and out, the language switch, and each role's home page."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from cases.services import CaseServices
from cases.store.users import actor_for_password

from .people import HOME, Form, Person, local_path
from .render import page
from .session import csrf_token

router = APIRouter(include_in_schema=False)
Then = Annotated[str | None, Query(alias="suite", max_length=2000)]


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


@router.get("/")
async def home(person: Person) -> Response:
    return _see(HOME[person.role])


@router.get("/connexion")
async def sign_in_form(request: Request, then: Then = None) -> Response:
    return page(request, "signin.html.j2", None, then=local_path(then) or "", name="",
                failed=False)


@router.post("/connexion")
async def sign_in(request: Request, form: Form) -> Response:
    name = str(form.get("name", "")).strip()[:100]
    password = str(form.get("password", ""))[:1000]
    then = local_path(str(form.get("suite", "")))
    s: CaseServices = request.app.state.services
    actor = (actor_for_password(s.engine, s.registry, name, password, now=s.clock())
             if name else None)
    if actor is None:
        return page(request, "signin.html.j2", None, status=401, then=then or "", name=name,
                    failed=True)
    lang = request.session.get("lang")
    request.session.clear()  # a new session on sign-in: nothing set before carries over
    request.session.update({"user": actor.user, **({"lang": lang} if lang else {})})
    csrf_token(request.session)
    return _see(then or HOME[actor.role])


@router.post("/deconnexion")
async def sign_out(request: Request, _: Form) -> Response:
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    return _see("/connexion")


@router.get("/langue/{lang}")
async def switch_language(request: Request, lang: Literal["fr", "en"],
                          then: Then = None) -> Response:
    request.session["lang"] = lang
    return _see(local_path(then) or "/")
