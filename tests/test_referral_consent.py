"""One consent, recorded at the referral (issue 12, finding 1 and the referral side of 7).

The person's consent to the CII network is a consent record of the case, written by the
referring institution with the opening (API and form, all or nothing); reseau-cii v3's
``consentement`` is a ``consent`` field that the guards compute from it; the coordination
then sees whom it coordinates; the referral asks the person's contact, validated."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from playwright.sync_api import Page
from sqlalchemy import func, select

from relais.api.pages.workshop_simulate import simulate
from relais.cases.access import AccessPolicy
from relais.cases.domain.consent import consent_values, network_recipients
from relais.cases.domain.errors import EventRefused, MissingInput
from relais.cases.domain.person import InvalidPerson, person_from
from relais.cases.queries import CaseQueries
from relais.cases.services import CaseServices
from relais.cases.sharing import ReferralConsent, Sharing
from relais.cases.store.tables import case_t
from relais.conventions.data_sharing import Consent
from relais.institutions.registry import default_registry
from relais.workflows.engine.validate import parse_route
from tests.api_server import People
from tests.browser import Site, shoot
from tests.conftest import COORD, ORP, PERSON, SSR
from tests.domain_helpers import Desk, route

V2 = (Path(__file__).parent / "routes" / "reseau-cii-v2.yaml").read_text("utf-8")
CONSENT = {"grantor": "Jean Muster"}
TODAY = date(2026, 3, 2)


def given(recipients: tuple[str, ...], holder: str = "ORP-NE", **kw: Any) -> Consent:
    return Consent("k", recipients, ("identite", "situation"), "coordination", TODAY,
                   holder=holder, **kw)


# -- the route format and the domain -------------------------------------------------------

def test_reseau_cii_v3_declares_its_consent_as_a_consent_field_and_v2_stays_valid() -> None:
    v3 = route("reseau-cii")
    assert v3.version >= 3 and v3.fields["consentement"].type.type == "consent"
    assert v3.consent_recipients(v3.fields["consentement"]) == ("AC", "AI", "SA", "CII")
    v2, problems = parse_route(V2)
    assert v2 is not None and not problems
    assert v2.fields["consentement"].type.type == "boolean" and not v2.consent_fields


def test_a_consent_field_names_known_recipients_and_only_a_consent_field_has_them() -> None:
    text = route("reseau-cii").source.replace(
        "consentement: {type: consent,", "consentement: {type: consent, recipients: [AI, XX],")
    text = text.replace("demande_ai: {type: boolean,",
                        "demande_ai: {type: boolean, recipients: [AI],")
    r, problems = parse_route(text)
    assert r is None
    assert sorted(p.path for p in problems) == ["fields.consentement.recipients[1]",
                                                "fields.demande_ai.recipients"]


def test_the_consent_field_holds_while_an_active_consent_names_the_network() -> None:
    r, reg = route("reseau-cii"), default_registry()
    network = tuple(network_recipients(r, "ORP-NE", reg, "CII-NE"))
    assert network == ("ORP-LCF", "AI", "SA", "CII-NE")  # never in the recorder's favour

    def value(*consents: Consent, today: date = TODAY) -> bool:
        return consent_values(r, consents, reg, today)["consentement"]

    assert value(given(network))
    assert not value()  # no consent on record
    assert not value(given(("OAI-NE",)))  # names the AI alone: not the network's consent
    assert not value(given(("AI", "SA")))  # the coordination is not named
    assert value(given(("OAI-NE", "SSR-NE", "CII")))  # codes or kinds, either way
    assert not value(given(network, revoked_on=TODAY))
    assert not value(given(network, valid_until=TODAY), today=TODAY + timedelta(days=1))
    assert not value(given(network), today=TODAY - timedelta(days=1))  # not yet given


def test_the_guard_reads_the_consent_record_and_nobody_writes_it() -> None:
    desk = Desk(route("reseau-cii"))
    desk.open(ORP, age=48)
    with pytest.raises(EventRefused):
        desk.fire("transmettre", ORP)
    with pytest.raises(MissingInput) as exc:
        desk.fire("transmettre", ORP, fields={"consentement": True})
    assert exc.value.details["field"] == "consentement"
    desk.consent(ORP)
    assert desk.fire("transmettre", ORP).state == "triage"
    desk.consents[0] = given(desk.consents[0].recipients, revoked_on=desk.now.date())
    with pytest.raises(EventRefused):
        desk.fire("retenir", COORD)  # revoked: the coordination cannot take it on


def test_a_consent_ends_at_midnight_in_neuchatel_not_in_utc() -> None:
    """Valid until the 2nd: at 00:30 on the 3rd in Neuchâtel (23:30 UTC on the 2nd) it has
    ended, though UTC's date still says the 2nd."""
    desk = Desk(route("reseau-cii"))
    desk.open(ORP, age=48)
    desk.consent(ORP)
    desk.consents[0] = given(desk.consents[0].recipients, valid_until=desk.now.date())
    desk.now = desk.now.replace(hour=23, minute=30)  # 09:00 UTC + 14:30
    with pytest.raises(EventRefused):
        desk.fire("transmettre", ORP)


