"""Who takes part in a case: the partners recorded for it, never every institution of a kind.

A joint step (an owner naming kinds, e.g. ``[AC, AI, SA]``) is shared with one institution of
each kind, chosen by the conventions (``conventions.partners``: the one already involved, else
the one of the lead's region). The choice is recorded in the event by which the case enters
the step (its ``partners``), so that who may see and act is a fact of the case's history, not a
lookup that any institution of the same kind would pass. A partner keeps taking part after the
step (a signatory follows the plan it signed) until it leaves: the coordination records that
by an event of its own (``partners_left``, with its reason); the lead cannot leave, nor an
institution whose file the case still awaits (an open file task), nor the receiver of the
pending handoff, nor a signatory of a pending proposal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from relais.conventions.partners import partners
from relais.i18n import bi

from .access import ACTING_ROLES
from .actors import Actor
from .case import CaseState
from .context import Context, draft
from .errors import Conflict, EventRefused, MissingInput, NotAllowed
from .events import Event
from .payloads import Common, PartnersJoined, PartnersLeft

P = TypeVar("P", bound=Common)


def joining(ctx: Context, case: CaseState, state: str, lead: str) -> list[str]:
    """The institutions that join ``case`` when it enters ``state`` with ``lead`` as lead
    (nobody joins a case that this step closes)."""
    step = ctx.route.states[state]
    if not step.joint or step.final:
        return []
    owner = step.owner
    involved = [case.lead, *case.partners,  # a lead handing on stays in, until it leaves
                *(c for c in case.handed_on if c not in case.left)]
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


def takes_part_now(institution: str, case: CaseState) -> bool:
    """A member: the lead, a recorded partner, or a past lead that has not left."""
    return institution == case.lead or institution in case.partners \
        or (institution in case.handed_on and institution not in case.left)


def leave(ctx: Context, case: CaseState, actor: Actor, code: str, reason: str | None, *,
          tasked: bool = False) -> list[Event]:
    """The coordination records that ``code`` stops taking part in the case (``tasked``: the
    case still awaits that institution's file, an open task)."""
    if not (actor.is_system or (actor.is_coordination and actor.role in ACTING_ROLES)):
        raise NotAllowed("seule la coordination CII retire des partenaires / only the CII "
                         "coordination removes partners")
    if not case.is_open:
        raise EventRefused("le cas est clos / the case is closed", allowed_events=[])
    if not actor.is_system and not (reason or "").strip():
        raise MissingInput("un motif est requis / a reason is required", field="reason")
    if code == case.lead:
        raise Conflict("l'institution responsable ne quitte pas le cas : proposez d'abord un "
                       "transfert / the lead institution does not leave the case: hand it on "
                       "first", institution=code)
    if not takes_part_now(code, case):
        raise Conflict(bi("%(code)s ne participe pas au cas",
                          "%(code)s does not take part in the case", code=code),
                       institution=code)
    if case.handoff is not None and case.handoff.receiver == code:
        raise Conflict(bi("%(code)s doit d'abord répondre au transfert en attente",
                          "%(code)s must answer the pending handoff first", code=code),
                       institution=code)
    if case.signoff is not None and case.signoff.status == "open" \
            and any(who == code for _, who in case.signoff.signed):
        raise Conflict(bi("%(code)s a signé la proposition en cours : elle doit d'abord "
                          "aboutir ou être retirée", "%(code)s signed the pending proposal: it "
                          "must first take effect or be withdrawn", code=code),
                       institution=code)
    if tasked:
        raise Conflict(bi("le dossier de %(code)s est encore attendu (tâche ouverte) : "
                          "%(code)s participe jusqu'à ce qu'il soit déposé",
                          "the case still awaits the file of %(code)s (open task): it takes "
                          "part until it is provided", code=code), institution=code)
    return [draft(ctx, case.id, "partners_left", actor, from_state=case.state,
                  to_state=case.state, reason=reason, data=PartnersLeft(left=[code]))]


# the events that name a lead (a case opened, a handoff accepted, an escalation settled)
LEADS_BY = ("case_opened", "handoff_accepted", "escalation_settled")


@dataclass(frozen=True)
class Member:
    """An institution taking part in a case, and how it came to: the event that brought it
    in (kind, route event, when, who)."""

    institution: str
    role: str  # "lead", "partner", "past_lead"
    since: datetime
    kind: str  # the event kind that brought it in
    event: str | None
    actor: str
    by: str  # the institution of the actor
    reason: str | None


def roster(history: list[Event], case: CaseState) -> list[Member]:
    """Who takes part in ``case`` now, each with the event that brought it in, read from the
    history (the lead first, then the others in the order they joined)."""
    came: dict[str, Event] = {}
    for e in history:
        new = list(e.data.get("partners") or [])
        lead = e.data.get("lead")
        if e.kind in LEADS_BY and isinstance(lead, str):  # a lead takes part
            new.append(lead)
        for code in new:
            came.setdefault(code, e)
        if e.kind == "partners_left":
            for code in e.data.get("left") or []:
                came.pop(code, None)
    members = [c for c in dict.fromkeys([case.lead, *case.partners, *case.handed_on])
               if takes_part_now(c, case)]
    out = []
    for code in members:
        found = came.get(code)
        role = "lead" if code == case.lead else "partner" if code in case.partners \
            else "past_lead"
        if found is None:  # not in what the reader may read: said without its event
            out.append(Member(code, role, case.opened_at, "", None, "", "", None))
        else:
            out.append(Member(code, role, found.at, found.kind, found.event, found.actor,
                              found.institution, found.reason))
    return out
