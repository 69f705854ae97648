"""Who is looking at a page: the signed-in person, their role, and their forms' CSRF check.

The pages' dependencies mirror the API's (``api/deps.py``) with a session instead of a
token: no live session sends the browser to the sign-in page and back; a wrong role is a 403
page; a form without this session's CSRF token is refused before anything is read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from relais.cases.accounts import Accounts
from relais.cases.domain.actors import Actor
from relais.i18n import N_
from relais.institutions.registry import Role

from .session import SID, csrf_valid


class SignInRequired(Exception):
    def __init__(self, then: str) -> None:
        super().__init__(then)
        self.then = then


class PageRefused(Exception):
    """A 4xx shown as a page: the sentence says what is wrong and what to do."""

    def __init__(self, status: int, fr: str, en: str) -> None:
        super().__init__(en)
        self.status, self.fr, self.en = status, fr, en


HOME = {Role.case_manager: "/dossiers", Role.coordinator: "/coordination",
        Role.steering: "/pilotage", Role.admin: "/pilotage"}

# what each role finds in the navigation: (path, label; the English msgid of the catalogues)
NAVIGATION = {
    Role.case_manager: [("/dossiers", N_("Inbox")),
                        ("/dossiers/nouveau", N_("New referral")),
                        ("/mesures", N_("Measures"))],
    Role.coordinator: [("/coordination", N_("Coordination")),
                       ("/dossiers", N_("Cases")),
                       ("/dossiers/nouveau", N_("New referral")),
                       ("/routes", N_("Routes")),
                       ("/mesures", N_("Measures")),
                       ("/pilotage", N_("Steering"))],
    Role.steering: [("/pilotage", N_("Dashboard"))],
    Role.admin: [("/pilotage", N_("Steering"))],
}


def local_path(then: str | None) -> str | None:
    """``then`` if it is a path of this site (no open redirect to another one)."""
    if then and then.startswith("/") and not then.startswith("//") and "\\" not in then:
        return then
    return None


def client_address(request: Request) -> str:
    """The address the request came from: the socket's, or the one a trusted proxy forwarded
    (uvicorn rewrites the scope's client only for ``RELAIS_TRUSTED_PROXIES``)."""
    return request.client.host if request.client else "unknown"


def signed_in(request: Request) -> Actor:
    """The person of the cookie's live session (a plain ``def``: FastAPI runs it in a worker
    thread, the database read and the idle time's update off the event loop)."""
    known: Accounts = request.app.state.accounts
    actor = known.by_session(request.session.get(SID))
    if actor is None:
        request.session.pop(SID, None)
        query = f"?{request.url.query}" if request.url.query else ""
        raise SignInRequired(request.url.path + query)
    request.state.person = actor  # for an error page later in this request
    return actor


def _role(*roles: Role):  # type: ignore[no-untyped-def]
    async def check(actor: Annotated[Actor, Depends(signed_in)]) -> Actor:
        if actor.role not in roles:
            raise PageRefused(403, "Cette page n'est pas ouverte à votre rôle.",
                              "This page is not open to your role.")
        return actor
    return check


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token is this session's."""
    form = await request.form()
    if not csrf_valid(request.session, form.get("csrf")):
        raise PageRefused(403, "Le formulaire a expiré ou ne vient pas de Relais : rechargez la "
                          "page et recommencez.", "The form has expired or did not come from "
                          "Relais: reload the page and try again.")
    return form


Person = Annotated[Actor, Depends(signed_in)]
CaseWorkerPerson = Annotated[Actor, Depends(_role(Role.case_manager, Role.coordinator))]
CoordinatorPerson = Annotated[Actor, Depends(_role(Role.coordinator))]
SteeringPerson = Annotated[Actor, Depends(_role(Role.steering, Role.coordinator, Role.admin))]
Form = Annotated[FormData, Depends(checked_form)]