def test_the_workshop_simulates_a_consent_field_as_a_yes_no() -> None:
    r = route("reseau-cii")
    walk = simulate(r, "transmettre\nretenir", "consentement: true\nage: 48")
    assert walk.error is None and walk.end == "assessment"
    refused = simulate(r, "transmettre", "consentement: false\nage: 48")
    assert refused.end == "signalement" and refused.moves[0].target is None
    said = simulate(r, "transmettre", "consentement: oui\nage: 48")  # as people say it
    assert said.error is None and said.end == "triage"
    assert simulate(r, "transmettre", "consentement: non\nage: 48").moves[0].target is None
    bad = simulate(r, "transmettre", "consentement: peut-être")
    assert bad.error is not None and "oui" in bad.error[0]


def test_a_swiss_postcode_and_an_e164_mobile_in_the_person() -> None:
    base = {**PERSON, "address": {"street": "Rue du Seyon 1", "postcode": "2000",
                                  "town": "Neuchâtel"}, "phone": "079 123 45 67"}
    person = person_from(base)
    assert person.phone == "+41791234567" and person.address == base["address"]
    for postcode in ("200", "20000", "0999", "9700", "2O00"):
        with pytest.raises(InvalidPerson) as exc:
            person_from({**base, "address": {**base["address"], "postcode": postcode}})
        assert exc.value.field == "address.postcode"
    with pytest.raises(InvalidPerson) as bad:
        person_from({**base, "phone": "12"})
    assert bad.value.field == "phone"


AUTOMATIC = """
id: consent-deadline
version: 1
title: {fr: Essai, en: Trial}
institutions: [AC, AI]
calendar: CH-NE
initial: attente
fields:
  accord: {type: consent}
states:
  attente: {title: {fr: Attente}, owner: lead, deadline: 1 working days, on_deadline: avancer}
  fait: {title: {fr: Fait}, final: true, outcome: none}
transitions:
  - {event: avancer, from: attente, to: fait, guard: accord}
"""


def test_an_automatic_event_at_a_deadline_reads_the_consent_too(
        services: CaseServices, clock: Any) -> None:
    services.publish_route(AUTOMATIC, by="test")
    sh = Sharing(services)
    given = sh.refer(ORP, route="consent-deadline", person=PERSON,
                     consent=ReferralConsent("Jean Muster")).case.id
    without = sh.refer(ORP, route="consent-deadline", person=PERSON, consent=None).case.id
    clock.advance(days=3)
    services.sweep_deadlines()
    assert services.get(given).state == "fait"
    assert services.get(without).state == "attente"  # reminded: a person must look at it


# -- the API over a real server, SQLite and PostgreSQL -----------------------------------

