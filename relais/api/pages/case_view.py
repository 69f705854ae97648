"""What the case page shows, read through the same objects as the API: the case as the
actor may see it (``Sharing.disclose``, as ``api.views.case_out``), its history, deadlines,
documents (``CaseDocuments``) and consents (``Sharing.consents``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from relais.api.reporting.labels import KINDS, words
from relais.cases.access import AccessPolicy, CaseView
from relais.cases.documents import CaseDocuments, Shown
from relais.cases.domain.actors import Actor
from relais.cases.domain.case import CaseState
from relais.cases.domain.consent import consent_values
from relais.cases.domain.errors import NotAllowed
from relais.cases.domain.events import Event
from relais.cases.domain.membership import Member, roster
from relais.cases.domain.person import SEX
from relais.cases.domain.visibility import may_see_reads, takes_part
from relais.cases.queries import CaseQueries
from relais.cases.sharing import Sharing
from relais.cases.store.uow import UnitOfWork
from relais.i18n import localize, said
from relais.institutions.calendar import calendar
from relais.institutions.dates import swiss_date
from relais.institutions.registry import Role
from relais.workflows.engine import diagram
from relais.workflows.engine.model import Route

from ..views import signoff_out
from .action_words import action_said
from .case_events import (
    KIND_TITLES,
    LEAD,
    EventForm,
    Line,
    event_forms,
    event_title,
    keep_posted,
    state_title,
)
from .case_files_words import FORM_DEFAULTS, basis_words, form_context, note_line
from .render import lang_of, page, title_in
from .time_left import time_left

CATEGORY_TITLES = {"identite": ("Identité", "Identity"),
                   "situation": ("Situation", "Situation"),
                   "medical": ("Données médicales", "Medical data"),
                   "aide_sociale": ("Aide sociale", "Social assistance")}
DOCUMENT_KIND_TITLES = {"file": ("dossier", "file"), "letter": ("courrier", "letter"),
                        "message": ("message", "message")}
PERSON_LABELS = {"avs": ("Numéro AVS", "AVS number"), "official_name": ("Nom", "Name"),
                 "first_name": ("Prénom", "First name"),
                 "birth_date": ("Date de naissance", "Birth date"), "sex": ("Sexe", "Sex"),
                 "nationality": ("Nationalité", "Nationality"), "email": ("E-mail", "E-mail"),
                 "phone": ("Téléphone", "Phone"), "address": ("Adresse", "Address")}
SEX_TITLES = {"male": ("homme", "male"), "female": ("femme", "female"),
              "unknown": ("inconnu", "unknown")}


@dataclass
class Deadline:
    label: str
    due_at: datetime
    passed: bool
    left: str = ""  # the time left, in working days of the route's calendar


def pick(lang: str, pair: tuple[str, str]) -> str:
    return words(lang, *pair)


def person_rows(q: CaseQueries, case: CaseState, lang: str,
                within: UnitOfWork | None = None) -> list[tuple[str, Any]]:
    data = q.person(case, within).as_dict()
    rows: list[tuple[str, Any]] = []
    for key, label in PERSON_LABELS.items():
        value = data.get(key)
        if key == "birth_date" and value:
            value = date.fromisoformat(value)
        if key == "sex" and value:
            value = pick(lang, SEX_TITLES[SEX[value]]) if value in SEX else value
        if key == "address" and value:  # as an envelope reads it
            value = f"{value['street']}, {value['postcode']} {value['town']}"
        if value:
            rows.append((pick(lang, label), value))
    return rows


def timeline(history: list[Event], route: Route, lang: str) -> list[Line]:
    """The history as its reader may read it (``AccessPolicy.history``), newest first."""
    out = []
    for e in history:
        if e.kind == "note_added":
            out.append(note_line(e, lang))
            continue
        title = pick(lang, KIND_TITLES.get(e.kind, (e.kind, e.kind)))
        if e.event:
            title = f"{title} : {event_title(route, e.event, lang)}" if lang == "fr" \
                else f"{title}: {event_title(route, e.event, lang)}"
        done = action_said(e.data.get("action"), e.data.get("summary"), lang) \
            if e.kind == "action_done" else ""
        if done:  # named with what it did, not « Action effectuée »
            title = done
        moves = ""
        if e.from_state and e.to_state and e.from_state != e.to_state:
            moves = f"{state_title(route, e.from_state, lang)} → " \
                    f"{state_title(route, e.to_state, lang)}"
        elif e.to_state and not e.from_state:
            moves = state_title(route, e.to_state, lang)
        details = []
        handoff = e.data.get("handoff")
        if isinstance(handoff, dict) and handoff.get("receiver"):
            details.append((said(lang, "vers ", "to ")) + str(handoff["receiver"]))
        sig = e.data.get("signoff") if e.kind == "signed" else None
        if isinstance(sig, dict):  # who proposed which lead, as the signatories read it
            proposal = dict(sig.get("proposal") or [])
            if len(sig.get("signed") or []) == 1 and proposal.get("by") == e.actor:
                title = title.replace(pick(lang, KIND_TITLES["signed"]),
                                      pick(lang, ("Proposition signée", "Proposal signed")), 1)
            if proposal.get("lead"):
                details.append((said(lang, "responsable proposé : ", "proposed lead: "))
                               + str(proposal["lead"]))
        if e.kind == "handoff_accepted" and e.data.get("lead"):
            details.append((said(lang, "responsable : ", "lead: ")) + str(e.data["lead"]))
        if e.data.get("partners"):
            details.append((said(lang, "partenaires : ", "partners: "))
                           + ", ".join(map(str, e.data["partners"])))
        if e.kind == "partners_left" and e.data.get("left"):
            details.append((said(lang, "ne prend plus part : ", "no longer takes "
                            "part: ")) + ", ".join(map(str, e.data["left"])))
        if e.data.get("outcome"):
            details.append((said(lang, "issue : ", "outcome: "))
                           + title_in(lang, route.outcomes.get(e.data["outcome"],
                                                               e.data["outcome"])))
        out.append(Line(e.at, e.actor, e.institution, title, moves, e.reason or "", details))
    return list(reversed(out))  # the newest first: what happened last is what one looks for


ROLE_TITLES = {"lead": ("Responsable", "Lead"), "partner": ("Partenaire", "Partner"),
               "past_lead": ("Ancienne responsable", "Past lead")}


def partner_rows(q: CaseQueries, members: list[Member], route: Route, lang: str
                 ) -> list[dict[str, Any]]:
    """Who takes part (``domain.membership.roster``), as the "Institutions partenaires"
    section says it: institution, kind, role, since when, by which event and whom."""
    reg, out = q.s.registry, []
    for m in members:
        known = reg.get(m.institution) if m.institution in reg else None
        by = pick(lang, KIND_TITLES.get(m.kind, (m.kind, m.kind))) if m.kind else ""
        if m.event:
            by = f"{by} : {event_title(route, m.event, lang)}" if lang == "fr" \
                else f"{by}: {event_title(route, m.event, lang)}"
        out.append({"code": m.institution,
                    "name": title_in(lang, known.name) if known else m.institution,
                    "kind": pick(lang, (KINDS[known.kind]["fr"], KINDS[known.kind]["en"]))
                    if known and known.kind in KINDS else "",
                    "role": m.role, "role_title": pick(lang, ROLE_TITLES[m.role]),
                    "since": m.since, "by": by, "actor": m.actor, "by_institution": m.by,
                    "reason": m.reason or ""})
    return out


def deadlines(case: CaseState, now: datetime, lang: str,
              route: Route | None = None) -> list[Deadline]:
    out = []
    if case.is_open and case.deadline.due_at is not None:
        out.append(Deadline(said(lang, "Délai de l'étape", "Step deadline"),
                            case.deadline.due_at, case.deadline.due_at <= now))
    if case.handoff is not None:
        out.append(Deadline(said(lang, "Réponse au transfert", "Handoff answer"),
                            case.handoff.due_at, case.handoff.due_at <= now))
    if route is not None:
        cal = calendar(route.calendar)
        for d in out:
            d.left = time_left(d.due_at, now, cal, lang)
    return out


def may_hold(sh: Sharing, actor: Actor, case: CaseState) -> bool:
    """Whether ``actor`` may record consents here: the rule is Sharing's, asked, not copied."""
    try:
        sh.check_holder(actor, case)
    except NotAllowed:
        return False
    return True


