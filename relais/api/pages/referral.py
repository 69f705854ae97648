"""Opening a case (signalement): choose a route, name the person, give the route's fields
and the reason. The AVS number is checked as it is typed (``/static/avs.js``) and again
here by the domain (``person_from``); every error is shown under its field, values kept."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from relais.cases.domain.actors import Actor
from relais.cases.domain.age import AGE, asks_age
from relais.cases.domain.errors import (
    DuplicateCase,
    IdentityMismatch,
    MissingInput,
    NotAllowed,
    NotFound,
)
from relais.cases.domain.fields import checked_fields
from relais.cases.domain.person import InvalidPerson, person_problems
from relais.cases.queries import CaseQueries
from relais.cases.sharing import NETWORK_CATEGORIES, ReferralConsent, Sharing
from relais.conventions.data_sharing import SENSITIVE
from relais.i18n import said
from relais.workflows.engine.model import Route

from .case_events import REASON
from .case_inputs import Input, field_input, read_fields, text_of
from .case_view import say
from .people import CaseWorkerPerson, Form
from .render import lang_of, page, title_in

router = APIRouter(include_in_schema=False)
PERSON = ("avs", "official_name", "first_name", "birth_date", "sex", "nationality")
SENSITIVE_CATEGORIES = sorted(SENSITIVE)  # what the form may add to identity and situation


def routes_for(q: CaseQueries, actor: Actor) -> list[Route]:
    """The published routes (latest versions) on which the actor's institution may lead."""
    return [r for r in q.s.routes_published(latest=True)
            if q.s.registry.matches(actor.institution, r.institutions)]


def person_inputs(lang: str, values: dict[str, str]) -> list[Input]:
    sexes = [("", said(lang, "— non renseigné —", "— not given —")),
             ("1", said(lang, "homme", "male")), ("2", said(lang, "femme", "female")),
             ("3", said(lang, "inconnu", "unknown"))]
    return [
        Input("avs", said(lang, "Numéro AVS", "AVS number"), "text", values.get("avs", ""), True,
              hint="756.XXXX.XXXX.XX"),
        Input("official_name", said(lang, "Nom officiel", "Official name"), "text",
              values.get("official_name", ""), True),
        Input("first_name", said(lang, "Prénom", "First name"), "text",
              values.get("first_name", ""), True),
        Input("birth_date", said(lang, "Date de naissance", "Birth date"), "date",
              values.get("birth_date", ""), True),
        Input("sex", said(lang, "Sexe (facultatif)", "Sex (optional)"), "select",
              values.get("sex", ""), options=sexes),
        Input("nationality", said(lang, "Nationalité (facultatif)", "Nationality (optional)"),
              "text", values.get("nationality", ""),
              hint=said(lang, "Code pays à deux lettres, p. ex. CH", "Two-letter country code, "
                   "e.g. CH")),
    ]


def contact_inputs(lang: str, values: dict[str, str]) -> list[Input]:
    """How the person is reached: their letter's address, e-mail, mobile (all optional)."""
    return [
        Input("street", said(lang, "Rue et numéro", "Street and number"), "text",
              values.get("street", "")),
        Input("postcode", said(lang, "NPA", "Postcode"), "text", values.get("postcode", ""),
              hint=said(lang, "4 chiffres, p. ex. 2000", "4 digits, e.g. 2000")),
        Input("town", said(lang, "Localité", "Town"), "text", values.get("town", "")),
        Input("email", "E-mail", "email", values.get("email", "")),
        Input("phone", said(lang, "Téléphone mobile", "Mobile phone"), "tel",
              values.get("phone", ""), hint="+41 79 123 45 67"),
    ]


