"""The case page's actions: one form per event the person may fire now, with the inputs its
transitions require (reason, outcome, new lead, fields); and the titles of the timeline.

Which events exist and which are possible is the engine's answer (``allowed_events``); who
may act is the domain's (``may_act``). An event whose guard is false on the case's current
fields is still offered with the fields its guard reads: setting them is how it becomes
possible (the engine decides again when it is fired).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from relais.cases.domain.access import may_act
from relais.cases.domain.actors import Actor
from relais.cases.domain.case import CaseState
from relais.cases.services import CaseServices
from relais.i18n import said
from relais.workflows.engine.model import CHOOSE, Route

from .case_inputs import Input, field_input
from .render import title_in

REASON, OUTCOME, LEAD = "motif", "issue", "responsable"

# what each kind of recorded event is called on the timeline (French, English)
KIND_TITLES = {
    "case_opened": ("Dossier ouvert", "Case opened"),
    "transitioned": ("Étape franchie", "Step taken"),
    "signed": ("Signature", "Signature"),
    "signoff_refused": ("Proposition refusée", "Proposal refused"),
    "signoff_withdrawn": ("Proposition retirée", "Proposal withdrawn"),
    "handoff_proposed": ("Transfert proposé", "Handoff proposed"),
    "handoff_accepted": ("Transfert accepté", "Handoff accepted"),
    "handoff_refused": ("Transfert refusé", "Handoff refused"),
    "handoff_withdrawn": ("Transfert retiré", "Handoff withdrawn"),
    "handoff_expired": ("Transfert échu", "Handoff expired"),
    "deadline_reminded": ("Rappel de délai", "Deadline reminder"),
    "deadline_escalated": ("Escalade à la coordination", "Escalated to the coordination"),
    "escalation_settled": ("Escalade réglée", "Escalation settled"),
    "fields_updated": ("Données mises à jour", "Data updated"),
    "route_migrated": ("Route mise à jour", "Route updated"),
    "action_done": ("Action effectuée", "Action done"),
    "document_added": ("Document ajouté", "Document added"),
    "partners_joined": ("Partenaire ajouté", "Partner added"),
    "partners_left": ("Partenaire retiré", "Partner removed"),
    "measure_assigned": ("Mesure attribuée", "Measure assigned"),
    "measure_waitlisted": ("Liste d'attente", "Waiting list"),
    "measure_started": ("Mesure commencée", "Measure started"),
    "measure_ended": ("Mesure terminée", "Measure ended"),
    "note_added": ("Note", "Note"),
}


@dataclass
class EventForm:
    event: str
    title: str
    inputs: list[Input]
    possible: bool  # the guard holds on the current fields
    condition: str = ""  # the guard, when it does not hold yet
    hint: str = ""
    error: str = ""  # a message about the whole form (not one field)


def event_title(route: Route, event: str | None, lang: str) -> str:
    t = next((t for t in route.transitions if t.event == event and t.title), None)
    return title_in(lang, t.title) if t and t.title else (event or "")


def state_title(route: Route, state: str | None, lang: str) -> str:
    spec = route.states.get(state or "")
    return title_in(lang, spec.title) if spec else (state or "")


def _choose(lang: str) -> tuple[str, str]:
    return ("", said(lang, "— choisir —", "— choose —"))


def _one_form(s: CaseServices, case: CaseState, route: Route, event: str, lang: str,
              visible_fields: Mapping[str, Any], possible: bool) -> EventForm:
    ts = [t for t in route.transitions_from(case.state) if t.event == event]
    require = {item for t in ts for item in t.require}
    targets = [route.states[t.target] for t in ts]
    inputs = [Input(REASON, said(lang, "Motif", "Reason"), "textarea",
                    required="reason" in require)]
    if "outcome" in require or any(x.final and x.needs_outcome for x in targets):
        outcomes = [(k, title_in(lang, v)) for k, v in route.outcomes.items()]
        inputs.append(Input(OUTCOME, said(lang, "Issue", "Outcome"), "select", required=True,
                            options=[_choose(lang), *outcomes]))
    if any(t.lead == CHOOSE for t in ts):
        codes = [i.code for name in route.institutions for i in s.registry.covered_by(name)]
        names = [(c, f"{c} — {title_in(lang, s.registry.get(c).name)}") for c in codes]
        inputs.append(Input(LEAD, said(lang, "Institution responsable", "Lead institution"),
                            "select", required=True, options=[_choose(lang), *names]))
    wanted = [r for r in sorted(require) if r in route.fields]
    for t in ts:
        if t.guard is not None:
            wanted += [f for f in sorted(t.guard.fields) if f not in wanted]
    for name in wanted:
        if not route.fields[name].computed:  # a consent field is read, never written
            inputs.append(field_input(route.fields[name], lang, visible_fields.get(name),
                                      required=name in require))
    condition = "" if possible else " ; ".join(t.guard.text for t in ts if t.guard)
    signoff = sorted({n for t in ts for n in t.signoff})
    hint = (said(lang, "Signature requise de : ", "Signed by: ") + ", ".join(signoff)
            if signoff else "")
    if not possible and any(route.fields[n].computed for n in wanted):
        hint = " ".join(filter(None, [hint, (
            said(lang, "Le consentement de la personne au réseau doit être enregistré au dossier "
                       "(Consentements), en faveur des institutions de la route et de la "
                       "coordination.",
                 "The person's consent to the network must be recorded on the case "
                 "(Consents), in favour of the route's institutions and the coordination."))]))
    return EventForm(event, event_title(route, event, lang), inputs, possible, condition, hint)


def event_forms(s: CaseServices, actor: Actor, case: CaseState, route: Route, lang: str,
                visible_fields: Mapping[str, Any]) -> list[EventForm]:
    """The forms of the events ``actor`` may fire now (none while a handoff waits)."""
    if not case.is_open or case.handoff is not None:
        return []
    if not may_act(actor, case, route.states[case.state], s.registry):
        return []
    allowed = set(s.allowed_events(case))
    return [_one_form(s, case, route, e, lang, visible_fields, e in allowed)
            for e in route.events_from(case.state)]


def keep_posted(forms: list[EventForm], event: str, posted: Mapping[str, Any],
                problem_field: str | None, message: str) -> bool:
    """The failed form shows what was typed, and the message under its field (or on top);
    False when no form of the page is that event's (the page then shows the message)."""
    target = next((f for f in forms if f.event == event), None)
    if target is None:
        return False
    names = {"reason": REASON, "outcome": OUTCOME, "lead": LEAD}
    at = names.get(problem_field or "", f"champ.{problem_field}" if problem_field else "")
    placed = False
    for i in target.inputs:
        raw = posted.get(i.name)
        if isinstance(raw, str):
            i.value = raw
        if i.name == at:
            i.error, placed = message, True
    if not placed:
        target.error = message
    return True


@dataclass
class Line:
    """One entry of the timeline."""

    at: Any
    actor: str
    institution: str
    title: str
    moves: str = ""
    reason: str = ""
    details: list[str] = field(default_factory=list)
    note: str = ""  # a note's text
    note_withheld: bool = False  # a note whose category this reader does not see
