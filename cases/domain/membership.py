"""Who takes part in a case: the partners recorded for it, never every institution of a kind.

A joint step (an owner naming kinds, e.g. ``[AC, AI, SA]``) is shared with one institution of
each kind, chosen by the conventions (``conventions.partners``: the one already involved, else
the one of the lead's region). The choice is recorded in the event by which the case enters
the step (its ``partners``), so that who may see and act is a fact of the case's history, not a
lookup that any institution of the same kind would pass. A partner keeps taking part after the
step (a signatory follows the plan it signed) until it leaves.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

from conventions.partners import partners

from .access import ACTING_ROLES
from .actors import Actor
from .case import CaseState
from .context import Context, draft
from .errors import Conflict, EventRefused, MissingInput, NotAllowed
from .events import Event
from .payloads import Common, PartnersJoined

P = TypeVar("P", bound=Common)


def joining(ctx: Context, case: CaseState, state: str, lead: str) -> list[str]:
    """The institutions that join ``case`` when it enters ``state`` with ``lead`` as lead
    (nobody joins a case that this step closes)."""
    step = ctx.route.states[state]
    if not step.joint or step.final:
        return []
    owner = step.owner
    involved = [case.lead, *case.partners, *case.handed_on]  # a lead handing on stays in
    chosen = partners(owner, lead=lead, involved=involved, registry=ctx.registry)
    return [i.code for i in chosen if i.code != lead and i.code not in case.partners]


def with_partners(data: P, codes: list[str]) -> P:
    """An event's data with the institutions that join the case by it (``partners``)."""
    if not codes:
        return data
    joined = data.copy()
    joined["partners"] = codes
    return joined


def joined(ctx: Context, case_id: str, actor: Actor, codes: list[str], state: str
           ) -> list[Event]:
    """A partner added by decision (the coordination): an event of its own."""
    if not codes:
        return []
    return [draft(ctx, case_id, "partners_joined", actor, from_state=state, to_state=state,
                  data=PartnersJoined(partners=codes))]


def join(ctx: Context, case: CaseState, actor: Actor, codes: list[str],
         reason: str | None) -> list[Event]:
    """The coordination adds institutions to a case (or the system records the partners of
    a joint step entered before partners were recorded): an event with who and why."""
    if not (actor.is_system or (actor.is_coordination and actor.role in ACTING_ROLES)):
        raise NotAllowed("seule la coordination CII ajoute des partenaires / only the CII "
                         "coordination adds partners")
    if not case.is_open:
        raise EventRefused("le cas est clos / the case is closed", allowed_events=[])
    unknown = [c for c in codes if c not in ctx.registry]
    if unknown or not codes:
        raise MissingInput(f"institutions inconnues : {', '.join(unknown) or '-'} / unknown "
                           f"institutions", field="institutions")
    if not actor.is_system and not (reason or "").strip():
        raise MissingInput("un motif est requis / a reason is required", field="reason")
    new = [c for c in dict.fromkeys(codes) if not is_partner(c, case)]
    if not new:
        raise Conflict("ces institutions participent déjà au cas / these institutions already "
                       "take part in the case")
    out = joined(ctx, case.id, actor, new, case.state)
    return [replace(e, reason=reason) for e in out]


def is_partner(institution: str, case: CaseState) -> bool:
    return institution == case.lead or institution in case.partners
