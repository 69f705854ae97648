"""The case as it was when an action was queued, and what letters and messages say of it.

An action works from the event that queued it, not from the case as it is now: a retried
action sends the same words, and a case that moved on meanwhile is described as it was.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from relais.cases.access import CaseView
from relais.cases.domain.access import may_act
from relais.cases.domain.actors import Actor
from relais.cases.letters import LEGAL, address_lines, deadline_end, salutation, swiss_date
from relais.cases.outbox_services import CaseAt
from relais.conventions.data_sharing import STATUTORY
from relais.conventions.partners import partners
from relais.institutions.registry import Institution, Role
from relais.workflows.engine.model import COORDINATION

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


# -- letters written to an institution -----------------------------------------------------

LETTER = "relais (courrier / letter)"  # the user a letter's disclosure is recorded for
_STRICTEST = ("medical", "aide_sociale", "situation", "identite")  # a document's category


def letter_actor(i: Institution) -> Actor:
    """The institution a letter is written to, as the reader the access policy asks about."""
    return Actor(LETTER, i.code, i.kind, Role.case_manager)


def told(rt: Runtime, at: CaseAt, i: Institution, categories: set[str]) -> CaseView:
    """What a letter to ``i`` may say of the case, of ``categories``: through the access
    policy, the disclosure recorded (``AccessPolicy.letter``)."""
    return rt.access.letter(at.case, at.route, letter_actor(i), categories)


def category_of_letter(view: CaseView) -> str:
    """The category a letter is filed under: the most sensitive it carries."""
    return next((c for c in _STRICTEST if view.sees(c)), "identite")


def recipient_block(at: CaseAt, i: Institution) -> dict[str, Any]:
    """An institution's name and postal address, to the attention of the case manager when
    the case names one there (the lead's)."""
    attention = [f"À l'attention de {at.case.manager}"] \
        if at.case.manager and i.code == at.case.lead else []
    return {"name": i.name["fr"], "lines": [*attention, *address_lines(i.address)]}


def field_value(value: Any) -> str:
    """A field's value as the French of a letter writes it."""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, date):
        return swiss_date(value)
    return str(value)


def situation_told(at: CaseAt, view: CaseView, reason: str | None) -> dict[str, Any] | None:
    """The case's situation as ``view``'s reader may read it; None when nothing of it."""
    fields = [{"title": dict(spec.title) if spec and spec.title else {"fr": k, "en": k},
               "value": field_value(v)}
              for k, v in view.fields.items() for spec in [at.route.fields.get(k)]]
    text = view.text(reason)
    return {"reason": text, "fields": fields} if text or fields else None


def person_told(at: CaseAt, view: CaseView) -> dict[str, Any] | None:
    if not view.sees("identite"):
        return None
    p = at.person
    return {"name": f"{p.first_name} {p.official_name}", "birth_date": p.birth_date,
            "avs": p.avs_formatted, "born": {"1": "né", "2": "née"}.get(p.sex or "", "né·e")}


def happened(rt: Runtime, at: CaseAt) -> dict[str, str]:
    """What the event that queued the action did to the case, in a few words."""
    code = at.event.institution
    by = institution(rt, code).name if code in rt.services.registry else {"fr": code}
    fr_by, en_by = by["fr"], by.get("en") or by["fr"]
    if at.event.kind == "case_opened":
        return {"fr": f"signalé par {fr_by}", "en": f"referred by {en_by}"}
    step = next((t for t in at.route.transitions if t.event == at.event.event), None)
    if step is not None and step.title is not None:
        return {"fr": f"« {step.title['fr']} » par {fr_by}",
                "en": f"\"{step.title.get('en') or step.title['fr']}\" by {en_by}"}
    return {"fr": f"nouvelle étape, par {fr_by}", "en": f"new step, by {en_by}"}


def todo(rt: Runtime, at: CaseAt, i: Institution) -> dict[str, str]:
    """What the recipient has to do now."""
    state, title = at.state, at.state.title
    en = title.get("en") or title["fr"]
    if state.final:
        return {"fr": "Le cas est clos : aucune action n'est attendue de votre part.",
                "en": "The case is closed: no action is expected from you."}
    due = at.case.deadline.due_at
    if may_act(letter_actor(i), at.case, state, rt.services.registry):
        with_others = {"fr": ", avec les autres partenaires", "en": ", with the other partners"} \
            if state.joint else {"fr": "", "en": ""}
        by = {"fr": f" d'ici au {deadline_end(due)}", "en": f" by {deadline_end(due)}"} \
            if due else {"fr": "", "en": ""}
        return {"fr": f"À vous d'agir{with_others['fr']} : étape « {title['fr']} »{by['fr']}.",
                "en": f"Your move{with_others['en']}: step \"{en}\"{by['en']}."}
    owner = institution(rt, rt.services.policy.coordination if COORDINATION in state.owner
                        else at.case.lead).name
    return {"fr": f"Aucune action n'est attendue de votre part pour l'instant ; responsable de "
                  f"l'étape : {owner['fr']}.",
            "en": f"No action is expected from you for now; in charge of the step: "
                  f"{owner.get('en') or owner['fr']}."}
