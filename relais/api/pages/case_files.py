"""The case page's notes and documents: write a note, upload a file, read a gathered file
as a page, download any document. Each goes through the same service as its API route
(``CaseServices.add_note``, ``add_document``, ``CaseDocuments``) and the access policy.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from relais.cases.access import AccessPolicy
from relais.cases.documents import CaseDocuments, Shown
from relais.cases.domain.errors import MissingInput, NotAllowed
from relais.cases.domain.results import Document
from relais.cases.queries import CaseQueries
from relais.cases.sharing import Sharing
from relais.cases.store.uow import UnitOfWork
from relais.conventions.data_sharing import CATEGORIES
from relais.i18n import N_, localize

from ..downloads import document_answer
from ..unit import in_one_unit
from ..upload_checks import Refused, checked_upload
from .case_files_words import NOTE_CATEGORY, NOTE_TEXT, UPLOAD_FILE, UPLOAD_TITLE, document_page
from .case_inputs import text_of
from .case_view import say, show
from .people import CaseWorkerPerson, Form, PageRefused
from .render import lang_of, page

router = APIRouter(include_in_schema=False)
CaseId = Annotated[str, Path(max_length=64)]
DocumentId = Annotated[int, Path(ge=1, le=2**62)]
UPLOAD_PATH = "/documents/depot"


@router.post("/dossiers/{case_id}/notes")
def add_note(request: Request, case_id: CaseId, person: CaseWorkerPerson,
             form: Form) -> Response:
    q: CaseQueries = request.app.state.queries
    text, category = text_of(form, NOTE_TEXT, 20_000), text_of(form, NOTE_CATEGORY, 40)

    def work(uow: UnitOfWork) -> None:
        case = q.case_for(person, case_id, uow)  # 404 before anything, as the API
        q.s.add_note(case_id, text, category, actor=person, within=uow, loaded=case)
    try:
        in_one_unit(request.app.state.policy, work)
    except (MissingInput, NotAllowed) as exc:
        field = exc.details.get("field", "")
        return show(request, person, case_id, status=403 if isinstance(exc, NotAllowed)
                    else 422, note_error=(str(field), say(lang_of(request), exc.message)),
                    note_posted={"text": text, "category": category})
    return RedirectResponse(f"/dossiers/{case_id}?fait=note#historique", status_code=303)


def is_upload(path: str) -> bool:
    """The page route a file is posted to (``BodyGuard`` lets its body be larger)."""
    return path.startswith("/dossiers/") and path.endswith(UPLOAD_PATH) \
        and path.count("/") == 4


@router.post("/dossiers/{case_id}" + UPLOAD_PATH)
def upload(request: Request, case_id: CaseId, person: CaseWorkerPerson,
           form: Form) -> Response:
    """A file of the caller's institution: checked (size, type by its first bytes) before
    anything is stored; refused, the page says why beside the field."""
    q: CaseQueries = request.app.state.queries
    title, category = text_of(form, UPLOAD_TITLE, 300), text_of(form, NOTE_CATEGORY, 40)
    posted = {"title": title, "category": category}
    lang = lang_of(request)

    def refused(field: str, text: str) -> Response:
        """The form again, the reason (a msgid, or a message with values) under ``field``."""
        return show(request, person, case_id, status=422, upload_posted=posted,
                    upload_error=(field, localize(text, lang)))

    q.case_for(person, case_id)  # a case one may not see stays a 404, whatever was posted
    file = form.get(UPLOAD_FILE)
    if not isinstance(file, UploadFile) or not file.filename:
        return refused(UPLOAD_FILE, N_("Choose a file."))
    content = file.file.read(request.app.state.upload_limit + 1)
    try:
        media = checked_upload(content, file.content_type or "", request.app.state.upload_limit)
    except Refused as exc:
        return refused(UPLOAD_FILE, exc.said)
    if category not in CATEGORIES:
        return refused(NOTE_CATEGORY, N_("Choose a category."))
    if "\x00" in title:
        return refused(UPLOAD_TITLE, N_("A character of the title is refused."))
    # no title: the file's name, without control characters (PostgreSQL text holds no NUL)
    title = title or "".join(ch for ch in file.filename if ch >= " ")[:300] or "document"

    def work(uow: UnitOfWork) -> None:
        case = q.case_for(person, case_id, uow)
        q.s.add_document(case_id, Document(
            f"depot-{person.institution}-{case.version + 1}", "file", person.institution,
            category, title, media, content), actor=person, within=uow, loaded=case)
    try:
        in_one_unit(request.app.state.policy, work)
    except (MissingInput, NotAllowed) as exc:
        return refused(UPLOAD_FILE, exc.message)
    return RedirectResponse(f"/dossiers/{case_id}?fait=document#documents", status_code=303)


def _found(request: Request, person: CaseWorkerPerson, case_id: str,
           document_id: int) -> tuple[Shown, bytes]:
    q: CaseQueries = request.app.state.queries
    sh: Sharing = request.app.state.sharing
    policy: AccessPolicy = request.app.state.policy
    with policy.unit() as uow:  # the visibility check, the bytes and the read record
        case = q.case_for(person, case_id, uow)
        found = CaseDocuments(q, sh).shown_content(person, case, document_id, uow)
    if found is None:
        raise PageRefused(404, "Ce document n'existe pas ou ne vous est pas communiqué.",
                          "This document does not exist or is not disclosed to you.")
    return found


@router.get("/dossiers/{case_id}/documents/{document_id}")
def document(request: Request, case_id: CaseId, document_id: DocumentId,
             person: CaseWorkerPerson) -> Response:
    """A gathered record (JSON) as a page to read; any other file is downloaded."""
    shown, content = _found(request, person, case_id, document_id)
    context = document_page(request.app.state.services.registry, shown, content,
                            lang_of(request))
    if context is None:
        return document_answer(shown.document, content)
    return page(request, "document_page.html.j2", person, case_id=case_id, **context)


@router.get("/dossiers/{case_id}/documents/{document_id}/fichier")
def download(request: Request, case_id: CaseId, document_id: DocumentId,
             person: CaseWorkerPerson) -> Response:
    """The file as it was kept (the gathered JSON too, for machines): always an attachment."""
    shown, content = _found(request, person, case_id, document_id)
    return document_answer(shown.document, content)
