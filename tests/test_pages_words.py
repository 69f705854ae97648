"""Words, not codes, on the case managers' pages (issue 13): deadlines read as time left in
working days of the route's calendar, the handoff's own answer deadline in the inbox."""

from __future__ import annotations

import re
from contextlib import closing
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest

from relais.api.pages.time_left import time_left
from relais.cases.domain.results import Document
from relais.institutions.calendar import calendar
from tests.browser import Site, shoot, signed_in_client
from tests.test_pages_case_manager import (
    FIELDS,
    M_ROBERT,
    P_GIRARD,
    _hand_to_oai,
    _open,
    _to_measures,
)

NE = calendar("CH-NE")
WED = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)  # a Wednesday before Easter


def _end_of(day: str) -> datetime:
    """A deadline whose last day is ``day`` (it ends at the next local midnight)."""
    d = datetime.fromisoformat(day) + timedelta(days=1)
    return d.replace(tzinfo=NE.zone)


@pytest.mark.parametrize(("last", "fr", "en"), [
    ("2026-04-01", "dernier jour", "last day"),
    ("2026-04-02", "2 jours ouvrables restants", "2 working days left"),
    # Good Friday and Easter Monday are off in Neuchâtel: Wed, Thu, Tue
    ("2026-04-07", "3 jours ouvrables restants", "3 working days left"),
    ("2026-03-31", "échu depuis 1 jour ouvrable", "overdue by 1 working day"),
    ("2026-03-27", "échu depuis 3 jours ouvrables", "overdue by 3 working days"),
])
def test_time_left_counts_the_working_days_of_the_routes_calendar(
        last: str, fr: str, en: str) -> None:
    due = _end_of(last)
    assert time_left(due, WED, NE, "fr") == fr
    assert time_left(due, WED, NE, "en") == en


def test_a_deadline_passed_over_a_weekend_says_it_is_overdue() -> None:
    saturday = datetime(2026, 4, 4, 10, 0, tzinfo=UTC)
    assert time_left(_end_of("2026-04-02"), saturday, NE, "fr") == "échu"


def test_the_case_page_and_the_inbox_show_the_time_left_and_the_handoffs_answer_deadline(
        site: Site) -> None:
    s = site.services
    case_id = _open(s)
    _to_measures(s, case_id)
    _hand_to_oai(s, case_id)
    case = s.get(case_id)
    assert case.handoff is not None and case.deadline.due_at is not None
    assert case.handoff.due_at != case.deadline.due_at
    answer = (case.handoff.due_at - timedelta(microseconds=1)).astimezone(NE.zone)
    step = (case.deadline.due_at - timedelta(microseconds=1)).astimezone(NE.zone)
    left = re.compile(r"\d+ jours? ouvrables? restants?|dernier jour")
    with closing(signed_in_client(site.base, site.person(P_GIRARD.user, P_GIRARD.institution,
                                                 P_GIRARD.role))) as oai:
        inbox = unescape(oai.get("/dossiers").text)
        handoffs = inbox.split('id="h-transferts"')[1].split("</section>")[0]
        assert answer.strftime("%d.%m.%Y") in handoffs
        assert step.strftime("%d.%m.%Y") not in handoffs
        assert left.search(handoffs)
        page = unescape(oai.get(f"/dossiers/{case_id}").text)
        deadlines = page.split('id="h-delais"')[1].split("</section>")[0]
        assert len(left.findall(deadlines)) == 2, deadlines
    with closing(signed_in_client(site.base, site.person(M_ROBERT.user, M_ROBERT.institution,
                                                 M_ROBERT.role))) as orp:
        inbox = unescape(orp.get("/dossiers").text)
        mine = inbox.split('id="h-dossiers"')[1]
        assert step.strftime("%d.%m.%Y") in mine and left.search(mine)


# -- the history names each action by what it did ------------------------------------------

