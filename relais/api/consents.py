"""Consents and the exchanges they (or the law) allow: recorded, revoked, listed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from .deps import CaseWorker, PolicyDep, QueriesDep, SharingDep
from .schemas import ConsentIn, ConsentOut, ExchangeOut, InformedIn

router = APIRouter(prefix="/api", tags=["consents"])
CaseId = Annotated[str, Path(max_length=64)]


@router.get("/cases/{case_id}/consents", response_model=list[ConsentOut])
def list_consents(case_id: CaseId, actor: CaseWorker, p: PolicyDep) -> list[ConsentOut]:
    """The consents recorded for this case, as far as the caller may read them."""
    with p.unit() as uow:
        shown = p.consents(p.open(actor, case_id, "consents", uow), uow)
    return [ConsentOut(**vars(c)) for c in shown]


@router.post("/cases/{case_id}/consents", status_code=201, response_model=dict[str, str])
def add_consent(case_id: CaseId, body: ConsentIn, actor: CaseWorker, q: QueriesDep,
                sh: SharingDep, p: PolicyDep) -> dict[str, str]:
    with p.unit() as uow:
        case = q.case_for(actor, case_id, uow)
        cid = sh.record(actor, case, grantor=body.grantor, recipients=body.recipients,
                        categories=body.categories, purpose=body.purpose,
                        valid_until=body.valid_until, within=uow)
    return {"id": cid}


@router.post("/consents/{consent_id}/revoke", response_model=dict[str, str])
def revoke_consent(consent_id: Annotated[str, Path(max_length=64)], actor: CaseWorker,
                   sh: SharingDep) -> dict[str, str]:
    sh.revoke(actor, consent_id)
    return {"id": consent_id, "status": "revoked"}


@router.get("/cases/{case_id}/exchanges", response_model=list[ExchangeOut])
def exchanges(case_id: CaseId, actor: CaseWorker, p: PolicyDep,
              sh: SharingDep) -> list[ExchangeOut]:
    with p.unit() as uow:
        p.open(actor, case_id, "exchanges", uow)
        found = sh.exchanges(case_id, uow)
    return [ExchangeOut(**{k: v for k, v in e.items() if k in ExchangeOut.model_fields})
            for e in found]


@router.post("/cases/{case_id}/exchanges/{exchange_id}/informed", status_code=204)
def informed(case_id: CaseId, exchange_id: Annotated[int, Path(ge=1, le=2**62)],
             body: InformedIn, actor: CaseWorker, q: QueriesDep, sh: SharingDep,
             p: PolicyDep) -> None:
    with p.unit() as uow:
        case = q.case_for(actor, case_id, uow)
        sh.check_holder(actor, case)
        sh.mark_informed(case, exchange_id, body.on, uow)