def case_context(q: CaseQueries, sh: Sharing, policy: AccessPolicy, view: CaseView,
                 lang: str, within: UnitOfWork | None = None) -> dict[str, Any]:
    """Everything the case page template needs, as ``view`` (cases.access) lets its reader
    see it: the person, fields, free text, outcome and consents only on a legal basis."""
    actor, case, route = view.actor, view.case, view.route
    shown_fields = view.fields
    # a consent field is read from the case's consent records: shown as its guards read it
    consented = consent_values(route, [c for c, _ in sh.consents(case, within)],
                               q.s.registry, q.s.today()) if route.consent_fields else {}
    by_category: dict[str, list[tuple[str, Any]]] = {}
    for name, spec in route.fields.items():
        if spec.category in view.shown and (name in shown_fields or name in consented):
            label = title_in(lang, spec.title) if spec.title else name
            value = shown_fields.get(name, consented.get(name))
            if spec.type.type == "enum" and isinstance(value, str):
                value = spec.value_title(value, lang)  # the route's title for it
            if spec.type.type == "date" and isinstance(value, str):
                value = swiss_date(date.fromisoformat(value))  # dd.mm.yyyy, as people read
            by_category.setdefault(spec.category, []).append((label, value))
    documents: list[Shown]
    documents, documents_withheld = CaseDocuments(q, sh).visible(actor, case, within)
    rows = person_rows(q, case, lang, within) if "identite" in view.shown else None
    forms: list[EventForm] = event_forms(q.s, actor, case, route, lang, shown_fields)
    s = case.signoff
    if s is not None and (s.status == "open" or (
            s.status == "refused" and s.author_institution != actor.institution)):
        # the proposal's card answers it: naming the lead again is not how one signs
        forms = [f for f in forms if f.event != s.event]
    elif s is not None and s.status == "refused":
        for f in (f for f in forms if f.event == s.event):  # its author proposes again
            for i in f.inputs:
                if i.name == LEAD and s.get("lead"):
                    i.value = str(s.get("lead"))
            f.hint = pick(lang, ("Proposer à nouveau : la proposition refusée est reprise, "
                                 "changez ce qu'il faut.", "Propose again: the refused "
                                 "proposal is taken up; change what is needed.")) + (
                " " + f.hint if f.hint else "")
    signoff = signoff_card(q, view, lang) if case.signoff is not None else None
    return {
        "case": case, "route": route, "state_title": state_title(route, case.state, lang),
        "diagram": Markup(diagram.svg(route, case.state, lang)),  # noqa: S704 (escaped inside)
        "person_rows": rows,
        "who": f"{rows[1][1]} {rows[2][1]}" if rows else f"{pick(lang, ('Dossier', 'Case'))} "
               f"{case.id[:8]}",
        "shown": {k: basis_words(lang, v) for k, v in view.shown.items()},
        "withheld": view.withheld, "basis_in": lambda basis: basis_words(lang, basis),
        "category_titles": {k: pick(lang, v) for k, v in CATEGORY_TITLES.items()},
        "kind_titles": {k: pick(lang, v) for k, v in DOCUMENT_KIND_TITLES.items()},
        "fields_by_category": by_category,
        "timeline": timeline(history := policy.history(view, within), route, lang),
        "partner_rows": partner_rows(q, roster(history, case), route, lang),
        "may_manage_partners": actor.role == Role.coordinator and case.is_open,
        "partner_choices": [("", pick(lang, ("— choisir —", "— choose —"))), *(
            (i.code, f"{i.code} — {title_in(lang, i.name)}") for i in q.s.registry
            if not takes_part(i.code, case, route, q.s.registry))],
        "deadlines": deadlines(case, q.s.clock(), lang, route),
        "documents": documents, "documents_withheld": documents_withheld,
        "forms": forms, "signoff": signoff,
        "handoff": case.handoff,
        "handoff_title": event_title(route, case.handoff.event, lang) if case.handoff else "",
        "handoff_mine": case.handoff is not None and case.handoff.receiver == actor.institution,
        "consents": (consents := policy.consents(view, within)),
        "may_hold": may_hold(sh, actor, case),
        "me": actor.institution,
        "consents_mine": any(c.recorded_by == actor.institution for c in consents),
        "institutions": sorted(i.code for i in q.s.registry),
        "outcome_title": title_in(lang, route.outcomes.get(view.outcome, view.outcome))
        if view.outcome else "",
        **form_context(lang),
    }


