"""The institutions taking part, on the case page: the coordination adds one or records that
one leaves, with its reason, by the same calls as ``api/cases.py``
(``CaseServices.join_partners``, ``leave_partner``, which check who may)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from relais.cases.access import AccessPolicy
from relais.cases.domain.errors import CaseError, MissingInput, NotAllowed
from relais.cases.queries import CaseQueries

from .case_events import REASON
from .case_inputs import text_of
from .case_view import say, show
from .people import CaseWorkerPerson, Form
from .render import lang_of

router = APIRouter(include_in_schema=False)
CaseId = Annotated[str, Path(max_length=64)]
Code = Annotated[str, Path(max_length=32)]


def _refused(request: Request, person: CaseWorkerPerson, case_id: str, exc: CaseError,
             posted: dict[str, str]) -> Response:
    status = 403 if isinstance(exc, NotAllowed) else 422 if isinstance(exc, MissingInput) \
        else 409
    return show(request, person, case_id, status=status,
                partner_error=say(lang_of(request), exc.message), partner_posted=posted)


@router.post("/dossiers/{case_id}/partenaires")
def join(request: Request, case_id: CaseId, person: CaseWorkerPerson, form: Form) -> Response:
    q: CaseQueries = request.app.state.queries
    policy: AccessPolicy = request.app.state.policy
    code, reason = text_of(form, "institution", 32), text_of(form, REASON)
    try:
        with policy.unit() as uow:  # the case seen, the partner recorded: one transaction
            case = q.case_for(person, case_id, uow)
            q.s.join_partners(case_id, [code] if code else [], actor=person,
                              reason=reason or None, within=uow, loaded=case)
    except (MissingInput, NotAllowed) as exc:
        return _refused(request, person, case_id, exc, {"institution": code, "motif": reason})
    except CaseError as exc:
        if exc.code == "not_found":
            raise
        return _refused(request, person, case_id, exc, {"institution": code, "motif": reason})
    return RedirectResponse(f"/dossiers/{case_id}?fait=partenaire#partenaires",
                            status_code=303)


@router.post("/dossiers/{case_id}/partenaires/{code}/retirer")
def leave(request: Request, case_id: CaseId, code: Code, person: CaseWorkerPerson,
          form: Form) -> Response:
    q: CaseQueries = request.app.state.queries
    policy: AccessPolicy = request.app.state.policy
    reason = text_of(form, REASON)
    try:
        with policy.unit() as uow:
            case = q.case_for(person, case_id, uow)
            q.s.leave_partner(case_id, code, actor=person, reason=reason or None,
                              within=uow, loaded=case)
    except CaseError as exc:
        if exc.code == "not_found":
            raise
        return _refused(request, person, case_id, exc, {"retrait": code, "motif": reason})
    return RedirectResponse(f"/dossiers/{case_id}?fait=retire#partenaires", status_code=303)
