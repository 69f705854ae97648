"""What happens when someone acts on a case: the rules, as drafts of events.

Every function checks the actor against the route and the case, and answers with the events
to record, or raises a CaseError and records nothing. ``history.append`` seals and applies them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from conventions.policy import Policy
from institutions.calendar import WorkingCalendar, calendar
from institutions.registry import Registry
from workflows.engine.compile import RouteMachine, Step
from workflows.engine.model import CHOOSE, ESCALATE, Route, StateSpec, TransitionSpec

from .access import ACTING_ROLES, check_may_act
from .actors import Actor
from .case import CaseState
from .errors import Conflict, EventRefused, HandoffPending, MissingInput, NotAllowed
from .events import Event, handoff_data
from .fields import checked_fields, guard_view
from .handoffs import HandoffMachine

DEADLINE_PASSED = "délai échu / deadline passed"


@dataclass(frozen=True)
class Context:
    route: Route
    machine: RouteMachine
    registry: Registry
    policy: Policy
    now: datetime

    @property
    def calendar(self) -> WorkingCalendar:
        return calendar(self.route.calendar)

    def due(self, state: StateSpec) -> str | None:
        if state.deadline is None:
            return None
        return state.deadline.due_after(self.now, self.calendar).isoformat()


@dataclass(frozen=True)
class EventInput:
    reason: str | None = None
    outcome: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    lead: str | None = None  # the receiver, where the transition says `lead: choose`


def _draft(ctx: Context, case_id: str, kind: str, actor: Actor, **kw: Any) -> Event:
    return Event(case_id=case_id, seq=0, at=ctx.now, kind=kind, actor=actor.user,
                 institution=actor.institution, route_version=ctx.route.version, **kw)


def open_case(ctx: Context, *, case_id: str, person: int, actor: Actor, fields: Any,
              reason: str | None = None) -> list[Event]:
    route = ctx.route
    if actor.role not in ACTING_ROLES:
        raise NotAllowed("ce rôle ne peut pas ouvrir de cas / this role cannot open cases")
    if not ctx.registry.matches(actor.institution, route.institutions):
        raise NotAllowed(f"{actor.institution} ne peut pas être responsable d'un cas sur la route "
                         f"« {route.id} » ({', '.join(route.institutions)}) / cannot lead a case "
                         f"on this route", allowed=list(route.institutions))
    initial = route.states[route.initial]
    data = {"person": person, "route": route.id, "lead": actor.institution,
            "manager": actor.user, "fields": checked_fields(route, fields),
            "deadline_at": ctx.due(initial), "actions": list(initial.actions)}
    return [_draft(ctx, case_id, "case_opened", actor, to_state=route.initial,
                   reason=reason, data=data)]


def fire(ctx: Context, case: CaseState, event: str, actor: Actor, inp: EventInput
         ) -> list[Event]:
    if not case.is_open:
        raise EventRefused("le cas est clos / the case is closed", allowed_events=[])
    state = ctx.route.states[case.state]
    check_may_act(actor, case, state, ctx.registry)  # who may act, before what is pending
    if case.handoff is not None:
        raise HandoffPending("un transfert attend une réponse : accepter, refuser ou retirer "
                             "d'abord / a handoff awaits an answer first",
                             handoff=case.handoff.id)
    new_fields = checked_fields(ctx.route, inp.fields)
    merged = guard_view(ctx.route, {**case.fields, **new_fields})
    step = ctx.machine.step(case.state, event, merged)
    if step is None:
        raise EventRefused(
            f"« {event} » n'est pas possible à l'étape « {state.title['fr']} » / not allowed now",
            allowed_events=ctx.machine.allowed_events(case.state, merged))
    t = step.transition
    if t.signoff:
        return _sign(ctx, case, actor, step, inp, new_fields)
    return _take(ctx, case, actor, step, inp, new_fields)


def _require(ctx: Context, t: TransitionSpec, target: StateSpec, inp: EventInput,
             new_fields: dict[str, Any]) -> None:
    for item in t.require:
        if item == "reason" and not (inp.reason or "").strip():
            raise MissingInput("un motif est requis / a reason is required", field="reason")
        if item not in ("reason", "outcome") and new_fields.get(item) is None:
            raise MissingInput(f"le champ « {item} » est requis / field required", field=item)
    needs_outcome = target.final and target.needs_outcome
    if (needs_outcome or "outcome" in t.require) and not inp.outcome:
        raise MissingInput("une issue (outcome) est requise pour clore / an outcome is required",
                           field="outcome", outcomes=sorted(ctx.route.outcomes))
    if inp.outcome is not None and inp.outcome not in ctx.route.outcomes:
        raise MissingInput(f"issue inconnue « {inp.outcome} » / unknown outcome", field="outcome",
                           outcomes=sorted(ctx.route.outcomes))
    if inp.outcome is not None and not target.final:
        raise MissingInput("une issue ne se donne qu'en clôturant / an outcome is given only "
                           "when closing", field="outcome")


def _take(ctx: Context, case: CaseState, actor: Actor, step: Step, inp: EventInput,
          new_fields: dict[str, Any]) -> list[Event]:
    t = step.transition
    target = ctx.route.states[step.target]
    _require(ctx, t, target, inp, new_fields)
    receiver = _receiver(ctx, case, t, inp) if t.lead else None
    if receiver is not None:
        hid = uuid.uuid4().hex
        due = ctx.route.handoff_deadline.due_after(ctx.now, ctx.calendar)
        h = HandoffMachine.propose(hid, case.lead, receiver, t.event, step.target, ctx.now, due,
                                   inp.outcome)
        return [_draft(ctx, case.id, "handoff_proposed", actor, event=t.event,
                       from_state=case.state, to_state=step.target, reason=inp.reason,
                       data={"handoff": handoff_data(h), "fields": new_fields,
                             "actions": ["notify_receiver"]})]
    return [_draft(ctx, case.id, "transitioned", actor, event=t.event, from_state=case.state,
                   to_state=step.target, reason=inp.reason,
                   data=_entering(ctx, target, step.actions, inp.outcome, new_fields))]


def _entering(ctx: Context, target: StateSpec, actions: tuple[str, ...], outcome: str | None,
              new_fields: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"deadline_at": ctx.due(target), "actions": list(actions)}
    if new_fields:
        data["fields"] = new_fields
    if target.final:
        data.update(closed=True, outcome=outcome)
    return data


def _receiver(ctx: Context, case: CaseState, t: TransitionSpec, inp: EventInput) -> str | None:
    """Which institution a `lead:` transition hands the case to; None if it stays."""
    reg, route = ctx.registry, ctx.route
    if t.lead == CHOOSE:
        if not inp.lead:
            raise MissingInput("nommer l'institution qui prendra la responsabilité du cas "
                               "(lead) / name the new lead institution (lead)", field="lead")
        candidates = [i.code for name in route.institutions for i in reg.covered_by(name)]
    else:
        assert t.lead is not None
        candidates = [i.code for i in reg.covered_by(t.lead)]
    if case.lead in candidates and (inp.lead in (None, case.lead)):
        return None
    if inp.lead:
        if inp.lead not in candidates:
            raise MissingInput(f"« {inp.lead} » ne peut pas reprendre ce cas ; possibles : "
                               f"{', '.join(candidates)} / cannot take this case", field="lead",
                               candidates=candidates)
        return None if inp.lead == case.lead else inp.lead
    if len(candidates) == 1:
        return candidates[0]
    raise MissingInput(f"choisir l'institution : {', '.join(candidates)} / choose the "
                       f"institution", field="lead", candidates=candidates)


def _sign(ctx: Context, case: CaseState, actor: Actor, step: Step, inp: EventInput,
          new_fields: dict[str, Any]) -> list[Event]:
    t = step.transition
    mine = [n for n in t.signoff if ctx.registry.matches(actor.institution, [n])]
    if not mine:
        raise NotAllowed(f"seules signent : {', '.join(t.signoff)} / only these sign",
                         signoff=list(t.signoff))
    current = case.signoff if case.signoff and case.signoff.transition == t.index else None
    proposal: dict[str, Any] = dict(current.proposal) if current else {
        "lead": inp.lead, "reason": inp.reason, "outcome": inp.outcome, "fields": new_fields}
    if current and inp.lead and inp.lead != proposal.get("lead"):
        raise Conflict(f"la proposition signée nomme {proposal.get('lead')} ; signer la même ou "
                       f"la refuser par un autre événement / the signed proposal names another "
                       f"lead", proposal=proposal)
    signed = dict(current.signed) if current else {}
    added = [n for n in mine if n not in signed]
    if not added:
        raise Conflict("déjà signé par votre institution / already signed by your institution")
    signed.update({n: actor.institution for n in added})
    agreed = EventInput(proposal.get("reason"), proposal.get("outcome"),
                        proposal.get("fields") or {}, proposal.get("lead"))
    # check the proposal now, so that nobody signs something that cannot take effect
    target = ctx.route.states[step.target]
    _require(ctx, t, target, agreed, agreed.fields)
    if t.lead:
        _receiver(ctx, case, t, agreed)
    sig = {"event": t.event, "transition": t.index, "names": list(t.signoff),
           "signed": [[n, signed[n]] for n in t.signoff if n in signed],
           "proposal": sorted(proposal.items())}
    drafts = [_draft(ctx, case.id, "signed", actor, event=t.event, from_state=case.state,
                     reason=inp.reason, data={"signoff": sig})]
    if all(n in signed for n in t.signoff):
        drafts += _take(ctx, case, actor, step, agreed, agreed.fields)
    return drafts


# -- handoffs ---------------------------------------------------------------------------------

def accept(ctx: Context, case: CaseState, actor: Actor) -> list[Event]:
    h = HandoffMachine.pending(case)
    if actor.institution != h.receiver or actor.role not in ACTING_ROLES:
        raise NotAllowed(f"seule {h.receiver} peut accepter ce transfert / only the receiver "
                         f"may accept")
    HandoffMachine.move(h, "accept")
    target = ctx.route.states[h.to_state]
    actions = target.actions if h.to_state != case.state else ()
    data = {"handoff_id": h.id, "manager": actor.user, **_lead_change(ctx, case, h.receiver),
            **_entering(ctx, target, actions, h.outcome)}
    if data["revolving_door"]:
        data["actions"] = [*data["actions"], "alert_coordination"]
    return [_draft(ctx, case.id, "handoff_accepted", actor, event=h.event,
                   from_state=case.state, to_state=h.to_state, data=data)]


def _lead_change(ctx: Context, case: CaseState, new_lead: str) -> dict[str, Any]:
    """A new lead: one more transfer, and the revolving-door rule."""
    transfers = case.transfers + 1
    revolving = None
    if new_lead in case.handed_on:
        revolving = f"retour chez {new_lead} / back to {new_lead}"
    elif transfers > ctx.policy.revolving_door_transfers:
        revolving = f"{transfers} transferts / transfers"
    return {"lead": new_lead, "transfers": transfers,
            "handed_on": [*case.handed_on, case.lead], "revolving_door": revolving}


def refuse(ctx: Context, case: CaseState, actor: Actor, reason: str | None) -> list[Event]:
    h = HandoffMachine.pending(case)
    if actor.institution != h.receiver or actor.role not in ACTING_ROLES:
        raise NotAllowed(f"seule {h.receiver} peut refuser ce transfert / only the receiver "
                         f"may refuse")
    if not (reason or "").strip():
        raise MissingInput("un refus doit être motivé / a refusal needs a reason", field="reason")
    HandoffMachine.move(h, "refuse")
    escalated = case.refusals + 1 >= ctx.policy.refusals_before_escalation
    return [_draft(ctx, case.id, "handoff_refused", actor, event=h.event, from_state=case.state,
                   to_state=case.state, reason=reason,
                   data={"handoff_id": h.id, "escalated": escalated,
                         "actions": ["notify_sender"] + (["alert_coordination"] if escalated
                                                         else [])})]


def withdraw(ctx: Context, case: CaseState, actor: Actor, reason: str | None) -> list[Event]:
    h = HandoffMachine.pending(case)
    if actor.institution != h.sender and not actor.is_coordination:
        raise NotAllowed(f"seule {h.sender} peut retirer ce transfert / only the sender may "
                         f"withdraw")
    HandoffMachine.move(h, "withdraw")
    return [_draft(ctx, case.id, "handoff_withdrawn", actor, event=h.event,
                   from_state=case.state, to_state=case.state, reason=reason,
                   data={"handoff_id": h.id, "actions": ["notify_receiver"]})]


def expire(ctx: Context, case: CaseState, actor: Actor) -> list[Event]:
    h = HandoffMachine.pending(case)
    if not actor.is_system:
        raise NotAllowed("seul le système fait échoir un transfert / only the system expires")
    if h.due_at > ctx.now:
        raise Conflict("le délai de réponse court encore / the answer is not yet due")
    HandoffMachine.move(h, "expire")
    return [_draft(ctx, case.id, "handoff_expired", actor, event=h.event, from_state=case.state,
                   to_state=case.state, reason=DEADLINE_PASSED,
                   data={"handoff_id": h.id, "escalated": True, "lag_s": _lag(ctx, h.due_at),
                         "actions": ["alert_coordination"]})]


# -- deadlines and escalations --------------------------------------------------------------

def _lag(ctx: Context, due: datetime) -> float:
    return round((ctx.now - due).total_seconds(), 3)


def on_deadline(ctx: Context, case: CaseState, system: Actor) -> list[Event]:
    """What a passed deadline does: expire a handoff, fire ``on_deadline``, remind, escalate."""
    if not case.is_open:
        return []
    if case.handoff is not None and case.handoff.due_at <= ctx.now:
        return expire(ctx, case, system)
    d = case.deadline
    if d.status != "open" or d.due_at is None or d.due_at > ctx.now:
        return []
    state = ctx.route.states[case.state]
    if state.on_deadline != ESCALATE and case.handoff is None:
        try:
            return fire(ctx, case, state.on_deadline, system, EventInput(reason=DEADLINE_PASSED))
        except (EventRefused, MissingInput, Conflict):
            pass  # the automatic event cannot apply: a person must look at it
    lag = _lag(ctx, d.due_at)
    if d.level == 0:
        grace = ctx.policy.reminder_grace.due_after(ctx.now, ctx.calendar).isoformat()
        return [_draft(ctx, case.id, "deadline_reminded", system, from_state=case.state,
                       to_state=case.state, reason=DEADLINE_PASSED,
                       data={"deadline_at": grace, "lag_s": lag, "actions": ["remind_owner"]})]
    return [_draft(ctx, case.id, "deadline_escalated", system, from_state=case.state,
                   to_state=case.state, reason=DEADLINE_PASSED,
                   data={"lag_s": lag, "actions": ["alert_coordination"]})]


def settle(ctx: Context, case: CaseState, actor: Actor, reason: str | None,
           lead: str | None = None) -> list[Event]:
    """The coordination settles an escalation: restarts the clock, may decide competence."""
    if not actor.is_coordination or actor.role not in ACTING_ROLES:
        raise NotAllowed("seule la coordination CII règle une escalade / only the CII "
                         "coordination settles escalations")
    if not case.is_open or case.handoff is not None or not case.escalated:
        raise Conflict("rien à régler : ce cas n'est pas en escalade / nothing to settle: "
                       "the case is not escalated")
    if not (reason or "").strip():
        raise MissingInput("un motif est requis / a reason is required", field="reason")
    data: dict[str, Any] = {"deadline_at": ctx.due(ctx.route.states[case.state]),
                            "actions": ["notify_institutions"]}
    if lead and lead != case.lead:
        if not ctx.registry.matches(lead, ctx.route.institutions):
            raise MissingInput(f"{lead} ne peut pas être responsable sur cette route / cannot "
                               f"lead on this route", field="lead")
        data.update(_lead_change(ctx, case, lead))
    return [_draft(ctx, case.id, "escalation_settled", actor, from_state=case.state,
                   to_state=case.state, reason=reason, data=data)]


def update_fields(ctx: Context, case: CaseState, actor: Actor, values: Any) -> list[Event]:
    if not case.is_open:
        raise EventRefused("le cas est clos / the case is closed", allowed_events=[])
    check_may_act(actor, case, ctx.route.states[case.state], ctx.registry)
    new = checked_fields(ctx.route, values)
    if not new:
        raise MissingInput("aucun champ à enregistrer / no field given", field="fields")
    return [_draft(ctx, case.id, "fields_updated", actor, from_state=case.state,
                   to_state=case.state, data={"fields": new})]


def migrate(ctx: Context, case: CaseState, actor: Actor, mapping: dict[str, str],
            reason: str | None) -> list[Event]:
    """Move a running case onto a newer version of its route (``ctx.route``), its state
    mapped explicitly. Only the coordination migrates; the lead must be allowed on the new
    version; nothing is moved into a final state (closing is a decision, not a migration)."""
    new = ctx.route
    if actor.role not in ACTING_ROLES or not actor.is_coordination:
        raise NotAllowed("seule la coordination migre des cas / only the coordination "
                         "migrates cases")
    if case.route_id != new.id or case.route_version >= new.version:
        raise Conflict(f"le cas suit {case.route_id} v{case.route_version} : rien à migrer "
                       f"vers v{new.version} / nothing to migrate")
    if not case.is_open or case.handoff is not None:
        raise Conflict("cas clos ou transfert en attente : pas de migration / closed case or "
                       "pending handoff: no migration")
    target = mapping.get(case.state, case.state)
    if target not in new.states:
        raise MissingInput(f"l'état « {case.state} » n'existe plus en v{new.version} : "
                           f"indiquer où il va (--map {case.state}=…) / map this state",
                           field="mapping", state=case.state)
    if new.states[target].final:
        raise MissingInput(f"« {target} » est final : une migration ne clôt pas un cas / a "
                           f"migration does not close a case", field="mapping")
    if not ctx.registry.matches(case.lead, new.institutions):
        raise Conflict(f"{case.lead} ne peut plus être responsable en v{new.version} / can no "
                       f"longer lead on the new version")
    checked_fields(new, {k: v for k, v in case.fields.items() if k in new.fields})
    return [_draft(ctx, case.id, "route_migrated", actor, from_state=case.state,
                   to_state=target, reason=reason,
                   data={"from_version": case.route_version, "mapping": dict(mapping),
                         "deadline_at": ctx.due(new.states[target]), "actions": []})]
