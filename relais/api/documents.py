"""A case's documents (files gathered, letters, messages), files added by hand, and the
institutions' tasks; and the operator's view of the orchestration."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from relais.cases.documents import CaseDocuments, Shown
from relais.cases.domain.results import Document
from relais.cases.store.uow import UnitOfWork

from .deps import AccountsDep, CaseWorker, Operator, PolicyDep, QueriesDep, SharingDep
from .downloads import accepted, document_answer, refusal
from .errors import ApiError
from .schemas import DocumentIn, DocumentList, DocumentOut, TaskOut
from .unit import in_one_unit

router = APIRouter(prefix="/api", tags=["documents"])
CaseId = Annotated[str, Path(max_length=64)]


def _out(shown: Shown) -> DocumentOut:
    d = vars(shown.document)
    return DocumentOut(**{k: d[k] for k in DocumentOut.model_fields if k in d},
                       legal_basis=shown.basis)


@router.get("/cases/{case_id}/documents", response_model=DocumentList)
def list_documents(case_id: CaseId, actor: CaseWorker, q: QueriesDep, sh: SharingDep,
                   p: PolicyDep) -> DocumentList:
    with p.unit() as uow:
        case = p.open(actor, case_id, "documents", uow).case
        shown, withheld = CaseDocuments(q, sh).visible(actor, case, uow)
    return DocumentList(items=[_out(s) for s in shown], withheld=withheld)


@router.get("/cases/{case_id}/documents/{document_id}",
            responses={200: {"content": {"application/octet-stream": {}}}})
def get_document(case_id: CaseId, document_id: Annotated[int, Path(ge=1, le=2**62)],
                 actor: CaseWorker, q: QueriesDep, sh: SharingDep, p: PolicyDep) -> Response:
    with p.unit() as uow:  # the visibility check, the bytes and the read record
        case = q.case_for(actor, case_id, uow)
        found = CaseDocuments(q, sh).content(actor, case, document_id, uow)
    if found is None:
        raise ApiError(404, "not_found", "document introuvable / document not found")
    return document_answer(*found)


@router.post("/cases/{case_id}/documents", status_code=201, response_model=DocumentOut)
def add_document(case_id: CaseId, body: DocumentIn, actor: CaseWorker, q: QueriesDep,
                 sh: SharingDep, p: PolicyDep) -> DocumentOut:
    def work(uow: UnitOfWork) -> DocumentOut:
        case = q.case_for(actor, case_id, uow)  # first: a case one may not see stays a 404
        out = q.s.add_document(case_id, Document(
            f"depot-{actor.institution}-{case.version + 1}", "file", actor.institution,
            body.category, body.title, body.media_type, _content(body)), actor=actor,
            within=uow, loaded=case)
        shown, _ = CaseDocuments(q, sh).visible(actor, out.case, uow)
        return _out(next(s for s in shown if s.document.seq == out.events[0].seq))
    return in_one_unit(p, work)


def _content(body: DocumentIn) -> bytes:
    if not accepted(body.media_type):
        raise ApiError(415, "unsupported_media_type", refusal(), field="media_type")
    try:
        return base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "invalid_input", "content_base64 : base64 invalide / invalid "
                       "base64", field="content_base64") from None


@router.get("/tasks", response_model=list[TaskOut])
def tasks(actor: CaseWorker, q: QueriesDep, sh: SharingDep, p: PolicyDep,
          status: Annotated[str | None, Query(pattern="^(open|done)$")] = "open"
          ) -> list[TaskOut]:
    """My institution's tasks (the coordination: everyone's): files to provide..."""
    with p.unit() as uow:  # the tasks and the record of their cases' reads
        found = CaseDocuments(q, sh).tasks(actor, status=status, within=uow)
        q.log_reads(actor, [t.case_id for t in found], "tasks", uow)
    return [TaskOut(**vars(t)) for t in found]


@router.get("/ops/status", response_model=dict[str, Any])
def status(actor: Operator, known: AccountsDep) -> dict[str, Any]:
    """The outbox and the timer lag (due → handled) of the last 24 hours."""
    return known.ops_status()
