"""Time and the coordination: what a passed deadline does, how an escalation is settled,
and how a running case moves to a newer version of its route."""

from __future__ import annotations

from dataclasses import replace

from relais.i18n import bi
from relais.workflows.engine.model import ESCALATE

from .access import ACTING_ROLES
from .actors import Actor
from .case import CaseState
from .context import DEADLINE_PASSED, Context, EventInput, draft, lag
from .decide import fire
from .errors import Conflict, EventRefused, MissingInput, NotAllowed
from .events import Event
from .fields import checked_fields, guard_view
from .handoff_rules import expire, lead_change
from .membership import joining, with_partners
from .payloads import Escalated, Migrated, Reminded, Settled


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
            fired = fire(ctx, case, state.on_deadline, system, EventInput(reason=DEADLINE_PASSED))
            late = lag(ctx, d.due_at)  # timer lag, measured like reminders' and escalations'
            return [replace(e, data={**e.data, "lag_s": late}) for e in fired]
        except (EventRefused, MissingInput, Conflict):
            pass  # the automatic event cannot apply: a person must look at it
    late = lag(ctx, d.due_at)
    if d.level == 0:
        grace = ctx.policy.reminder_grace.due_after(ctx.now, ctx.calendar).isoformat()
        return [draft(ctx, case.id, "deadline_reminded", system, from_state=case.state,
                       to_state=case.state, reason=DEADLINE_PASSED,
                       data=Reminded(deadline_at=grace, lag_s=late, actions=["remind_owner"]))]
    return [draft(ctx, case.id, "deadline_escalated", system, from_state=case.state,
                   to_state=case.state, reason=DEADLINE_PASSED,
                   data=Escalated(lag_s=late, actions=["alert_coordination"]))]


def settle(ctx: Context, case: CaseState, actor: Actor, reason: str | None,
           lead: str | None = None, step: str | None = None) -> list[Event]:
    """The coordination settles an escalation: restarts the clock, may decide competence
    (``lead``) and, where a transition from the current state leads there, the step to
    resume (``step``): the case enters it as by that transition. A step the route reaches by
    a sign-off is entered on the signatures already given to the proposal, when the
    settlement names the lead they signed for."""
    if not actor.is_coordination or actor.role not in ACTING_ROLES:
        raise NotAllowed("seule la coordination CII règle une escalade / only the CII "
                         "coordination settles escalations")
    if not case.is_open or case.handoff is not None or not case.escalated:
        raise Conflict("rien à régler : ce cas n'est pas en escalade / nothing to settle: "
                       "the case is not escalated")
    if not (reason or "").strip():
        raise MissingInput("un motif est requis / a reason is required", field="reason")
    data = Settled(deadline_at=ctx.due(ctx.route.states[case.state]),
                   actions=["notify_institutions"])
    new_lead = lead or case.lead
    if lead and lead != case.lead:
        if not ctx.registry.matches(lead, ctx.route.institutions):
            raise MissingInput(f"{lead} ne peut pas être responsable sur cette route / cannot "
                               f"lead on this route", field="lead")
        change = lead_change(ctx, case, lead)
        data = Settled(deadline_at=data["deadline_at"], actions=data["actions"],
                       lead=change["lead"], transfers=change["transfers"],
                       handed_on=change["handed_on"], revolving_door=change["revolving_door"])
    to_state = case.state
    if step:
        data = data.copy()
        data.update(_resumed(ctx, case, step, new_lead))
        to_state = step
    data = with_partners(data, joining(ctx, case, to_state, new_lead)
                         if to_state != case.state or new_lead != case.lead else [])
    return [draft(ctx, case.id, "escalation_settled", actor, from_state=case.state,
                   to_state=to_state, reason=reason, data=data)]


def resumable(ctx: Context, case: CaseState) -> list[str]:
    """The steps a settlement may resume: the non-final targets of the current state's
    transitions, in the route's order."""
    seen: dict[str, None] = {}
    for t in ctx.route.transitions_from(case.state):
        if not ctx.route.states[t.target].final:
            seen.setdefault(t.target, None)
    return list(seen)


def _resumed(ctx: Context, case: CaseState, step: str, lead: str) -> Settled:
    """What entering ``step`` by a settlement records: the step's deadline and actions, and
    the fields of the signed proposal it rests on."""
    route = ctx.route
    ts = [t for t in route.transitions_from(case.state) if t.target == step]
    if not ts or route.states[step].final:
        raise MissingInput(f"« {step} » : aucune transition de l'étape « "
                           f"{route.states[case.state].title['fr']} » n'y mène (un règlement "
                           f"ne clôt pas) ; possibles : {', '.join(resumable(ctx, case)) or '-'}"
                           f" / no transition leads there from the current step",
                           field="step", steps=resumable(ctx, case))
    fields: dict[str, object] = {}
    s = case.signoff
    plain = [t for t in ts if not t.signoff]
    if not plain:
        signed = [t for t in ts if s is not None and s.transition == t.index
                  and s.status == "complete"]
        if s is None or not signed:
            names = ", ".join(dict.fromkeys(n for t in ts for n in t.signoff))
            raise Conflict(f"« {route.states[step].title['fr']} » demande les signatures de "
                           f"{names} : aucune proposition signée de toutes n'est au dossier / "
                           f"this step needs every signature, and no proposal has them all")
        signed_lead = s.get("lead") or s.author_institution
        if signed_lead != lead:
            raise Conflict(bi("les signatures portent sur une proposition qui nomme "
                              "%(signed)s responsable : un règlement avec %(lead)s ne peut pas "
                              "s'en prévaloir ; nommer %(signed)s ou faire signer une nouvelle "
                              "proposition", "the signatures are for %(signed)s as lead: a "
                              "settlement with %(lead)s cannot claim them; name %(signed)s or "
                              "have a new proposal signed", signed=signed_lead, lead=lead),
                           signed_lead=signed_lead)
        fields = dict(s.get("fields") or {})
    else:
        merged = guard_view(route, case.fields)
        if not any(t.guard is None or ctx.machine.step(case.state, t.event, merged)
                   for t in plain):
            raise Conflict(f"la condition pour « {route.states[step].title['fr']} » n'est pas "
                           f"remplie / the condition to enter this step does not hold")
    target = route.states[step]
    out = Settled(step=step, deadline_at=ctx.due(target),
                  actions=["notify_institutions", *target.actions])
    if fields:
        out["fields"] = fields
    return out


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
    return [draft(ctx, case.id, "route_migrated", actor, from_state=case.state,
                   to_state=target, reason=reason,
                   data=with_partners(Migrated(from_version=case.route_version,
                                               mapping=dict(mapping),
                                               deadline_at=ctx.due(new.states[target]),
                                               actions=[]),
                                      joining(ctx, case, target, case.lead)))]
