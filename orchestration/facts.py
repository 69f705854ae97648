"""The case as it was when an action was queued, and what letters and messages say of it.

An action works from the event that queued it, not from the case as it is now: a retried
action sends the same words, and a case that moved on meanwhile is described as it was.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cases.letters import LEGAL, salutation
from cases.outbox_services import CaseAt
from conventions.data_sharing import STATUTORY
from conventions.partners import partners
from institutions.registry import Institution

from .runtime import Runtime


def case_at(rt: Runtime, case_id: str, seq: int) -> CaseAt:
    """The case as event ``seq`` left it (``OutboxServices.case_at``)."""
    return rt.outbox.case_at(case_id, seq)


def institution(rt: Runtime, code: str) -> Institution:
    return rt.services.registry.get(code)


def partners_of(rt: Runtime, at: CaseAt) -> list[Institution]:
    """The institutions taking part: in a joint step, the partners recorded for the case
    (``cases.domain.membership``) of the kinds the step names; else one of each of the route's
    kinds (conventions.partners); the lead always. Never an institution that left the case,
    nor another of its kind in its place (the kind's part in the case ended with it)."""
    owner = at.state.owner
    reg = rt.services.registry
    if at.state.joint:
        found = [reg.get(code) for code in at.case.partners
                 if code in reg and reg.matches(code, owner)]
    else:
        involved = [c for c in (*at.case.partners, *at.case.handed_on)
                    if c not in at.case.left]
        gone = {reg.get(c).kind for c in at.case.left if c in reg}
        found = [i for i in partners(at.route.institutions, lead=at.case.lead,
                                     involved=involved, registry=reg)
                 if i.code in involved or i.kind not in gone]
    lead = institution(rt, at.case.lead)
    return found if lead in found else [lead, *found]


def legal_line(rt: Runtime, at: CaseAt) -> dict[str, str]:
    """The basis on which the lead shares the case with the partners."""
    statutory = STATUTORY.get(institution(rt, at.case.lead).kind)
    return LEGAL[statutory[0]] if statutory else LEGAL["consent"]


def _named(i: Institution) -> dict[str, Any]:
    return {"code": i.code, "name": dict(i.name), "city": i.city, "address": i.address}


def template_context(rt: Runtime, at: CaseAt, **extra: Any) -> dict[str, Any]:
    """What every letter and message template may use."""
    when: datetime = at.event.at
    return {"case_ref": at.ref, "route": {"title": dict(at.route.title)},
            "state": {"title": dict(at.state.title)},
            "institution": _named(institution(rt, at.case.lead)),
            "today": when, "deadline": at.case.deadline.due_at,
            "salutation": salutation(at.person.sex), "legal": legal_line(rt, at),
            "reason": at.event.reason or "", **extra}


def named(rt: Runtime, code: str) -> dict[str, Any]:
    return _named(institution(rt, code))
