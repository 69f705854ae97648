"""The pure parts of notes and files: a gathered record in words, and an upload taken for
what its first bytes say."""

from __future__ import annotations

import json

import pytest

from relais.api.pages.file_reading import label, readable, value_text
from relais.api.upload_checks import Refused, checked_upload
from relais.cases.domain.errors import MissingInput
from relais.cases.domain.notes import NOTE_MAX_CHARS, checked_note
from relais.i18n import localize


@pytest.mark.parametrize(("key", "said"), [
    ("inscription_orp", "Inscription ORP"), ("gain_assure_chf", "Gain assuré (CHF)"),
    ("incapacite_travail_pct", "Incapacité de travail (%)"),
    ("delai_cadre_jours", "Délai-cadre (jours)"), ("stages", "Stages"),
    ("dettes_annoncees", "Dettes annoncées"), ("chf", "CHF")])
def test_keys_read_as_words(key: str, said: str) -> None:
    assert label(key) == said


@pytest.mark.parametrize(("value", "said"), [
    (True, "oui"), (False, "non"), (None, "—"), ("", "—"), (1031, "1\u2019031"),
    ("2025-03-17", "17.03.2025"), ("2025-02-30", "2025-02-30"), ("à examiner", "à examiner"),
    ("2025-03-17T09:30:00+00:00", "17.03.2025 09:30")])
def test_values_read_the_swiss_way(value: object, said: str) -> None:
    assert value_text(value) == said


def test_a_record_becomes_rows_and_sections_and_anything_else_is_not_read() -> None:
    body = json.dumps({"aide_depuis": "2024-01-05", "mesures": ["a", "b"],
                       "enfants": [{"prenom": "Léa"}, {"prenom": "Tom"}],
                       "budget": {"loyer_chf": 1200}}).encode()
    shown = readable("application/json; charset=utf-8", body)
    assert shown is not None
    assert shown.rows == [("Aide depuis", "05.01.2024"), ("Mesures", ["a", "b"])]
    assert [(s.title, s.rows) for s in shown.sections] == [
        ("Enfants 1", [("Prénom", "Léa")]), ("Enfants 2", [("Prénom", "Tom")]),
        ("Budget", [("Loyer (CHF)", "1\u2019200")])]
    assert readable("application/pdf", b"%PDF-1.4") is None
    assert readable("application/json", b"{not json") is None
    assert readable("application/json", b"42") is None


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
ODT = (b"PK\x03\x04" + b"\x00" * 26 + b"mimetype" + b"application/vnd.oasis.opendocument.text"
       + b"\x00" * 8)


@pytest.mark.parametrize(("content", "declared", "kept"), [
    (b"%PDF-1.7 x", "application/octet-stream", "application/pdf"),
    (PNG, "application/pdf", "image/png"), (b"\xff\xd8\xff\xe0 jfif", "", "image/jpeg"),
    (ODT, "", "application/vnd.oasis.opendocument.text"),
    (b"PK\x03\x04 word/",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("nom;né le\nMuster;1978".encode(), "text/csv", "text/csv"),
    (b"Budget: 1031 CHF\n", "text/plain", "text/plain")])
def test_an_upload_is_kept_as_what_its_first_bytes_say(content: bytes, declared: str,
                                                       kept: str) -> None:
    assert checked_upload(content, declared, 1024) == kept


@pytest.mark.parametrize(("content", "declared", "why"), [
    (b"", "application/pdf", "vide"), (b"%PDF-" + b"0" * 1100, "application/pdf", "dépasse"),
    (b"<html><script>x</script>", "application/pdf", "pas accepté"),
    (b"<html><script>x</script>", "text/html", "pas accepté"),
    (b"PK\x03\x04 zip", "application/zip", "pas accepté"),
    (b"MZ\x90\x00 exe", "text/plain", "pas accepté"),
    (b"\xff\xfe\x00 not utf-8", "text/plain", "pas accepté")])
def test_an_upload_is_refused_with_its_reason(content: bytes, declared: str, why: str) -> None:
    with pytest.raises(Refused) as refused:
        checked_upload(content, declared, 1024)
    assert why in localize(refused.value.said, "fr")
    assert localize(refused.value.said, "de") != localize(refused.value.said, "fr")


def test_a_note_is_trimmed_and_refused_empty_too_long_or_of_no_known_category() -> None:
    assert checked_note("  vu ce jour \n", "medical") == "vu ce jour"
    assert checked_note("x" * NOTE_MAX_CHARS, "situation") == "x" * NOTE_MAX_CHARS
    for text, category, field in (("", "situation", "text"), (" \n\t", "situation", "text"),
                                  ("x" * (NOTE_MAX_CHARS + 1), "situation", "text"),
                                  ("x", "Situation", "category")):
        with pytest.raises(MissingInput) as refused:
            checked_note(text, category)
        assert refused.value.details["field"] == field