NOTICES = {
    "ouvert": ("Le dossier est ouvert.", "The case is open."),
    "evenement": ("C'est enregistré.", "Recorded."),
    "transfert": ("Le transfert est proposé : l'institution destinataire doit l'accepter ; "
                  "vous restez responsable d'ici là.", "The handoff is proposed: the receiving "
                  "institution must accept it; you stay lead until then."),
    "signe": ("Votre signature est enregistrée ; les autres sont attendues.",
              "Your signature is recorded; the others are awaited."),
    "accepte": ("Transfert accepté : votre institution est responsable du dossier.",
                "Handoff accepted: your institution now leads the case."),
    "refuse": ("Transfert refusé : l'institution qui l'a proposé reste responsable.",
               "Handoff refused: the proposing institution stays lead."),
    "consentement": ("Le consentement est enregistré.", "The consent is recorded."),
    "partenaire": ("L'institution prend part au dossier.", "The institution takes part in the "
                   "case."),
    "retire": ("L'institution ne prend plus part au dossier.", "The institution no longer "
               "takes part in the case."),
    "revoque": ("Le consentement est révoqué.", "The consent is revoked."),
    "note": ("La note est ajoutée à l'historique.", "The note is added to the timeline."),
    "document": ("Le document est déposé au dossier.", "The document is added to the case."),
}