def consent_inputs(lang: str, values: dict[str, str]) -> list[Input]:
    return [
        Input("concedant", said(lang, "Signé par", "Signed by"), "text",
              values.get("concedant", ""),
              hint=said(lang, "Laisser vide si la personne signe elle-même ; sinon le nom de sa "
                   "représentante ou de son représentant légal.", "Leave empty "
                   "when the person signs; otherwise the name of their legal representative.")),
        Input("valable_jusqu", said(lang, "Valable jusqu'au (facultatif)", "Valid until "
              "(optional)"), "date", values.get("valable_jusqu", "")),
    ]


# where a refused value is shown: the person's contact and consent, by the domain's names
CONTACT_KEYS = {"address": "street", "address.postcode": "postcode", "email": "email",
                "phone": "phone", "consent.grantor": "concedant",
                "consent.valid_until": "valable_jusqu", "consent.categories": "categories",
                "consent.recipients": "consentement_reseau"}


def _contact(form: FormData) -> dict[str, Any]:
    """The contact as posted: an address only when some part of it is given."""
    out: dict[str, Any] = {}
    address = {k: text_of(form, k, 200) for k in ("street", "postcode", "town")}
    if any(address.values()):
        out["address"] = address
    for key in ("email", "phone"):
        if text_of(form, key, 200):
            out[key] = text_of(form, key, 200)
    return out


def _consent(form: FormData, person: dict[str, Any]) -> ReferralConsent | None:
    """The network's consent form, when the person signed it: by the person unless a
    representative is named; identity and situation, and what else the form ticks."""
    if text_of(form, "consentement_reseau", 10) != "oui":
        return None
    grantor = text_of(form, "concedant", 200) or \
        f"{person.get('first_name', '')} {person.get('official_name', '')}".strip()
    until = text_of(form, "valable_jusqu", 10)
    try:
        valid_until = date.fromisoformat(until) if until else None
    except ValueError:
        raise MissingInput("date attendue (AAAA-MM-JJ) / date expected (YYYY-MM-DD)",
                           field="consent.valid_until") from None
    extra = [c for c in form.getlist("categories") if c in SENSITIVE_CATEGORIES]
    return ReferralConsent(grantor or "-", (*NETWORK_CATEGORIES, *extra),
                           valid_until=valid_until)


def _form_page(request: Request, person: Actor, routes: list[Route], chosen: Route | None,
               posted: FormData | None = None, errors: dict[str, str] | None = None,
               status: int = 200, general: str = "", duplicate: bool = False) -> Response:
    lang = lang_of(request)
    values = {k: str(v) for k, v in (posted or {}).items() if isinstance(v, str)}
    errors = errors or {}
    people = person_inputs(lang, values)
    contact, consent = contact_inputs(lang, values), consent_inputs(lang, values)
    fields = [field_input(spec, lang, values.get(f"champ.{spec.name}"))
              for spec in (chosen.fields.values() if chosen else []) if not spec.computed
              and not (spec.name == AGE and chosen and asks_age(chosen))]  # from the birth date
    for i in [*people, *contact, *consent, *fields]:
        i.error = errors.get(i.name, "")
    return page(request, "referral.html.j2", person, status=status, routes=routes,
                chosen=chosen, route_titles={r.id: title_in(lang, r.title) for r in routes},
                people=people, fields=fields, reason=values.get(REASON, ""),
                contact=contact, consent=consent,
                consent_given=values.get("consentement_reseau") == "oui",
                consent_error=errors.get("consentement_reseau", ""),
                categories=list((posted or FormData()).getlist("categories")),
                categories_error=errors.get("categories", ""),
                reason_error=errors.get(REASON, ""), general=general, duplicate=duplicate)


