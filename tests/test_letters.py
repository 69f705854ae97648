"""Letters and messages: French first, English after, Swiss dates, the legal line, and a
printable PDF."""

from __future__ import annotations

from datetime import UTC, date, datetime
from html import unescape
from typing import Any

import pytest
from jinja2 import UndefinedError

from relais.cases.letters import (
    LEGAL,
    deadline_end,
    legal_to_institution,
    pdf,
    render,
    salutation,
    swiss_date,
)
from relais.conventions.data_sharing import CONSENT
from relais.institutions.registry import default_registry
from tests.domain_helpers import route
from tests.pdf_text import pdf_lines


def institution(code: str) -> dict[str, Any]:
    i = default_registry().get(code)
    return {"name": dict(i.name), "city": i.city, "address": i.address}


def convocation(**overrides: Any) -> dict[str, Any]:
    r = route("reseau-cii")
    context = {
        "lang": "fr", "title": "Convocation", "sender": institution("CII-NE"),
        "today": date(2026, 2, 2), "salutation": salutation("1"),
        "route": {"title": dict(r.title)},
        "meeting": {"day": date(2026, 2, 12), "time": "14:00",
                    "place": "Rue du Musée 1, Neuchâtel"},
        "partners": [institution(c) for c in ("ORP-NE", "OAI-NE", "SSR-LCF")],
        "answer_by": date(2026, 2, 9), "manager": "C. Perrin", "case_ref": "2026-0042",
        "legal": LEGAL["LACI art. 85f"],
        "recipient": {"name": "Daniel Rochat", "lines": ["Rue des Parcs 12", "2000 Neuchâtel"]},
    }
    return {**context, **overrides}


def test_the_convocation_is_in_french_by_default_with_swiss_dates_and_the_legal_line() -> None:
    html = unescape(render("letters/convocation.html", convocation()))
    assert "Monsieur," in html and "Dear Sir" not in html  # one language a letter
    assert "jeudi 12.02.2026 à 14:00" in html and "le 02.02.2026" in html
    assert "Office de l'assurance-invalidité du canton de Neuchâtel" in html
    assert "art. 85f LACI" in html and "Dossier 2026-0042" in html


@pytest.mark.parametrize(("lang", "said"), [
    ("de", ["Sehr geehrter Herr,", "Donnerstag 12.02.2026 um 14:00 Uhr",
            "Einladung zu einem Rundtischgespräch", "Art. 85f AVIG", "Fall 2026-0042",
            "vor dem 09.02.2026 an"]),
    ("it", ["Egregio Signore,", "giovedì 12.02.2026 alle 14:00",
            "Convocazione a una tavola rotonda", "art. 85f LADI", "Caso 2026-0042",
            "prima del 09.02.2026"]),
    ("en", ["Dear Sir,", "Thursday 12.02.2026 at 14:00", "Invitation to a round table",
            "art. 85f LACI", "Case 2026-0042"]),
])
def test_the_convocation_is_written_in_the_recipients_language(lang: str,
                                                              said: list[str]) -> None:
    html = unescape(render("letters/convocation.html", convocation(lang=lang)))
    assert all(s in html for s in said), [s for s in said if s not in html]
    assert "Monsieur" not in html and f'<html lang="{lang}">' in html


def test_what_people_typed_is_escaped_in_html() -> None:
    html = render("letters/convocation.html", convocation(manager="<script>x</script>"))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_missing_value_is_an_error_not_a_blank_in_a_letter() -> None:
    context = convocation()
    del context["meeting"]
    with pytest.raises(UndefinedError):
        render("letters/convocation.html", context)


def test_the_letter_prints_as_pdf() -> None:
    html = render("letters/convocation.html", convocation())
    document = pdf(html, "Convocation — œuvre")
    assert document.startswith(b"%PDF") and len(document) > 1500


# what a notice to an institution says besides (orchestration.facts)
NOTICE = {"happened": {"fr": "signalé par ORP", "en": "referred by ORP"},
          "todo": {"fr": "Aucune action n'est attendue de votre part.",
                   "en": "No action is expected from you."},
          "situation": None}


@pytest.mark.parametrize(("name", "fr", "en"), [
    ("notify_person", "votre dossier", "your file"),
    ("notify_institutions", "échéance 30.03.2026", "deadline 30.03.2026"),
    ("remind_owner", "Rappel", "Reminder"),
    ("alert_coordination", "Escalade", "Escalation"),
    ("notify_receiver", "Merci d'accepter", "Please accept"),
    ("notify_sender", "a été refusée", "was refused"),
])
def test_every_message_renders_in_french_then_english(name: str, fr: str, en: str) -> None:
    r = route("reseau-cii")
    text = render(f"messages/{name}.txt", {
        "salutation": salutation(None), "route": {"title": dict(r.title)},
        "state": {"title": dict(r.states["plan"].title)}, "today": date(2026, 3, 2),
        "institution": institution("OAI-NE"), "deadline": datetime(2026, 3, 30, 22, tzinfo=UTC),
        "due": datetime(2026, 3, 9, 23, tzinfo=UTC), "case_ref": "2026-0042",
        "reason": "délai échu", "legal": LEGAL["LAI art. 68bis"], **NOTICE})
    assert fr in text and en in text and text.index(fr) < text.index(en)


