"""What happens when someone fires an event: the rules, as drafts of events.

Every function checks the actor against the route and the case, and answers with the events
to record, or raises a CaseError and records nothing. ``history.append`` seals and applies
them. Handoff answers live in ``handoff_rules``, deadlines and escalations in ``escalations``.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from relais.i18n import bi
from relais.workflows.engine.compile import Step
from relais.workflows.engine.model import CHOOSE, StateSpec, TransitionSpec

from .access import ACTING_ROLES, check_may_act
from .actors import Actor
from .case import CaseState, Signoff
from .context import Context, EventInput, draft, entering
from .errors import Conflict, EventRefused, HandoffPending, MissingInput, NotAllowed
from .events import Event, handoff_data
from .fields import checked_fields
from .handoffs import HandoffMachine
from .membership import is_partner, joining, with_partners
from .payloads import FieldsUpdated, Opened, Proposed, Signed, SignoffData

__all__ = ["Context", "EventInput", "credited", "fire", "open_case", "signatory_names",
           "update_fields"]


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
    data = Opened(person=person, route=route.id, lead=actor.institution, manager=actor.user,
                  fields=checked_fields(route, fields), deadline_at=ctx.due(initial),
                  actions=list(initial.actions))
    fresh = CaseState(case_id, person, route.id, route.version, route.initial,
                      actor.institution, actor.user, ctx.now)
    data = with_partners(data, joining(ctx, fresh, route.initial, actor.institution))
    return [draft(ctx, case_id, "case_opened", actor, to_state=route.initial,
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
    merged = ctx.guard_values({**case.fields, **new_fields})
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
          new_fields: dict[str, Any], signed: bool = False) -> list[Event]:
    t = step.transition
    target = ctx.route.states[step.target]
    _require(ctx, t, target, inp, new_fields)
    receiver = _receiver(ctx, case, t, inp) if t.lead else None
    if receiver is not None:
        hid = uuid.uuid4().hex
        due = ctx.route.handoff_deadline.due_after(ctx.now, ctx.calendar)
        h = HandoffMachine.propose(hid, case.lead, receiver, t.event, step.target, ctx.now, due,
                                   inp.outcome)
        return [draft(ctx, case.id, "handoff_proposed", actor, event=t.event,
                       from_state=case.state, to_state=step.target, reason=inp.reason,
                       data=_proposed(Proposed(handoff=handoff_data(h), fields=new_fields,
                                               actions=["notify_receiver"]), signed))]
    return [draft(ctx, case.id, "transitioned", actor, event=t.event, from_state=case.state,
                   to_state=step.target, reason=inp.reason,
                   data=with_partners(entering(ctx, target, step.actions, inp.outcome,
                                               new_fields),
                                      joining(ctx, case, step.target, case.lead)))]




def _proposed(data: Proposed, signed: bool) -> Proposed:
    if signed:  # started by a completed sign-off, which stays while the handoff is open
        data["signed"] = True
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


def signatory_names(ctx: Context, case: CaseState, actor: Actor, t: TransitionSpec
                    ) -> list[str]:
    """The names of ``t``'s sign-off that ``actor`` signs for; NotAllowed if none."""
    mine = [n for n in t.signoff if ctx.registry.matches(actor.institution, [n])]
    if not mine or not (is_partner(actor.institution, case) or actor.is_coordination):
        raise NotAllowed(f"seules signent : {', '.join(t.signoff)} / only these sign",
                         signoff=list(t.signoff))
    return mine


def credited(actor: Actor, s: Signoff) -> Actor:
    """Who an effect of the sign-off is credited to: the proposal's author (user and
    institution), or ``actor`` for a proposal recorded without its author."""
    if not s.author or not s.author_institution:
        return actor
    return replace(actor, user=s.author, institution=s.author_institution)


def _sign(ctx: Context, case: CaseState, actor: Actor, step: Step, inp: EventInput,
          new_fields: dict[str, Any]) -> list[Event]:
    """A signatory fires a sign-off's event: a new proposal (signed by its author), or a
    signature to the proposal as it stands (naming no lead approves it), or, for a proposal
    every signatory signed whose handoff was refused or expired, its handoff proposed
    again. A refused proposal is its author's to propose again."""
    t = step.transition
    mine = signatory_names(ctx, case, actor, t)
    current = case.signoff if case.signoff and case.signoff.transition == t.index else None
    if current is not None and current.status == "refused":
        if actor.institution != current.author_institution:
            raise Conflict(f"la proposition a été refusée par {current.refusal_by[1]} : elle "
                           f"revient à {current.author_institution}, qui la propose à nouveau "
                           f"ou la retire / the proposal was refused and is back with its "
                           f"author", proposal=dict(current.proposal))
        inp = EventInput(inp.reason or current.get("reason"),
                         inp.outcome or current.get("outcome"),
                         new_fields or current.get("fields") or {},
                         inp.lead or current.get("lead"))
        new_fields, current = inp.fields, None  # a new proposal, by its author
    elif current is not None and current.status == "complete":
        if inp.lead in (None, current.get("lead")):  # signed by all: its handoff again
            agreed = _agreed(current)
            return _take(ctx, case, actor, step, replace(agreed, reason=inp.reason
                                                         or agreed.reason), agreed.fields,
                         signed=True)
        current = None  # another lead: a new proposal, the signatures void
    if current is None:
        proposal: dict[str, Any] = {
            "lead": inp.lead, "reason": inp.reason, "outcome": inp.outcome,
            "fields": new_fields, "by": actor.user, "institution": actor.institution,
            "at": ctx.now.isoformat()}
        signed: dict[str, str] = {}
    else:
        proposal, signed = dict(current.proposal), dict(current.signed)
        if inp.lead and inp.lead != proposal.get("lead"):
            raise Conflict(
                bi("la proposition de %(author)s nomme %(lead)s ; l'approuver telle quelle "
                   "(sans nommer de responsable) ou la refuser avec un motif",
                   "the proposal of %(author)s names %(lead)s: approve it as it stands "
                   "(naming no lead) or refuse it with a reason",
                   author=current.author_institution, lead=proposal.get("lead")),
                proposal=proposal)
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
    sig = SignoffData(event=t.event, transition=t.index, names=list(t.signoff),
                      signed=[(n, signed[n]) for n in t.signoff if n in signed],
                      proposal=sorted(proposal.items()))
    drafts = [draft(ctx, case.id, "signed", actor, event=t.event, from_state=case.state,
                     reason=inp.reason, data=Signed(signoff=sig))]
    if all(n in signed for n in t.signoff):  # it takes effect: the author's decision
        author = credited(actor, Signoff(t.event, t.index, t.signoff, (),
                                         tuple(proposal.items())))
        drafts += _take(ctx, case, author, step, agreed, agreed.fields, signed=True)
    return drafts


def _agreed(s: Signoff) -> EventInput:
    return EventInput(s.get("reason"), s.get("outcome"), s.get("fields") or {}, s.get("lead"))


def update_fields(ctx: Context, case: CaseState, actor: Actor, values: Any) -> list[Event]:
    if not case.is_open:
        raise EventRefused("le cas est clos / the case is closed", allowed_events=[])
    check_may_act(actor, case, ctx.route.states[case.state], ctx.registry)
    new = checked_fields(ctx.route, values)
    if not new:
        raise MissingInput("aucun champ à enregistrer / no field given", field="fields")
    return [draft(ctx, case.id, "fields_updated", actor, from_state=case.state,
                   to_state=case.state, data=FieldsUpdated(fields=new))]
