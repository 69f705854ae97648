"""The coordinators' route workshop: paste or upload a route file, validate it (every problem
on its line), see it drawn and compared with the version published before, publish it.

Validating never writes anything. Publishing is a second form that carries the text that
was validated, so what is published is what the coordinator read the comparison of.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData, UploadFile

from relais.cases.domain.errors import Conflict
from relais.cases.services import CaseServices
from relais.cases.store.route_book import InvalidRoute
from relais.workflows.engine import diagram
from relais.workflows.engine.located_yaml import MAX_BYTES
from relais.workflows.engine.schema import MAX_VERSION

from .people import CoordinatorPerson, Form
from .render import lang_of, page
from .route_words import Words
from .workshop_check import Check, check, normalised
from .workshop_simulate import Walk, simulate

router = APIRouter(include_in_schema=False)
Slug = Annotated[str | None, Query(alias="depuis", max_length=64, pattern=r"^[a-z0-9-]+$")]


class InputError(Exception):
    """The text could not be read at all: said next to the field that brought it."""

    def __init__(self, status: int, field: str, fr: str, en: str) -> None:
        super().__init__(en)
        self.status, self.field, self.fr, self.en = status, field, fr, en


def _workshop(request: Request, person: Any, status: int = 200, *, text: str = "",
              checked: Check | None = None, input_error: InputError | None = None,
              conflict: tuple[str, str] | None = None, walk: Walk | None = None) -> Response:
    return page(request, "workshop.html.j2", person, status=status, text=text, check=checked,
                input_error=input_error, conflict=conflict, max_kb=MAX_BYTES // 1024,
                words=Words(lang_of(request)), walk=walk)


def _uploaded(file: UploadFile) -> str:
    raw = file.file.read(MAX_BYTES + 1)  # spooled by the form's parser: no wait on the client
    if len(raw) > MAX_BYTES:
        raise InputError(413, "fichier", f"Le fichier dépasse {MAX_BYTES // 1024} Ko : une route "
                         "tient en beaucoup moins, vérifiez que c'est le bon fichier.",
                         f"The file is larger than {MAX_BYTES // 1024} KB: a route is much "
                         "smaller, check that this is the right file.")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(422, "fichier", "Le fichier n'est pas en UTF-8 : enregistrez-le en "
                         "UTF-8 depuis votre éditeur, puis choisissez-le à nouveau.",
                         "The file is not UTF-8: save it as UTF-8 from your editor, then "
                         "choose it again.") from None


def _text_of(form: FormData) -> str:
    """The uploaded file when one was chosen, the pasted text otherwise."""
    file = form.get("fichier")
    if isinstance(file, UploadFile) and file.filename:
        text = _uploaded(file)
    else:
        text = str(form.get("texte") or "")
    if not text.strip():
        raise InputError(422, "texte", "Collez le texte d'une route ou choisissez un fichier.",
                         "Paste the text of a route or choose a file.")
    return normalised(text)


# The handlers read the published routes (blocking): plain ``def``, run in a worker thread.
@router.get("/routes/atelier")
def workshop(request: Request, person: CoordinatorPerson, start: Slug = None,
             version: Annotated[int | None, Query(ge=1, le=MAX_VERSION)] = None) -> Response:
    """Empty, or holding a published version to start a new one from."""
    text = ""
    if start:
        s: CaseServices = request.app.state.services
        text = s.route(start, version).source  # NotFound: a 404 page
    return _workshop(request, person, text=text)


@router.post("/routes/atelier")
def validate(request: Request, person: CoordinatorPerson, form: Form) -> Response:
    try:
        text = _text_of(form)
    except InputError as exc:
        return _workshop(request, person, exc.status, text=str(form.get("texte") or ""),
                         input_error=exc)
    checked = check(request.app.state.services, text, lang_of(request))
    return _workshop(request, person, 422 if checked.problems else 200, text=text,
                     checked=checked)


@router.post("/routes/atelier/simuler")
def simulate_route(request: Request, person: CoordinatorPerson, form: Form) -> Response:
    """A walk through the route's machine with the coordinator's events: nothing is stored."""
    lang = lang_of(request)
    text = normalised(str(form.get("texte") or ""))
    checked = check(request.app.state.services, text, lang)
    if checked.route is None:
        return _workshop(request, person, 422, text=text, checked=checked)
    walk = simulate(checked.route, str(form.get("evenements") or "")[:5000],
                    str(form.get("champs") or ""))
    checked.drawing = Markup(diagram.svg(checked.route, walk.end or None, lang))  # noqa: S704
    return _workshop(request, person, 422 if walk.error else 200, text=text, checked=checked,
                     walk=walk)


@router.post("/routes/atelier/publier")
def publish(request: Request, person: CoordinatorPerson, form: Form) -> Response:
    s: CaseServices = request.app.state.services
    text = normalised(str(form.get("texte") or ""))
    try:
        route, new = s.publish_route(text, by=person.user)
    except InvalidRoute:
        return _workshop(request, person, 422, text=text,
                         checked=check(s, text, lang_of(request)))
    except Conflict as exc:
        rid, v = exc.details.get("route", ""), int(exc.details.get("version", 0))
        sentence = (f"La version {v} de « {rid} » est déjà publiée avec un autre contenu, et une "
                    f"version publiée ne change plus : passez à « version: {v + 1} » (ou plus) "
                    "puis validez à nouveau.",
                    f"Version {v} of '{rid}' is already published with other content, and a "
                    f"published version never changes: raise it to 'version: {v + 1}' (or "
                    "more) and validate again.")
        return _workshop(request, person, 409, text=text, checked=check(s, text,
                         lang_of(request)), conflict=sentence)
    done = "publiee" if new else "deja"
    return RedirectResponse(f"/routes/{route.id}/versions/{route.version}?fait={done}",
                            status_code=303)