def signoff_card(q: CaseQueries, view: CaseView, lang: str) -> dict[str, Any]:
    """The sign-off's proposal as the API shows it to this reader (``signoff_out``), in
    words: who proposed it and when, the lead, the reason, the fields, who signed, who is
    awaited, a refusal; and what the reader may do with it."""
    route = view.route
    out = signoff_out(q, view)
    p = out.proposal
    assert p is not None and out.proposed_by is not None
    fields = [(title_in(lang, route.fields[k].title) if k in route.fields
               and route.fields[k].title else k, v) for k, v in p.fields.items()]
    return {"event": event_title(route, out.event, lang), "status": out.status,
            "by": out.proposed_by.user, "institution": out.proposed_by.institution,
            "at": out.proposed_at, "lead": p.lead, "reason": p.reason, "fields": fields,
            "signed": [f"{s.name} ({s.institution})" for s in out.signatures],
            "awaited": out.awaited, "refusal": out.refusal, "allowed": out.allowed}


def notice_for(done: str, case: CaseState, route: Route, actor: Actor, lang: str) -> str:
    """What the reader is told after an action: their own situation (who leads now, what
    awaits whom), not the words meant for someone else."""
    me = actor.institution
    h, s = case.handoff, case.signoff
    stays = (("votre institution reste responsable", "your institution stays lead")
             if case.lead == me else (f"{case.lead} reste responsable",
                                      f"{case.lead} stays lead"))
    if done == "transfert" and h is not None:
        signed = (("Toutes les signatures sont données. ", "Every signature is given. ")
                  if s is not None and s.status == "complete" else ("", ""))
        if h.receiver == me:
            told = (f"Le transfert est proposé à votre institution : l'accepter ou le refuser "
                    f"ci-dessous ; {h.sender} reste responsable d'ici là.",
                    f"The handoff to your institution is proposed: accept or refuse it "
                    f"below; {h.sender} stays lead until then.")
        else:
            told = (f"Le transfert est proposé à {h.receiver} : {h.receiver} doit l'accepter ;"
                    f" {stays[0]} d'ici là.", f"The handoff to {h.receiver} is proposed: "
                    f"{h.receiver} must accept it; {stays[1]} until then.")
        return pick(lang, (signed[0] + told[0], signed[1] + told[1]))
    if done == "signe" and s is not None and s.status == "open":
        awaited = ", ".join(n for n in s.names if n not in {m for m, _ in s.signed})
        mine = s.author_institution == me and all(c == me for _, c in s.signed)
        first = (("Votre proposition est enregistrée", "Your proposal is recorded") if mine
                 else ("Votre signature est enregistrée", "Your signature is recorded"))
        return pick(lang, (f"{first[0]} ; signatures attendues de : {awaited}. "
                           f"{stays[0].capitalize()}.",
                           f"{first[1]}; signatures awaited from: {awaited}. "
                           f"{stays[1].capitalize()}."))
    if done == "signature-refusee" and s is not None:
        return pick(lang, (f"Vous avez refusé la proposition : elle revient à "
                           f"{s.author_institution}, qui peut la proposer à nouveau ou la "
                           f"retirer ; {stays[0]}.", f"You refused the proposal: it is back "
                           f"with {s.author_institution}, who may propose it again or "
                           f"withdraw it; {stays[1]}."))
    if done == "signature-retiree":
        return pick(lang, (f"La proposition est retirée : aucune signature n'est en cours ; "
                           f"{stays[0]}.", f"The proposal is withdrawn: no signature is under "
                           f"way; {stays[1]}."))
    if done == "evenement":
        now = (("votre institution", "your institution") if case.lead == me
               else (case.lead, case.lead))
        return pick(lang, (f"C'est enregistré : étape « {state_title(route, case.state, 'fr')} »"
                           f", responsable : {now[0]}.", f"Recorded: step "
                           f"“{state_title(route, case.state, 'en')}”, lead: {now[1]}."))
    return pick(lang, NOTICES[done]) if done in NOTICES else ""