def refer(people: People, **extra: Any) -> dict[str, Any]:
    r = people["ORP-NE"].post("/api/cases", json={
        "confirm_duplicate": True,  # the same person again, on purpose
        "route": "reseau-cii", "person": PERSON, "fields": {"age": 48}, **extra})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_referral_with_the_persons_consent_is_referred_and_taken_on(people: People) -> None:
    case = refer(people, consent=CONSENT)
    cid, orp, coord = case["id"], people["ORP-NE"], people["CII-NE:coordinator"]
    [consent] = orp.get(f"/api/cases/{cid}/consents").json()
    assert consent["recorded_by"] == "ORP-NE" and consent["grantor"] == "Jean Muster"
    assert consent["recipients"] == ["ORP-LCF", "AI", "SA", "CII-NE"]
    assert consent["categories"] == ["identite", "situation"]
    assert consent["purpose"].startswith("coordination de ce cas")
    assert "transmettre" in case["allowed_events"]
    moved = orp.post(f"/api/cases/{cid}/events", json={"event": "transmettre"})
    assert moved.status_code == 200, moved.text
    # the coordination sees whom it coordinates, on the basis of that consent
    seen = coord.get(f"/api/cases/{cid}").json()
    assert seen["person"]["official_name"] == "Muster"
    assert seen["legal_basis"] == {"identite": "consentement / consent",
                                   "situation": "consentement / consent"}
    assert seen["withheld"] == ["medical", "aide_sociale"]
    assert seen["fields"] == {"age": 48}
    listed = coord.get("/api/cases").json()["items"]
    assert [c["person"]["official_name"] for c in listed] == ["Muster"]
    taken = coord.post(f"/api/cases/{cid}/events", json={"event": "retenir"})
    assert taken.status_code == 200 and taken.json()["state"] == "assessment", taken.text


def test_a_referral_without_consent_cannot_be_referred(people: People) -> None:
    case = refer(people)
    assert case["allowed_events"] == ["ecarter"]
    refused = people["ORP-NE"].post(f"/api/cases/{case['id']}/events",
                                    json={"event": "transmettre"})
    assert refused.status_code == 409 and refused.json()["error"] == "event_not_allowed"
    written = people["ORP-NE"].post(f"/api/cases/{case['id']}/events", json={
        "event": "transmettre", "fields": {"consentement": True}})
    assert written.status_code == 422 and written.json()["field"] == "consentement"
    # the form signed later, recorded on the case: naming the AI alone is not the network's
    orp = people["ORP-NE"]
    assert orp.post(f"/api/cases/{case['id']}/consents", json={
        "grantor": "Jean Muster", "recipients": ["OAI-NE"], "categories": ["medical"],
        "purpose": "expertise"}).status_code == 201
    assert orp.get(f"/api/cases/{case['id']}").json()["allowed_events"] == ["ecarter"]
    assert orp.post(f"/api/cases/{case['id']}/consents", json={
        "grantor": "Jean Muster", "recipients": ["AI", "SSR-NE", "CII-NE"],
        "categories": ["identite", "situation"], "purpose": "coordination"}).status_code == 201
    assert orp.post(f"/api/cases/{case['id']}/events", json={"event": "transmettre"}
                    ).status_code == 200


def test_a_revoked_consent_blocks_the_referral_and_the_taking_on(people: People) -> None:
    orp, coord = people["ORP-NE"], people["CII-NE:coordinator"]
    first, second = refer(people, consent=CONSENT)["id"], refer(people, consent=CONSENT)["id"]
    assert orp.post(f"/api/cases/{second}/events", json={"event": "transmettre"}
                    ).status_code == 200
    for cid in (first, second):
        [consent] = orp.get(f"/api/cases/{cid}/consents").json()
        assert orp.post(f"/api/consents/{consent['id']}/revoke").status_code == 200
    assert orp.post(f"/api/cases/{first}/events", json={"event": "transmettre"}
                    ).status_code == 409
    refused = coord.post(f"/api/cases/{second}/events", json={"event": "retenir"})
    assert refused.status_code == 409 and "retenir" not in refused.json()["allowed_events"]