def everything_wrong(route: Route, form: FormData, data: dict[str, Any],
                     lang: str) -> dict[str, str]:
    """Every problem of a posted referral, by the form's field names, in words: the
    person's fields each checked on their own, each route field with its label rather than
    its code, the consent's. Empty: the referral may be tried."""
    problems = {CONTACT_KEYS.get(k, k): say(lang, m) for k, m in person_problems(data).items()}
    for spec in route.fields.values():
        raw = form.get(f"champ.{spec.name}")
        if spec.computed or not isinstance(raw, str):
            continue
        try:
            checked_fields(route, read_fields(route, form, [spec.name]))
        except MissingInput as exc:
            label = title_in(lang, spec.title) if spec.title else spec.name
            problems[f"champ.{spec.name}"] = say(lang, exc.message).replace(
                f"« {spec.name} »", f"« {label} »").replace(f"'{spec.name}'", f"'{label}'")
    try:
        _consent(form, data)
    except MissingInput as exc:
        field = str(exc.details.get("field", ""))
        problems[CONTACT_KEYS.get(field, "consentement_reseau")] = say(lang, exc.message)
    return problems


@router.get("/dossiers/nouveau")
def referral_form(request: Request, person: CaseWorkerPerson,
                  route: Annotated[str, Query(max_length=64)] = "") -> Response:
    routes = routes_for(request.app.state.queries, person)
    # the route first: none is chosen for the person unless there is only one
    chosen = next((r for r in routes if r.id == route), routes[0] if len(routes) == 1 else None)
    return _form_page(request, person, routes, chosen)


@router.post("/dossiers/nouveau")
def open_case(request: Request, person: CaseWorkerPerson, form: Form) -> Response:
    q: CaseQueries = request.app.state.queries
    routes = routes_for(q, person)
    chosen = next((r for r in routes if r.id == text_of(form, "route", 64)), None)
    lang = lang_of(request)
    if chosen is None:
        return _form_page(request, person, routes, routes[0] if routes else None, form,
                          status=422, general=say(lang, "choisir une route parmi celles "
                                                  "proposées / choose one of the routes"))
    data: dict[str, Any] = {k: text_of(form, k, 200) for k in PERSON}
    data = {k: v for k, v in data.items() if v or k not in ("sex", "nationality")}
    if "nationality" in data:
        data["nationality"] = data["nationality"].upper()
    data.update(_contact(form))
    problems = everything_wrong(chosen, form, data, lang)
    if problems:  # all at once, each under its field, rather than one per attempt
        return _form_page(request, person, routes, chosen, form, problems, 422)
    sh: Sharing = request.app.state.sharing
    try:
        fields = read_fields(chosen, form, chosen.fields)
        out = sh.refer(person, route=chosen.id, person=data, consent=_consent(form, data),
                       fields=fields, reason=text_of(form, REASON) or None,
                       version=chosen.version,
                       confirm_duplicate=text_of(form, "doublon_confirme", 8) == "oui")
    except InvalidPerson as exc:
        return _form_page(request, person, routes, chosen, form, {
            CONTACT_KEYS.get(exc.field, exc.field): say(lang, exc.message)}, 422)
    except MissingInput as exc:
        name = exc.details.get("field")
        key = REASON if name == "reason" else CONTACT_KEYS.get(str(name), f"champ.{name}")
        if key in CONTACT_KEYS.values():
            return _form_page(request, person, routes, chosen, form, {key: say(
                lang, exc.message)}, 422)
        return _form_page(request, person, routes, chosen, form, {key: say(lang, exc.message)},
                          422, general="" if name in chosen.fields or name == "reason"
                          else say(lang, exc.message))
    except DuplicateCase as exc:  # the person has an open case on the route: the way forward
        return _form_page(request, person, routes, chosen, form, status=409,
                          general=say(lang, exc.message), duplicate=True)
    except IdentityMismatch as exc:  # a known AVS number with another identity: said there
        return _form_page(request, person, routes, chosen, form, {"avs": say(
            lang, exc.message)}, 409)
    except (NotAllowed, NotFound) as exc:
        return _form_page(request, person, routes, chosen, form, status=403,
                          general=say(lang, exc.message))
    return RedirectResponse(f"/dossiers/{out.case.id}?fait=ouvert", status_code=303)