def say(lang: str, message: str) -> str:
    """A domain message ("français / English") in the page's language."""
    return localize(message, lang)


def show(request: Request, actor: Actor, case_id: str, *, status: int = 200,
         failed: tuple[str, str | None, str] | None = None, **extra: Any) -> HTMLResponse:
    """The case page, read as the API reads it (a read, logged); ``failed`` puts an
    event form's message under its field and keeps what was typed."""
    q: CaseQueries = request.app.state.queries
    sh: Sharing = request.app.state.sharing
    policy: AccessPolicy = request.app.state.policy
    lang = lang_of(request)
    with policy.unit() as uow:  # one transaction: the read, its record, what it shows
        context = case_context(q, sh, policy, policy.open(actor, case_id, "case", uow), lang,
                               uow)
    if failed is not None:
        posted = extra.pop("posted", {})
        if not keep_posted(context["forms"], failed[0], posted, failed[1], failed[2]):
            extra["event_error"] = failed[2]
    done = request.query_params.get("fait", "")[:40]
    notice = notice_for(done, context["case"], context["route"], actor, lang)
    extra.setdefault("stale", False)
    extra.setdefault("event_error", "")
    extra.setdefault("handoff_error", "")
    extra.setdefault("refuse_error", "")
    extra.setdefault("refuse_reason", "")
    extra.setdefault("signoff_error", ("", ""))  # (message, field) of a sign-off form
    extra.setdefault("signoff_reason", "")
    extra.setdefault("consent_error", ("", ""))
    extra.setdefault("consent_posted", {})
    extra.setdefault("partner_error", "")
    extra.setdefault("partner_posted", {})
    for key, value in FORM_DEFAULTS.items():  # the notes' and uploads' forms
        extra.setdefault(key, value)
    extra.setdefault("upload_limit_mb", request.app.state.upload_limit // (1024 * 1024))
    extra.setdefault("reads_link", may_see_reads(actor, context["case"])
                     if "case" in context else False)
    return page(request, "case_page.html.j2", actor, status=status, notice=notice,
                **context, **extra)