def test_a_wrong_consent_or_contact_opens_nothing_and_names_its_field(people: People) -> None:
    orp = people["ORP-NE"]
    bad = [({"consent": {**CONSENT, "categories": ["tout"]}}, "consent.categories"),
           ({"consent": {**CONSENT, "recipients": ["NOWHERE"]}}, "consent.recipients"),
           ({"consent": {**CONSENT, "valid_until": "2020-01-01"}}, "consent.valid_until"),
           ({"person": {**PERSON, "address": {"street": "Rue 1", "postcode": "123",
                                              "town": "Neuchâtel"}}}, "person.address.postcode"),
           ({"person": {**PERSON, "phone": "0791"}}, "person.phone")]
    for body, field in bad:
        r = orp.post("/api/cases", json={"confirm_duplicate": True,  # PERSON again
                                         "route": "reseau-cii", "person": PERSON,
                                         "fields": {"age": 48}, "consent": CONSENT, **body})
        assert r.status_code == 422 and r.json()["field"] == field, (field, r.text)
    nameless = orp.post("/api/cases", json={"route": "reseau-cii", "person": PERSON,
                                            "consent": {"grantor": "123"}})
    assert nameless.status_code == 422
    assert orp.get("/api/cases").json()["items"] == []  # all or nothing


def test_a_case_opened_on_v2_keeps_its_yes_no_consent(engine: Any, clock: Any) -> None:
    s = CaseServices(engine, clock=clock)
    s.publish_route(V2, by="test")
    case = s.open_case(route="reseau-cii", person=PERSON, actor=ORP,
                       fields={"age": 48, "consentement": True}).case.id
    from relais.wiring import publish_standard_routes
    publish_standard_routes(s)  # v4 published while the case runs on v2
    assert s.route("reseau-cii").version == 4
    assert s.fire(case, "transmettre", actor=ORP).case.state == "triage"
    assert s.fire(case, "retenir", actor=COORD).case.route_version == 2


def test_the_services_record_the_referral_consent_in_the_opening_unit(
        services: CaseServices) -> None:
    sh = Sharing(services)
    with pytest.raises(MissingInput):
        sh.refer(SSR, route="reseau-cii", person=PERSON, fields={"age": 30},
                 consent=ReferralConsent("Jean Muster", categories=("rien",)))
    with services.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(case_t)).scalar() == 0
    out = sh.refer(SSR, route="reseau-cii", person=PERSON, fields={"age": 30},
                   consent=ReferralConsent("Jean Muster"))
    [(c, extra)] = sh.consents(out.case)
    assert c.recipients == ("AC", "AI", "SSR-LCF", "CII-NE") and extra["institution"] == \
        "SSR-NE"
    policy = AccessPolicy(CaseQueries(services), sh)
    assert policy.open(COORD, out.case.id, "case").sees("identite")


# -- the pages, in chromium --------------------------------------------------------------