@pytest.mark.parametrize(("name", "en"), [
    ("notify_person", "your file"), ("notify_institutions", "Case 2026"),
    ("remind_owner", "Reminder"), ("alert_coordination", "Escalation"),
    ("notify_receiver", "proposes to hand")])
def test_a_route_titled_in_french_only_still_gets_its_messages(name: str, en: str) -> None:
    # the route format requires French and leaves the other languages optional: the English
    # half of a message then repeats the French title instead of failing the action
    text = render(f"messages/{name}.txt", {
        "salutation": salutation(None), "route": {"title": {"fr": "Parcours « Léa »"}},
        "state": {"title": {"fr": "Étape unique"}}, "today": date(2026, 3, 2),
        "institution": institution("OAI-NE"), "deadline": datetime(2026, 3, 30, 22, tzinfo=UTC),
        "due": datetime(2026, 3, 9, 23, tzinfo=UTC), "case_ref": "2026-0042",
        "reason": "délai échu", "legal": LEGAL["LAI art. 68bis"], **NOTICE})
    english = next(line for line in text.splitlines() if en in line)
    assert "Étape unique" in english or "Parcours « Léa »" in english, text


def test_a_deadline_reads_as_its_last_day() -> None:
    # ends at midnight at the end of Monday 30 March (22:00 UTC in summer time)
    assert deadline_end(datetime(2026, 3, 30, 22, tzinfo=UTC)) == "30.03.2026"
    assert swiss_date(date(2026, 8, 1)) == "01.08.2026"


# -- letters by recipient (issue 12, finding 7) -------------------------------------------

WINDOW_X_MM = (110.0, 125.0)  # a Swiss right-window envelope: the address from ~118 mm
WINDOW_TOP_MM = (40.0, 95.0)  # and ~50 mm from the top


def in_window(document: bytes) -> list[str]:
    return [line.text for line in pdf_lines(document)
            if WINDOW_X_MM[0] <= line.x_mm <= WINDOW_X_MM[1]
            and WINDOW_TOP_MM[0] <= line.top_mm <= WINDOW_TOP_MM[1]]


def test_the_persons_letter_shows_name_and_address_in_the_envelope_window() -> None:
    document = pdf(render("letters/convocation.html", convocation()), "Convocation")
    assert in_window(document) == ["Daniel Rochat", "Rue des Parcs 12", "2000 Neuchâtel"]
    # the sender stays top left, out of the window; the letter itself follows below it
    sender = next(line for line in pdf_lines(document) if "Coordination CII" in line.text)
    assert sender.x_mm < 40 and sender.top_mm < 40
    greeting = next(line for line in pdf_lines(document) if line.text == "Monsieur,")
    assert greeting.top_mm > 80


def test_a_notice_to_an_institution_tells_it_its_part_not_the_persons() -> None:
    r = route("reseau-cii")
    text = render("messages/notify_institutions.txt", {
        "route": {"title": dict(r.title)}, "state": {"title": dict(r.states["clos"].title)},
        "today": date(2026, 3, 2), "institution": institution("SSR-NE"), "deadline": None,
        "case_ref": "2026-0042", "legal": legal_to_institution({"situation": CONSENT}, True),
        **NOTICE, "situation": {"outcome": dict(r.outcomes["demenagement"]), "reason": "Genève"}})
    assert "vous en êtes informé" not in text and "informs you" not in text
    assert "Issue : Départ du canton. Motif : Genève" in text and "Outcome: Moved away." in text
    assert "Aucune action n'est attendue de votre part." in text
    assert text.rstrip().endswith("which they may revoke at any time.")
    assert legal_to_institution({}, asked=True)["fr"].startswith("Aucune donnée de la personne")
    assert "référence du cas" in legal_to_institution({}, asked=False)["fr"]


# names from the population the services see: Latin Extended, Turkish, Vietnamese, Han
NAMES = ["Đorđević-Šimić", "Şükrü Yıldız", "Nguyễn Thị Ánh", "Tesfaye Ġebre", "李小龙",
         "Čović Œuvray"]


@pytest.mark.parametrize("name", NAMES)
def test_a_letter_prints_every_name_as_written(name: str) -> None:
    """A Unicode font shipped with Relais, embedded in the PDF: no name is refused, none is
    printed as "?" or as its nearest Latin-1 letters."""
    context = convocation(recipient={"name": name, "lines": ["Rue des Parcs 12",
                                                             "2000 Neuchâtel"]})
    document = pdf(render("letters/convocation.html", context), f"Convocation {name}")
    assert in_window(document)[0] == name
    assert b"/FontFile2" in document  # the font travels with the letter
