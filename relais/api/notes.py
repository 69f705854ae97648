"""Notes on a case over HTTP: ``POST /api/cases/{id}/notes`` writes one; the history shows
it (``history_item``) with its text only to readers who may read its category."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import StringConstraints

from relais.cases.domain.events import Event
from relais.cases.store.uow import UnitOfWork

from .deps import CaseWorker, PolicyDep, QueriesDep
from .schemas import HistoryItem, NoteShown, Strict
from .unit import in_one_unit

router = APIRouter(prefix="/api", tags=["cases"])
CaseId = Annotated[str, Path(max_length=64)]


class NoteIn(Strict):
    """The text (1 to 4000 characters once trimmed: ``domain.notes``) and its data category
    (``identite``, ``situation``, ``medical``, ``aide_sociale``)."""
    text: Annotated[str, StringConstraints(max_length=20_000)]
    category: Annotated[str, StringConstraints(max_length=40)]


def history_item(e: Event) -> HistoryItem:
    """One event of the history as the API shows it (already as its reader may read it)."""
    note = NoteShown(category=str(e.data.get("category")), text=e.data.get("text")) \
        if e.kind == "note_added" else None
    return HistoryItem(seq=e.seq, at=e.at, actor=e.actor, institution=e.institution,
                       kind=e.kind, event=e.event, from_=e.from_state, to=e.to_state,
                       reason=e.reason, note=note)


@router.post("/cases/{case_id}/notes", status_code=201, response_model=HistoryItem,
             response_model_by_alias=True)
def add_note(case_id: CaseId, body: NoteIn, actor: CaseWorker, q: QueriesDep,
             p: PolicyDep) -> HistoryItem:
    """No ``If-Match``: a note decides nothing, and one recorded since does not make
    anyone's ``If-Match`` stale either (``events.BACKGROUND``)."""
    def work(uow: UnitOfWork) -> HistoryItem:
        case = q.case_for(actor, case_id, uow)  # first: a case one may not see stays a 404
        out = q.s.add_note(case_id, body.text, body.category, actor=actor, within=uow,
                           loaded=case)
        view = p.seen(actor, out.case, "history", uow)  # shown back: a read, recorded
        return history_item(view.event(out.events[0]))
    return in_one_unit(p, work)