@pytest.mark.browser
def test_the_referral_form_records_consent_and_contact_and_the_coordinator_sees_the_person(
        site: Site) -> None:
    s = site.services
    site.person("m.robert", "ORP-NE")
    page = cast(Page, site.signed_in("m.robert"))
    page.goto("/dossiers/nouveau?route=reseau-cii")
    page.get_by_label("Numéro AVS").fill("756.1234.5678.97")
    page.get_by_label("Nom officiel").fill("Rochat")
    page.get_by_label("Prénom").fill("Daniel")
    page.get_by_label("Date de naissance").fill("1978-05-01")
    page.get_by_label("Rue et numéro").fill("Rue des Parcs 12")
    page.get_by_label("NPA").fill("200")  # three digits: refused under the field
    page.get_by_label("Localité").fill("Neuchâtel")
    page.get_by_label("E-mail").fill("daniel.rochat@example.ch")
    page.get_by_label("Téléphone mobile").fill("079 555 12 34")
    consent = page.get_by_label(re.compile("La personne a signé le formulaire de consentement"))
    assert not consent.is_checked()
    consent.check()
    assert page.get_by_label("Signé par").input_value() == ""  # the person, unless said
    page.get_by_role("button", name="Ouvrir le dossier").click()
    assert page.locator("#p-postcode-error").inner_text().startswith("NPA suisse")
    assert page.get_by_label("Rue et numéro").input_value() == "Rue des Parcs 12"  # kept
    assert page.get_by_label(re.compile("La personne a signé")).is_checked()
    page.get_by_label("NPA").fill("2000")
    shoot(page, "referral-consent-contact")
    page.get_by_role("button", name="Ouvrir le dossier").click()
    assert "?fait=ouvert" in page.url
    assert "Consentement à l'échange de données (réseau CII)\noui" in "\n".join(
        page.locator("dl.pairs").all_inner_texts())
    cid = page.url.split("/dossiers/")[1].split("?")[0]
    case = s.get(cid)
    person = CaseQueries(s).person(case)
    assert person.address == {"street": "Rue des Parcs 12", "postcode": "2000",
                              "town": "Neuchâtel"}
    assert (person.email, person.phone) == ("daniel.rochat@example.ch", "+41795551234")
    [(c, extra)] = Sharing(s).consents(case)
    assert extra["grantor"] == "Daniel Rochat" and extra["institution"] == "ORP-NE"
    assert c.recipients == ("ORP-LCF", "AI", "SA", "CII-NE")
    page.get_by_role("button", name="Transmettre à la coordination CII").click()
    assert s.get(cid).state == "triage"

    site.person("c.perrin", "CII-NE", "coordinator")
    coord = cast(Page, site.signed_in("c.perrin"))
    coord.goto("/dossiers")
    assert coord.get_by_role("link", name="Rochat Daniel").is_visible()
    assert coord.get_by_role("link", name=re.compile("^Dossier ")).count() == 0
    shoot(coord, "coordination-inbox-names")
    coord.get_by_role("link", name="Rochat Daniel").click()
    assert "Rochat" in coord.get_by_role("heading", level=1).inner_text()
    coord.get_by_role("button", name="Retenir le cas").click()
    assert s.get(cid).state == "assessment"


@pytest.mark.browser
def test_the_referral_form_without_consent_opens_a_case_that_waits_for_one(site: Site) -> None:
    s = site.services
    site.person("m.robert", "ORP-NE")
    page = cast(Page, site.signed_in("m.robert"))
    page.goto("/dossiers/nouveau?route=reseau-cii")
    assert page.get_by_label(re.compile("Consentement à l'échange")).count() == 0  # no yes/no
    page.get_by_label("Numéro AVS").fill("756.1234.5678.97")
    page.get_by_label("Nom officiel").fill("Rochat")
    page.get_by_label("Prénom").fill("Daniel")
    page.get_by_label("Date de naissance").fill("1978-05-01")
    page.get_by_role("button", name="Ouvrir le dossier").click()
    cid = page.url.split("/dossiers/")[1].split("?")[0]
    assert Sharing(s).consents(s.get(cid)) == []
    assert "Consentement à l'échange de données (réseau CII)\nnon" in "\n".join(
        page.locator("dl.pairs").all_inner_texts())
    assert page.get_by_text("Le consentement de la personne au réseau doit être enregistré"
                            ).first.is_visible()


@pytest.mark.browser
def test_the_coordination_page_names_the_person_of_a_revolving_door_case(site: Site) -> None:
    from contextlib import closing

    from tests.browser import signed_in_client
    from tests.test_pages_coordinator import back_and_forth, read
    case = back_and_forth(site.services)  # referred with the person's consent
    site.person("c.perrin", "CII-NE", "coordinator")
    with closing(signed_in_client(site.base, "c.perrin")) as coord:
        text = read(coord.get("/coordination"))
    assert "Léa Rochat" in text and f"Dossier {case[:8]}" not in text
