"""Consents on the case page: record one, revoke one, with the same calls as
``api/consents.py`` (``Sharing.record``, ``Sharing.revoke``, which check who may)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from relais.cases.access import AccessPolicy
from relais.cases.domain.errors import MissingInput, NotAllowed, NotFound
from relais.cases.queries import CaseQueries
from relais.cases.sharing import Sharing

from .case_inputs import text_of
from .case_view import say, show
from .people import CaseWorkerPerson, Form, PageRefused
from .render import lang_of

router = APIRouter(include_in_schema=False)
CaseId = Annotated[str, Path(max_length=64)]


def _valid_until(raw: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise MissingInput("date attendue (AAAA-MM-JJ) / date expected (YYYY-MM-DD)",
                           field="valid_until") from None


def _required(value: str, field: str) -> str:
    if not value:
        raise MissingInput("obligatoire / required", field=field)
    return value


@router.post("/dossiers/{case_id}/consentements")
def record(request: Request, case_id: CaseId, person: CaseWorkerPerson,
           form: Form) -> Response:
    q: CaseQueries = request.app.state.queries
    sh: Sharing = request.app.state.sharing
    policy: AccessPolicy = request.app.state.policy
    recipients = [str(r)[:32] for r in form.getlist("destinataires")][:20]
    categories = [str(c)[:32] for c in form.getlist("categories")][:10]
    try:
        with policy.unit() as uow:  # the case seen, the consent recorded: one transaction
            case = q.case_for(person, case_id, uow)
            grantor = _required(text_of(form, "concedant", 200), "grantor")
            sh.record(person, case, grantor=grantor, recipients=recipients,
                      categories=categories, purpose=_required(text_of(form, "but"), "purpose"),
                      valid_until=_valid_until(text_of(form, "valable_jusqu", 10)), within=uow)
    except (MissingInput, NotAllowed) as exc:
        field = exc.details.get("field", "")
        status = 403 if isinstance(exc, NotAllowed) else 422
        return show(request, person, case_id, status=status,
                    consent_error=(field, say(lang_of(request), exc.message)),
                    consent_posted={"concedant": text_of(form, "concedant", 200),
                                    "but": text_of(form, "but"),
                                    "valable_jusqu": text_of(form, "valable_jusqu", 10),
                                    "destinataires": recipients, "categories": categories})
    return RedirectResponse(f"/dossiers/{case_id}?fait=consentement#consentements",
                            status_code=303)


@router.post("/dossiers/{case_id}/consentements/{consent_id}/revoquer")
def revoke(request: Request, case_id: CaseId,
           consent_id: Annotated[str, Path(max_length=64)], person: CaseWorkerPerson,
           form: Form) -> Response:
    q: CaseQueries = request.app.state.queries
    sh: Sharing = request.app.state.sharing
    policy: AccessPolicy = request.app.state.policy
    try:
        with policy.unit() as uow:
            case = q.case_for(person, case_id, uow)
            if not any(c.id == consent_id for c, _ in sh.consents(case, uow)):
                raise PageRefused(404, "Ce consentement n'appartient pas à ce dossier.",
                                  "This consent does not belong to this case.")
            sh.revoke(person, consent_id, uow)
    except NotFound as exc:
        return show(request, person, case_id, status=409,
                    consent_error=("", say(lang_of(request), exc.message)))
    return RedirectResponse(f"/dossiers/{case_id}?fait=revoque#consentements", status_code=303)
