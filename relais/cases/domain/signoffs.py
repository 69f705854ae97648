"""Answers to a sign-off's proposal, for every route transition with ``signoff:``.

The first signatory to fire the transition proposes (lead, reason, fields) and signs; each
other signatory sees the proposal and approves it as it stands, or refuses it with a reason.
A refusal voids the signatures and returns the proposal to its author, who proposes again
(``decide.fire`` with the event) or withdraws it; the author (or the coordination) may
withdraw it at any time before it takes effect. Neither a refusal nor a withdrawal changes
the lead or the state.

    open ──every signature──▶ complete (takes effect: a step, or a handoff to answer)
      ├──refuse (reason)──▶ refused ──author proposes again──▶ open
      └──withdraw──▶ (none)          └──withdraw──▶ (none)
"""

from __future__ import annotations

from relais.workflows.engine.model import TransitionSpec

from .access import ACTING_ROLES, check_may_act, may_act
from .actors import Actor
from .case import CaseState, Signoff
from .context import Context, EventInput, draft
from .decide import fire, signatory_names
from .errors import Conflict, EventRefused, HandoffPending, MissingInput, NotAllowed, NotFound
from .events import Event
from .payloads import SignoffData, SignoffRefused, SignoffWithdrawn

__all__ = ["allowed", "approve", "refuse", "withdraw"]


def _pending(ctx: Context, case: CaseState, actor: Actor) -> Signoff:
    if not case.is_open:
        raise EventRefused("le cas est clos / the case is closed", allowed_events=[])
    if case.signoff is None:
        raise NotFound("aucune proposition n'attend de signature sur ce cas / no proposal "
                       "awaits signatures on this case")
    if case.handoff is not None:
        raise HandoffPending("le transfert de la proposition signée attend sa réponse / the "
                             "signed proposal's handoff awaits its answer",
                             handoff=case.handoff.id)
    return case.signoff


def _transition(ctx: Context, s: Signoff) -> TransitionSpec:
    return next(t for t in ctx.route.transitions if t.index == s.transition)


def approve(ctx: Context, case: CaseState, actor: Actor, reason: str | None) -> list[Event]:
    """A signature to the proposal as it stands (``reason``: the signatory's own word)."""
    s = _pending(ctx, case, actor)
    if s.status == "refused":
        raise Conflict(f"la proposition a été refusée par {s.refusal_by[1]} : elle revient à "
                       f"{s.author_institution} / the proposal was refused and is back with "
                       f"its author")
    if s.status == "complete":
        raise Conflict("toutes les signatures sont données / every signature is given")
    return fire(ctx, case, s.event, actor, EventInput(reason=reason))


def refuse(ctx: Context, case: CaseState, actor: Actor, reason: str | None) -> list[Event]:
    """A signatory refuses the proposal, with a reason: signatures void, back to its author."""
    s = _pending(ctx, case, actor)
    check_may_act(actor, case, ctx.route.states[case.state], ctx.registry)
    signatory_names(ctx, case, actor, _transition(ctx, s))
    if actor.institution == s.author_institution:
        raise Conflict("votre institution a fait cette proposition : la retirer plutôt que la "
                       "refuser / your institution made this proposal: withdraw it instead")
    if s.status != "open":
        raise Conflict("cette proposition n'attend plus de signatures / this proposal no "
                       "longer awaits signatures")
    if not (reason or "").strip():
        raise MissingInput("un refus doit être motivé / a refusal needs a reason",
                           field="reason")
    data = SignoffData(event=s.event, transition=s.transition, names=list(s.names), signed=[],
                       proposal=list(s.proposal),
                       refusal=[("at", ctx.now.isoformat()), ("by", actor.user),
                                ("institution", actor.institution), ("reason", reason)])
    return [draft(ctx, case.id, "signoff_refused", actor, event=s.event,
                  from_state=case.state, to_state=case.state, reason=reason,
                  data=SignoffRefused(signoff=data))]


def withdraw(ctx: Context, case: CaseState, actor: Actor, reason: str | None) -> list[Event]:
    """The author (or the coordination) takes the proposal back before it takes effect."""
    s = _pending(ctx, case, actor)
    if actor.role not in ACTING_ROLES or (actor.institution != s.author_institution
                                          and not actor.is_coordination):
        raise NotAllowed(f"seule {s.author_institution}, qui a fait la proposition, ou la "
                         f"coordination la retire / only its author or the coordination "
                         f"withdraws a proposal")
    return [draft(ctx, case.id, "signoff_withdrawn", actor, event=s.event,
                  from_state=case.state, to_state=case.state, reason=reason,
                  data=SignoffWithdrawn(transition=s.transition))]


def allowed(ctx: Context, case: CaseState, actor: Actor) -> list[str]:
    """What ``actor`` may do with the case's sign-off now: ``approve``, ``refuse``,
    ``propose`` (again, the event fired), ``withdraw``; in that order."""
    s = case.signoff
    if s is None or not case.is_open or case.handoff is not None:
        return []
    t = _transition(ctx, s)
    acting = may_act(actor, case, ctx.route.states[case.state], ctx.registry)
    try:
        mine = signatory_names(ctx, case, actor, t) if acting else []
    except NotAllowed:
        mine = []
    done = {n for n, _ in s.signed}
    author = actor.institution == s.author_institution
    out = []
    if s.status == "open" and any(n not in done for n in mine):
        out.append("approve")
    if s.status == "open" and mine and not author:
        out.append("refuse")
    if (s.status == "refused" and author and mine) or (s.status == "complete" and mine):
        out.append("propose")
    if actor.role in ACTING_ROLES and (author or (actor.is_coordination
                                                 and not actor.is_system)):
        out.append("withdraw")
    return out
