"""Cases and handoffs: the case managers' part of the contract."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Response

from relais.cases.domain.decide import EventInput
from relais.cases.domain.errors import Conflict, StaleVersion
from relais.cases.domain.membership import roster
from relais.cases.sharing import ReferralConsent
from relais.cases.store.uow import UnitOfWork

from .deps import CaseWorker, Coordinator, PolicyDep, QueriesDep, SharingDep
from .errors import ApiError
from .notes import history_item
from .schemas import (
    CaseCreate,
    CaseList,
    CaseOut,
    ContactChange,
    EventIn,
    HistoryItem,
    PartnerLeave,
    PartnerOut,
    PartnersIn,
    ReferralConsentIn,
    RefuseIn,
    SettleIn,
    SignoffAnswerIn,
)
from .unit import in_one_unit
from .views import case_out

router = APIRouter(prefix="/api", tags=["cases"])
CaseId = Annotated[str, Path(max_length=64)]
HandoffId = Annotated[str, Path(max_length=64)]
IfMatch = Annotated[str | None, Header(max_length=40)]
SignoffAnswer = Annotated[Literal["approve", "refuse", "withdraw"], Path()]


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    raw = if_match.strip().removeprefix("W/").strip('"')
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:  # int("²") raises
        raise ApiError(422, "invalid_input", "If-Match : la version du cas, p. ex. \"3\" / "
                       "If-Match: the case version, e.g. \"3\"")
    return int(raw)


def _consent(given: ReferralConsentIn | None) -> ReferralConsent | None:
    if given is None:
        return None
    base = ReferralConsent(given.grantor, valid_until=given.valid_until)
    return ReferralConsent(given.grantor, tuple(given.categories or base.categories),
                           tuple(given.recipients or ()), given.purpose or base.purpose,
                           given.valid_until)


def _answer(response: Response, case: CaseOut, status: int = 200) -> CaseOut:
    response.status_code = status
    response.headers["ETag"] = f'"{case.version}"'
    return case


@router.post("/cases", status_code=201, response_model=CaseOut)
def open_case(body: CaseCreate, actor: CaseWorker, q: QueriesDep, p: PolicyDep,
              sh: SharingDep, response: Response) -> CaseOut:
    # the case, its consent, its first read and what it shows: one transaction
    with p.unit() as uow:
        out = sh.refer(actor, route=body.route, person=body.person.model_dump(),
                       consent=_consent(body.consent), fields=body.fields, reason=body.reason,
                       confirm_duplicate=body.confirm_duplicate, within=uow)
        return _answer(response, case_out(q, p.seen(actor, out.case, "case", uow), uow), 201)


@router.get("/cases", response_model=CaseList)
def list_cases(actor: CaseWorker, q: QueriesDep, p: PolicyDep,
               state: Annotated[str | None, Query(max_length=64)] = None,
               lead: Annotated[str | None, Query(max_length=32)] = None,
               overdue: bool = False,
               cursor: Annotated[str | None, Query(max_length=200)] = None,
               limit: Annotated[int, Query(ge=1, le=200)] = 50,
               search: Annotated[str | None, Query(alias="q", max_length=100)] = None,
               avs: Annotated[str | None, Query(max_length=40)] = None) -> CaseList:
    with p.unit() as uow:  # the page, the reads recorded, the disclosures, the people: one unit
        found, nxt, searched = p.search(actor, q=search, avs=avs, state=state, lead=lead,
                                        overdue=overdue, cursor=cursor, limit=limit, within=uow)
        views = p.views(actor, found, "search" if searched else "list", uow)
        return CaseList(items=[case_out(q, v, uow) for v in views], next=nxt)


@router.get("/cases/{case_id}", response_model=CaseOut)
def get_case(case_id: CaseId, actor: CaseWorker, q: QueriesDep, p: PolicyDep,
             response: Response) -> CaseOut:
    with p.unit() as uow:  # visibility, read record, disclosure, person: one transaction
        return _answer(response, case_out(q, p.open(actor, case_id, "case", uow), uow))


@router.get("/cases/{case_id}/history", response_model=list[HistoryItem],
            response_model_by_alias=True)
def history(case_id: CaseId, actor: CaseWorker, p: PolicyDep) -> list[HistoryItem]:
    with p.unit() as uow:
        events = p.history(p.open(actor, case_id, "history", uow), uow)
    return [history_item(e) for e in events]


@router.post("/cases/{case_id}/events", response_model=CaseOut,
             responses={202: {"model": CaseOut}})
def fire(case_id: CaseId, body: EventIn, actor: CaseWorker, q: QueriesDep, p: PolicyDep,
         response: Response, if_match: IfMatch = None) -> CaseOut:
    """One unit of work: the visibility check on the case row (read once), the decision,
    its events, and the read record and disclosures of the answer; all or nothing."""
    version = _version(if_match)
    with p.unit() as uow:
        case = q.case_for(actor, case_id, uow)
        try:
            out = q.s.fire(case_id, body.event, actor=actor, expected_version=version,
                           data=EventInput(body.reason, body.outcome, body.fields, body.lead),
                           within=uow, loaded=case)
        except StaleVersion as exc:
            if if_match is not None:
                raise
            raise Conflict(exc.message, **exc.details) from None  # a race unseen by the caller
        return _answer(response, case_out(q, p.seen(actor, out.case, "case", uow), uow),
                       202 if out.status != "done" else 200)


@router.put("/cases/{case_id}/contact", response_model=CaseOut)
def change_contact(case_id: CaseId, body: ContactChange, actor: CaseWorker, q: QueriesDep,
                   p: PolicyDep, response: Response, if_match: IfMatch = None) -> CaseOut:
    """The lead changes how its case reaches the person: an event with who and why; other
    cases of the person keep what their institutions hold."""
    version = _version(if_match)
    with p.unit() as uow:
        case = q.case_for(actor, case_id, uow)
        try:
            out = q.s.change_contact(case_id, body.contact.model_dump(), actor=actor,
                                     reason=body.reason, expected_version=version,
                                     within=uow, loaded=case)
        except StaleVersion as exc:
            if if_match is not None:
                raise
            raise Conflict(exc.message, **exc.details) from None  # a race unseen by the caller
        return _answer(response, case_out(q, p.seen(actor, out.case, "case", uow), uow))


@router.post("/cases/{case_id}/partners", response_model=CaseOut)
def join_partners(case_id: CaseId, body: PartnersIn, actor: Coordinator, q: QueriesDep,
                  p: PolicyDep, response: Response) -> CaseOut:
    """The coordination names institutions that take part in the case from now on."""
    def work(uow: UnitOfWork) -> CaseOut:
        case = q.case_for(actor, case_id, uow)
        out = q.s.join_partners(case_id, body.institutions, actor=actor, reason=body.reason,
                                within=uow, loaded=case)
        return case_out(q, p.seen(actor, out.case, "case", uow), uow)
    return _answer(response, in_one_unit(p, work))


@router.post("/cases/{case_id}/partners/{institution}/leave", response_model=CaseOut)
def leave_partner(case_id: CaseId, institution: Annotated[str, Path(max_length=32)],
                  body: PartnerLeave, actor: Coordinator, q: QueriesDep, p: PolicyDep,
                  response: Response) -> CaseOut:
    """The coordination records that an institution stops taking part in the case, with
    its reason (409: the lead, an institution not taking part, one whose file is awaited)."""
    def work(uow: UnitOfWork) -> CaseOut:
        case = q.case_for(actor, case_id, uow)
        out = q.s.leave_partner(case_id, institution, actor=actor, reason=body.reason,
                                within=uow, loaded=case)
        return case_out(q, p.seen(actor, out.case, "case", uow), uow)
    return _answer(response, in_one_unit(p, work))


@router.get("/cases/{case_id}/partners", response_model=list[PartnerOut])
def partners(case_id: CaseId, actor: CaseWorker, q: QueriesDep,
             p: PolicyDep) -> list[PartnerOut]:
    """Who takes part in the case now, each since the event that brought it in (a read)."""
    with p.unit() as uow:
        view = p.open(actor, case_id, "partners", uow)
        members = roster(p.history(view, uow), view.case)
    reg = q.s.registry
    return [PartnerOut(institution=m.institution, name=dict(reg.get(m.institution).name),
                       kind=reg.get(m.institution).kind.value, role=m.role, since=m.since,
                       by_kind=m.kind, by_event=m.event, by_actor=m.actor,
                       by_institution=m.by)
            for m in members if m.institution in reg]


@router.post("/handoffs/{handoff_id}/accept", response_model=CaseOut)
def accept(handoff_id: HandoffId, actor: CaseWorker, q: QueriesDep, p: PolicyDep,
           response: Response) -> CaseOut:
    def work(uow: UnitOfWork) -> CaseOut:
        out = q.s.accept_handoff(handoff_id, actor=actor, within=uow)
        return case_out(q, p.seen(actor, out.case, "case", uow), uow)
    return _answer(response, in_one_unit(p, work))


@router.post("/handoffs/{handoff_id}/refuse", response_model=CaseOut)
def refuse(handoff_id: HandoffId, actor: CaseWorker, q: QueriesDep, p: PolicyDep,
           response: Response, body: RefuseIn | None = None) -> CaseOut:
    def work(uow: UnitOfWork) -> CaseOut:
        out = q.s.refuse_handoff(handoff_id, actor=actor, reason=body.reason if body else None,
                                 within=uow)
        return case_out(q, p.seen(actor, out.case, "case", uow), uow)
    return _answer(response, in_one_unit(p, work))


@router.post("/cases/{case_id}/signoff/{answer}", response_model=CaseOut,
             responses={202: {"model": CaseOut}})
def answer_signoff(case_id: CaseId, answer: SignoffAnswer, actor: CaseWorker, q: QueriesDep,
                   p: PolicyDep, response: Response, body: SignoffAnswerIn | None = None,
                   if_match: IfMatch = None) -> CaseOut:
    """A signatory approves the proposal as it stands (202 while signatures are awaited,
    as firing its event) or refuses it with a reason; its author (or the coordination)
    withdraws it. One unit of work, as ``fire``."""
    version = _version(if_match)
    with p.unit() as uow:
        case = q.case_for(actor, case_id, uow)
        try:
            out = q.s.answer_signoff(case_id, answer, actor=actor,
                                     reason=body.reason if body else None,
                                     expected_version=version, within=uow, loaded=case)
        except StaleVersion as exc:
            if if_match is not None:
                raise
            raise Conflict(exc.message, **exc.details) from None
        return _answer(response, case_out(q, p.seen(actor, out.case, "case", uow), uow),
                       202 if out.status != "done" else 200)


@router.post("/cases/{case_id}/escalation/settle", response_model=CaseOut)
def settle(case_id: CaseId, body: SettleIn, actor: Coordinator, q: QueriesDep, p: PolicyDep,
           response: Response) -> CaseOut:
    """The coordination settles an escalation: the lead, and where the route allows, the
    step the case resumes (entered on the signatures already given to its proposal)."""
    def work(uow: UnitOfWork) -> CaseOut:
        case = q.case_for(actor, case_id, uow)
        out = q.s.settle_escalation(case_id, actor=actor, reason=body.reason, lead=body.lead,
                                    step=body.step, within=uow, loaded=case)
        return case_out(q, p.seen(actor, out.case, "case", uow), uow)
    return _answer(response, in_one_unit(p, work))
