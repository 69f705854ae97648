"""Who takes part in a case: the partners recorded for it, never every institution of a kind.

A joint step (an owner naming kinds, e.g. ``[AC, AI, SA]``) is shared with one institution of
each kind, chosen by the conventions (``conventions.partners``: the one already involved, else
the one of the lead's region). The choice is recorded in the event by which the case enters
the step (its ``partners``), so that who may see and act is a fact of the case's history, not a
lookup that any institution of the same kind would pass. A partner keeps taking part after the
step (a signatory follows the plan it signed) until it leaves.
"""

from __future__ import annotations

from typing import Any

from conventions.partners import partners
from workflows.engine.model import COORDINATION, LEAD

from .actors import Actor
from .case import CaseState
from .context import Context, draft
from .events import Event


def joining(ctx: Context, case: CaseState, state: str, lead: str) -> list[str]:
    """The institutions that join ``case`` when it enters ``state`` with ``lead`` as lead."""
    owner = ctx.route.states[state].owner
    if owner in ((LEAD,), (COORDINATION,), ()):
        return []
    involved = [*case.partners, *case.handed_on]
    chosen = partners(owner, lead=lead, involved=involved, registry=ctx.registry)
    return [i.code for i in chosen if i.code != lead and i.code not in case.partners]


def with_partners(data: dict[str, Any], codes: list[str]) -> dict[str, Any]:
    """An event's data with the institutions that join the case by it (``partners``)."""
    return {**data, "partners": codes} if codes else data


def joined(ctx: Context, case_id: str, actor: Actor, codes: list[str], state: str
           ) -> list[Event]:
    """A partner added by decision (the coordination): an event of its own."""
    if not codes:
        return []
    return [draft(ctx, case_id, "partners_joined", actor, from_state=state, to_state=state,
                  data={"partners": codes})]


def is_partner(institution: str, case: CaseState) -> bool:
    return institution == case.lead or institution in case.partners
