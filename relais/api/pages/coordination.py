"""The coordination's page: escalated cases to settle (a new lead chosen among the route's
institutions, a reason always), and the revolving-door cases with their chain of leads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from relais.api.errors import bilingual
from relais.cases.access import AccessPolicy
from relais.cases.domain.errors import Conflict, MissingInput, NotAllowed
from relais.cases.queries import CaseQueries
from relais.cases.store.uow import UnitOfWork

from ..unit import in_one_unit
from .coordination_data import escalations, revolving
from .people import CoordinatorPerson, Form
from .render import page

router = APIRouter(include_in_schema=False)
CaseId = Annotated[str, Path(max_length=64)]
DONE = {"reglee": ("Escalade réglée : les institutions sont averties et le délai de l'étape "
                   "repart.", "Escalation settled: the institutions are told and the step's "
                   "deadline starts again.")}


def _coordination(request: Request, person: Any, status: int = 200, *,
                  notice: tuple[str, str] | None = None,
                  failed: dict[str, Any] | None = None) -> Response:
    q: CaseQueries = request.app.state.queries
    policy: AccessPolicy = request.app.state.policy
    return page(request, "coordination.html.j2", person, status=status,
                escalations=escalations(q, policy, person),
                revolving=revolving(q, policy, person),
                notice=notice, failed=failed or {})


@router.get("/coordination")
def coordination(request: Request, person: CoordinatorPerson,
                 done: Annotated[str | None, Query(alias="fait", max_length=20)] = None
                 ) -> Response:
    return _coordination(request, person, notice=DONE.get(done or ""))


@router.post("/coordination/escalations/{case_id}")
def settle(request: Request, person: CoordinatorPerson, form: Form,
           case_id: CaseId) -> Response:
    q: CaseQueries = request.app.state.queries
    reason = str(form.get("reason") or "").strip()[:2000]
    lead = str(form.get("lead") or "").strip()[:32] or None
    step = str(form.get("step") or "").strip()[:64] or None
    kept = {"case": case_id, "reason": reason, "lead": lead, "step": step}

    def work(uow: UnitOfWork) -> None:
        case = q.case_for(person, case_id, uow)  # NotFound as for the API: known to them
        q.s.settle_escalation(case_id, actor=person, reason=reason, lead=lead, within=uow,
                              loaded=case, step=step)
    try:
        in_one_unit(request.app.state.policy, work)
    except MissingInput as exc:  # a reason left out, a lead that may not lead on this route
        field = exc.details.get("field") if exc.details.get("field") in ("lead", "step") \
            else "reason"
        return _coordination(request, person, 422, failed={**kept, "field": field,
                                                           "message": bilingual(exc.message)})
    except (Conflict, NotAllowed) as exc:  # settled by someone else meanwhile
        return _coordination(request, person, 409 if isinstance(exc, Conflict) else 403,
                             failed={**kept, "field": "", "message": bilingual(exc.message)})
    return RedirectResponse("/coordination?fait=reglee#escalades", status_code=303)