def test_the_history_names_each_action_by_what_it_did(site: Site) -> None:
    s = site.services
    case_id = _open(s)
    _to_measures(s, case_id)
    s.record_action(case_id, key=f"{case_id}:g", action="gather_files", summary={
        "asked": ["ORP-NE", "OAI-NE", "SSR-NE"], "gathered": ["OAI-NE", "ORP-NE"],
        "missing": {"SSR-NE": "aucun dossier / no file"}})
    s.record_action(case_id, key=f"{case_id}:c", action="convene_assessment", summary={
        "meeting": {"day": "2027-01-12", "time": "09:00", "place": "Neuchâtel"},
        "invited": ["ORP-NE"], "sent": {}})
    s.record_action(case_id, key=f"{case_id}:n", action="notify_institutions",
                    summary={"sent": {}})
    s.record_action(case_id, key=f"{case_id}:r", action="remind_owner", summary={"sent": {}})
    with closing(signed_in_client(site.base, site.person(M_ROBERT.user, M_ROBERT.institution,
                                                         M_ROBERT.role))) as orp:
        page = unescape(orp.get(f"/dossiers/{case_id}").text)
    assert "Action effectuée" not in page
    for said in ("Dossiers rassemblés (2/3)", "Convocation envoyée (table ronde le 12.01.2027",
                 "Notification aux institutions envoyée", "Rappel envoyé"):
        assert said in page, said


# -- Swiss dates and document kinds ---------------------------------------------------------

def test_date_fields_read_swiss_and_documents_name_their_kind_in_words(site: Site) -> None:
    s = site.services
    case_id = _open(s, {**FIELDS, "fin_de_droit": "2027-03-31"})
    _to_measures(s, case_id)
    s.add_document(case_id, Document("cv", "file", "ORP-NE", "situation", "Curriculum vitae",
                                     "application/pdf", b"%PDF-1.4 cv"), actor=M_ROBERT)
    s.record_action(case_id, key=f"{case_id}:c", action="convene_assessment", summary={},
                    documents=[Document("convocation-person", "letter", "person", "identite",
                                        "Convocation", "text/html", b"<p>x</p>")])
    with closing(signed_in_client(site.base, site.person(M_ROBERT.user, M_ROBERT.institution,
                                                         M_ROBERT.role))) as orp:
        page = unescape(orp.get(f"/dossiers/{case_id}").text)
        orp.get("/langue/en")
        english = unescape(orp.get(f"/dossiers/{case_id}").text)
    assert "Fin de droit AC</dt><dd>31.03.2027</dd>" in page and "2027-03-31" not in page
    assert "(dossier, Situation)" in page and "(courrier, Identité)" in page
    assert "(letter," not in page and "(file," not in page
    assert "(file, Situation)" in english and "31.03.2027" in english


# -- choice values read with the route's titles ---------------------------------------------

def test_choice_values_read_with_the_routes_titles_on_the_case_page_and_in_forms(
        site: Site) -> None:
    s = site.services
    case_id = _open(s, {**FIELDS, "signal": "demande_ai_pendante"})
    with closing(signed_in_client(site.base, site.person(M_ROBERT.user, M_ROBERT.institution,
                                                         M_ROBERT.role))) as orp:
        page = unescape(orp.get(f"/dossiers/{case_id}").text)
    assert "Signal de détection</dt><dd>Demande AI pendante</dd>" in page
    assert "demande ai pendante" not in page
    route = s.route("reseau-cii")
    signal = route.fields["signal"]
    assert all(v in signal.value_titles for v in signal.type.values)
    cmfp = s.route("cmfp").fields["statut_sejour"]
    assert cmfp.value_title("refugie", "fr") != "refugie"
    assert all(v in cmfp.value_titles for v in cmfp.type.values)


def test_a_case_manager_reads_the_time_left_and_the_actions_in_words_in_chromium(
        site: Site) -> None:
    s = site.services
    site.person(M_ROBERT.user, M_ROBERT.institution, M_ROBERT.role)
    case_id = _open(s, {**FIELDS, "fin_de_droit": "2027-03-31"})
    s.record_action(case_id, key=f"{case_id}:n", action="notify_institutions",
                    summary={"sent": {}})
    page: Any = site.signed_in("m.robert")
    deadline = page.locator("td", has_text=re.compile(r"jours? ouvrables? restants?"))
    assert deadline.count() >= 1
    page.goto(f"{site.base}/dossiers/{case_id}")
    delais = page.locator("section[aria-labelledby=h-delais]").inner_text()
    assert re.search(r"\d\d\.\d\d\.\d{4} \(\d+ jours? ouvrables? restants?\)", delais)
    body = page.locator("main").inner_text()
    assert "Notification aux institutions envoyée" in body and "31.03.2027" in body
    assert "Signal de détection" in body and "Certificats médicaux répétés" in body
    shoot(page, "case-manager-words-and-time-left")
