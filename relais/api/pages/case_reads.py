"""« Qui a consulté ce dossier » : the read record of a case as a page, for the case
managers of the lead institution and the coordination (``AccessPolicy.reads``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from relais.cases.access import AccessPolicy
from relais.cases.domain.errors import NotAllowed

from .people import CaseWorkerPerson, PageRefused
from .render import page

router = APIRouter(include_in_schema=False)
WHAT = {"case": ("le dossier", "the case file"), "history": ("l'historique", "the timeline"),
        "list": ("une liste", "a list"), "documents": ("les documents", "the documents"),
        "document": ("un document", "a document"), "consents": ("les consentements",
                                                                "the consents"),
        "exchanges": ("les échanges", "the exchanges"), "reads": ("ce journal", "this record"),
        "partners": ("les partenaires", "the partners"), "measures": ("les mesures",
                                                                      "the measures"),
        "deadlines": ("les délais", "the deadlines"), "search": ("une recherche", "a search"),
        "inbox": ("la boîte de réception", "the inbox"), "tasks": ("les tâches", "the tasks")}


@router.get("/dossiers/{case_id}/consultations")
def reads_page(request: Request, case_id: Annotated[str, Path(max_length=64)],
               person: CaseWorkerPerson) -> Response:
    policy: AccessPolicy = request.app.state.policy
    try:
        with policy.unit() as uow:
            view, total, rows = policy.reads(person, case_id, 500, uow)
    except NotAllowed as exc:
        raise PageRefused(403, "Seules l'institution responsable et la coordination voient qui "
                          "a consulté le dossier.", "Only the lead institution and the "
                          "coordination see who read the case.") from exc
    return page(request, "case_reads.html.j2", person, case=view.case, total=total,
                reads=rows, what=WHAT)
