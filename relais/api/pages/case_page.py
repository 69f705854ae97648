"""The case page: read the case, fire an event, answer a handoff (its notes and documents:
``case_files``).

Every change goes through the case services with the same calls as ``api/cases.py``; an
error a person can fix re-renders the page with the message under the field at fault
(422), a case that changed meanwhile re-renders with its new state (409).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from relais.cases.access import AccessPolicy
from relais.cases.domain.decide import EventInput
from relais.cases.domain.errors import (
    Conflict,
    EventRefused,
    HandoffPending,
    MissingInput,
    NotAllowed,
    NotFound,
    StaleVersion,
)
from relais.cases.queries import CaseQueries
from relais.cases.store.uow import UnitOfWork

from ..unit import in_one_unit
from .case_events import LEAD, OUTCOME, REASON
from .case_inputs import read_fields, text_of
from .case_view import say, show
from .people import CaseWorkerPerson, Form, PageRefused
from .render import lang_of

router = APIRouter(include_in_schema=False)
CaseId = Annotated[str, Path(max_length=64)]


def _done(case_id: str, what: str, back: str = "") -> RedirectResponse:
    target = "/dossiers" if back == "boite" else f"/dossiers/{case_id}"
    return RedirectResponse(f"{target}?fait={what}", status_code=303)


@router.get("/dossiers/{case_id}")
def case_page(request: Request, case_id: CaseId, person: CaseWorkerPerson) -> Response:
    return show(request, person, case_id)  # a plain def: the reads run off the event loop


@router.post("/dossiers/{case_id}/evenements")
def fire(request: Request, case_id: CaseId, person: CaseWorkerPerson,
         form: Form) -> Response:
    """One unit of work, as the API's: the visibility check on the case row (read once),
    the decision and its events."""
    q: CaseQueries = request.app.state.queries
    policy: AccessPolicy = request.app.state.policy
    event, version = text_of(form, "evenement", 64), text_of(form, "version", 12)
    lang = lang_of(request)
    try:
        with policy.unit() as uow:
            case = q.case_for(person, case_id, uow)  # 404 before anything, as the API
            if not (version.isascii() and version.isdigit()):  # int("²") raises
                raise PageRefused(422, "Le formulaire ne dit pas quelle version du dossier "
                                  "vous avez vue : rechargez la page.", "The form does not say "
                                  "which version of the case you saw: reload the page.")
            route = q.s.route_of(case)
            fields = read_fields(route, form, route.fields, unchanged=case.fields)
            data = EventInput(text_of(form, REASON) or None, text_of(form, OUTCOME, 64) or None,
                              fields, text_of(form, LEAD, 32) or None)
            out = q.s.fire(case_id, event, actor=person, expected_version=int(version),
                           data=data, within=uow, loaded=case)
    except StaleVersion:
        return show(request, person, case_id, status=409, stale=True)
    except MissingInput as exc:
        field = exc.details.get("field")
        return show(request, person, case_id, status=422, posted=form,
                    failed=(event, field if isinstance(field, str) else None,
                            say(lang, exc.message)))
    except (EventRefused, HandoffPending, Conflict, NotAllowed) as exc:
        status = 403 if isinstance(exc, NotAllowed) else 409
        return show(request, person, case_id, status=status, posted=form,
                    failed=(event, None, say(lang, exc.message)))
    what = {"handoff": "transfert", "signed": "signe"}.get(out.status, "evenement")
    return _done(case_id, what)


SIGNOFF_ANSWERS = {"approuver": "approve", "refuser": "refuse", "retirer": "withdraw"}
SignoffAnswer = Annotated[Literal["approuver", "refuser", "retirer"], Path()]


@router.post("/dossiers/{case_id}/signature/{answer}")
def answer_signoff(request: Request, case_id: CaseId, answer: SignoffAnswer,
                   person: CaseWorkerPerson, form: Form) -> Response:
    """Approve the proposal as it stands, refuse it with a reason, or (its author) withdraw
    it: the same call as the API's, on the version the page showed."""
    q: CaseQueries = request.app.state.queries
    policy: AccessPolicy = request.app.state.policy
    version, reason = text_of(form, "version", 12), text_of(form, REASON) or None
    lang = lang_of(request)
    try:
        with policy.unit() as uow:
            case = q.case_for(person, case_id, uow)  # 404 before anything, as the API
            if not (version.isascii() and version.isdigit()):
                raise PageRefused(422, "Le formulaire ne dit pas quelle version du dossier "
                                  "vous avez vue : rechargez la page.", "The form does not say "
                                  "which version of the case you saw: reload the page.")
            out = q.s.answer_signoff(case_id, SIGNOFF_ANSWERS[answer], actor=person,
                                     reason=reason, expected_version=int(version),
                                     within=uow, loaded=case)
    except StaleVersion:
        return show(request, person, case_id, status=409, stale=True)
    except MissingInput as exc:
        return show(request, person, case_id, status=422, signoff_reason=reason or "",
                    signoff_error=(say(lang, exc.message), answer))
    except (EventRefused, HandoffPending, Conflict, NotAllowed, NotFound) as exc:
        status = 403 if isinstance(exc, NotAllowed) else 409
        return show(request, person, case_id, status=status,
                    signoff_error=(say(lang, exc.message), ""))
    what = {"refuser": "signature-refusee", "retirer": "signature-retiree"}.get(answer) or {
        "handoff": "transfert", "signed": "signe"}.get(out.status, "evenement")
    return _done(case_id, what)


def _pending(q: CaseQueries, person: CaseWorkerPerson, case_id: str, hid: str,
             uow: UnitOfWork) -> None:
    """The handoff named by the form must be this case's pending one."""
    case = q.case_for(person, case_id, uow)
    if case.handoff is None or case.handoff.id != hid:
        raise NotFound("ce transfert n'attend plus de réponse / this handoff is no longer "
                       "pending")


@router.post("/dossiers/{case_id}/transfert/accepter")
def accept(request: Request, case_id: CaseId, person: CaseWorkerPerson,
           form: Form) -> Response:
    q: CaseQueries = request.app.state.queries
    hid = text_of(form, "transfert", 64)

    def work(uow: UnitOfWork) -> None:
        _pending(q, person, case_id, hid, uow)
        q.s.accept_handoff(hid, actor=person, within=uow)
    try:
        in_one_unit(request.app.state.policy, work)
    except (NotFound, Conflict, NotAllowed) as exc:
        q.case_for(person, case_id)  # a case one may not see stays a 404
        return show(request, person, case_id, status=409,
                    handoff_error=say(lang_of(request), exc.message))
    return _done(case_id, "accepte", text_of(form, "retour", 10))


@router.post("/dossiers/{case_id}/transfert/refuser")
def refuse(request: Request, case_id: CaseId, person: CaseWorkerPerson,
           form: Form) -> Response:
    q: CaseQueries = request.app.state.queries
    hid = text_of(form, "transfert", 64)
    lang = lang_of(request)

    def work(uow: UnitOfWork) -> None:
        _pending(q, person, case_id, hid, uow)
        q.s.refuse_handoff(hid, actor=person, reason=text_of(form, REASON) or None, within=uow)
    try:
        in_one_unit(request.app.state.policy, work)
    except MissingInput as exc:
        return show(request, person, case_id, status=422, refuse_error=say(lang, exc.message),
                    refuse_reason=text_of(form, REASON))
    except (NotFound, Conflict, NotAllowed) as exc:
        q.case_for(person, case_id)
        return show(request, person, case_id, status=409, handoff_error=say(lang, exc.message))
    return _done(case_id, "refuse", text_of(form, "retour", 10))
