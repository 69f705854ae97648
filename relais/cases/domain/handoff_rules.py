"""Answers to a handoff: accept (the lead changes), refuse (with a reason), withdraw,
expire; and the revolving-door rule that every change of lead passes through."""

from __future__ import annotations

from .access import ACTING_ROLES
from .actors import Actor
from .case import CaseState
from .context import DEADLINE_PASSED, Context, draft, entering, lag
from .errors import Conflict, MissingInput, NotAllowed
from .events import Event
from .handoffs import HandoffMachine
from .membership import joining, with_partners
from .payloads import Accepted, Expired, LeadChange, Refused, Withdrawn


def accept(ctx: Context, case: CaseState, actor: Actor) -> list[Event]:
    h = HandoffMachine.pending(case)
    if actor.institution != h.receiver or actor.role not in ACTING_ROLES:
        raise NotAllowed(f"seule {h.receiver} peut accepter ce transfert / only the receiver "
                         f"may accept")
    HandoffMachine.move(h, "accept")
    target = ctx.route.states[h.to_state]
    actions = target.actions if h.to_state != case.state else ()
    data = Accepted(handoff_id=h.id, manager=actor.user, **lead_change(ctx, case, h.receiver),
                    **entering(ctx, target, actions, h.outcome))
    data = with_partners(data, joining(ctx, case, h.to_state, h.receiver))
    if data["revolving_door"]:
        data["actions"] = [*data["actions"], "alert_coordination"]
    return [draft(ctx, case.id, "handoff_accepted", actor, event=h.event,
                   from_state=case.state, to_state=h.to_state, data=data)]


def lead_change(ctx: Context, case: CaseState, new_lead: str) -> LeadChange:
    """A new lead: one more transfer, and the revolving-door rule."""
    transfers = case.transfers + 1
    revolving = None
    if new_lead in case.handed_on:
        revolving = f"retour chez {new_lead} / back to {new_lead}"
    elif transfers > ctx.policy.revolving_door_transfers:
        revolving = f"{transfers} transferts / transfers"
    return LeadChange(lead=new_lead, transfers=transfers,
                      handed_on=[*case.handed_on, case.lead], revolving_door=revolving)


def refuse(ctx: Context, case: CaseState, actor: Actor, reason: str | None) -> list[Event]:
    h = HandoffMachine.pending(case)
    if actor.institution != h.receiver or actor.role not in ACTING_ROLES:
        raise NotAllowed(f"seule {h.receiver} peut refuser ce transfert / only the receiver "
                         f"may refuse")
    if not (reason or "").strip():
        raise MissingInput("un refus doit être motivé / a refusal needs a reason", field="reason")
    HandoffMachine.move(h, "refuse")
    escalated = case.refusals + 1 >= ctx.policy.refusals_before_escalation
    return [draft(ctx, case.id, "handoff_refused", actor, event=h.event, from_state=case.state,
                   to_state=case.state, reason=reason,
                   data=Refused(handoff_id=h.id, escalated=escalated,
                                actions=["notify_sender"] + (["alert_coordination"]
                                                             if escalated else [])))]


def withdraw(ctx: Context, case: CaseState, actor: Actor, reason: str | None) -> list[Event]:
    h = HandoffMachine.pending(case)
    if actor.institution != h.sender and not actor.is_coordination:
        raise NotAllowed(f"seule {h.sender} peut retirer ce transfert / only the sender may "
                         f"withdraw")
    HandoffMachine.move(h, "withdraw")
    return [draft(ctx, case.id, "handoff_withdrawn", actor, event=h.event,
                   from_state=case.state, to_state=case.state, reason=reason,
                   data=Withdrawn(handoff_id=h.id, actions=["notify_receiver"]))]


def expire(ctx: Context, case: CaseState, actor: Actor) -> list[Event]:
    h = HandoffMachine.pending(case)
    if not actor.is_system:
        raise NotAllowed("seul le système fait échoir un transfert / only the system expires")
    if h.due_at > ctx.now:
        raise Conflict("le délai de réponse court encore / the answer is not yet due")
    HandoffMachine.move(h, "expire")
    return [draft(ctx, case.id, "handoff_expired", actor, event=h.event, from_state=case.state,
                   to_state=case.state, reason=DEADLINE_PASSED,
                   data=Expired(handoff_id=h.id, escalated=True, lag_s=lag(ctx, h.due_at),
                                actions=["alert_coordination"]))]
