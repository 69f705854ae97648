"""Who read a case file: the read record of one case, for the institution that leads it and
the coordination (a person asks "who saw my file?"; the lead answers for it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from .deps import CaseWorker, PolicyDep

router = APIRouter(prefix="/api", tags=["consents"])


class ReadOut(BaseModel):
    at: datetime
    user: str
    institution: str
    what: str  # case, history, documents, consents, list, search...


class ReadsOut(BaseModel):
    total: int  # every read on record; items: the latest ``limit``
    items: list[ReadOut]


@router.get("/cases/{case_id}/reads", response_model=ReadsOut)
def case_reads(case_id: Annotated[str, Path(max_length=64)], actor: CaseWorker, p: PolicyDep,
               limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> ReadsOut:
    """The read record of the case, latest first: 403 for an institution that takes part
    without leading it, 404 for one that does not take part."""
    with p.unit() as uow:
        _, total, rows = p.reads(actor, case_id, limit, uow)
    return ReadsOut(total=total, items=[ReadOut(**r) for r in rows])
