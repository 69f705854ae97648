"""Notes, uploads and gathered files on the case page (issue 13): a case manager writes a
note and uploads a PDF from the page, opens a gathered file as a page in words; a case
manager of another ORP (same kind, not taking part) reads none of it. Uploads are checked
by their first bytes and their size before anything is kept."""

from __future__ import annotations

import json
import re
from contextlib import closing
from html import unescape
from pathlib import Path
from typing import Any

import httpx

from relais.cases.domain.actors import Actor
from relais.cases.domain.results import Document
from relais.cases.services import CaseServices
from relais.institutions.registry import Kind, Role
from tests.browser import PHONE, Site, csrf_of, shoot, signed_in_client
from tests.conftest import PERSON, refer

M_ROBERT = Actor("m.robert", "ORP-NE", Kind.AC, Role.case_manager)
L_JACOT = Actor("l.jacot", "ORP-LCF", Kind.AC, Role.case_manager)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
GATHERED = {"institution": "ORP-NE", "avs": "756.1234.5678.97",
            "inscription_orp": "2025-03-17", "delai_cadre_jours": 520,
            "gain_assure_chf": 5450, "mesures_mmt": ["cours de langue", "stage professionnel"],
            "aptitude_au_placement": "admise", "demande_deposee": True,
            "dettes_annoncees": False, "conseiller": {"nom": "Robert", "telephone": None}}


def _client(site: Site, who: Actor) -> httpx.Client:
    return signed_in_client(site.base, site.person(who.user, who.institution, who.role))


def _case_with_gathered_file(s: CaseServices) -> tuple[str, int]:
    """A referred case and the file the gathering brought back from ORP-NE's system."""
    case_id = refer(s, route="reseau-cii", person=PERSON, actor=M_ROBERT,
                    fields={"age": 48}, reason="certificats").case.id
    s.record_action(case_id, key=f"{case_id}:1:gather_files", action="gather_files",
                    summary={}, documents=[Document(
                        "dossier-ORP-NE-1", "file", "ORP-NE", "situation",
                        "Dossier AC : inscription et droit aux indemnités", "application/json",
                        json.dumps(GATHERED, ensure_ascii=False).encode())])
    with s.units(write=False) as uow:
        (doc,) = uow.documents.of_case(case_id)
    return case_id, doc.id


def _documents(s: CaseServices, case_id: str) -> list[tuple[str, str, int]]:
    with s.units(write=False) as uow:
        return [(d.title, d.media_type, d.size) for d in uow.documents.of_case(case_id)]


def _upload(c: httpx.Client, case_id: str, name: str, content: bytes, declared: str,
            title: str = "", category: str = "situation") -> httpx.Response:
    csrf = csrf_of(c.get(f"/dossiers/{case_id}").text)
    return c.post(f"/dossiers/{case_id}/documents/depot",
                  data={"csrf": csrf, "titre": title, "categorie": category},
                  files={"fichier": (name, content, declared)})


def test_a_case_manager_adds_a_note_uploads_a_pdf_and_reads_a_gathered_file(
        site: Site) -> None:
    s = site.services
    case_id, gathered = _case_with_gathered_file(s)
    page: Any = site.signed_in(site.person("m.robert", "ORP-NE"))
    page.goto(f"/dossiers/{case_id}")
    page.get_by_label("Texte de la note").fill("Entretien du jour : motivé, cherche un stage.")
    page.get_by_label("Ce que la note contient").select_option(label="Santé (données "
                                                                     "médicales)")
    page.get_by_role("button", name="Ajouter la note").click()
    page.wait_for_load_state()
    assert "La note est ajoutée à l'historique." in page.content()
    entry = page.locator("ol.timeline li").first.inner_text()
    assert "Note · Santé (données médicales)" in entry
    assert "Entretien du jour : motivé, cherche un stage." in entry and "m.robert" in entry
    shoot(page, "notes-case-note")

    page.get_by_label("Fichier", exact=False).first.set_input_files(
        {"name": "certificat.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.get_by_label("Titre").fill("Certificat de travail")
    page.locator("#depot-categorie").select_option("situation")
    page.get_by_role("button", name="Déposer", exact=True).click()
    page.wait_for_load_state()
    assert "Le document est déposé au dossier." in page.content()
    row = page.locator("#documents tbody tr", has_text="Certificat de travail")
    assert "ORP-NE" in row.inner_text()
    with page.expect_download() as got:
        row.get_by_role("link", name=re.compile("Télécharger")).click()
    downloaded = got.value
    assert downloaded.suggested_filename.endswith(".pdf")
    assert Path(downloaded.path()).read_bytes() == PDF
    shoot(page, "notes-case-upload")

    page.locator("#documents").get_by_role(
        "link", name="Dossier AC : inscription et droit aux indemnités", exact=True).click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/dossiers/{case_id}/documents/{gathered}")
    text = page.locator("main").inner_text()
    for said in ("Provenance", "ORP-NE — ", "Inscription ORP", "17.03.2025",
                 "Délai-cadre (jours)", "Gain assuré (CHF)", "5\u2019450", "cours de langue",
                 "Demande déposée", "oui", "Dettes annoncées", "non", "Conseiller"):
        assert said in text, said
    assert "inscription_orp" not in text and "true" not in text and "{" not in text
    assert "dossier propre de l'institution" in text  # the basis in words, not « propre »
    shoot(page, "notes-gathered-file")
    page.set_viewport_size(PHONE)  # a phone: the record's labels go above their values
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, "notes-gathered-file-phone")
    page.context.close()

    # another ORP's case manager: not taking part, nothing of it, as if it did not exist
    theirs: Any = site.signed_in(site.person("l.jacot", "ORP-LCF"))
    for path in (f"/dossiers/{case_id}", f"/dossiers/{case_id}/documents/{gathered}"):
        answer = theirs.goto(path)
        assert answer.status == 404, path
        assert "Entretien du jour" not in theirs.content()
        assert "Inscription ORP" not in theirs.content()
    theirs.context.close()
    with closing(_client(site, L_JACOT)) as other:
        for path in (f"/dossiers/{case_id}", f"/dossiers/{case_id}/documents/{gathered}",
                     f"/dossiers/{case_id}/documents/{gathered}/fichier"):
            assert other.get(path).status_code == 404, path
        csrf = csrf_of(other.get("/dossiers").text)
        assert other.post(f"/dossiers/{case_id}/notes", data={
            "csrf": csrf, "note": "x", "categorie": "situation"}).status_code == 404
        assert other.post(f"/dossiers/{case_id}/documents/depot",
                          data={"csrf": csrf, "categorie": "situation"},
                          files={"fichier": ("a.pdf", PDF, "application/pdf")}
                          ).status_code == 404
    assert [t for t, _, _ in _documents(s, case_id)] == [
        "Dossier AC : inscription et droit aux indemnités", "Certificat de travail"]


def test_a_refused_upload_says_why_beside_the_field_and_keeps_nothing(site: Site) -> None:
    s = site.services
    case_id, _ = _case_with_gathered_file(s)
    with closing(_client(site, M_ROBERT)) as c:
        before = _documents(s, case_id)
        for name, content, declared in (
                ("page.pdf", b"<!doctype html><script>alert(1)</script>", "application/pdf"),
                ("vide.pdf", b"", "application/pdf"),
                ("script.txt", b"#!/bin/sh\x00\x01", "text/plain"),
                ("image.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
                ("gros.pdf", b"%PDF-1.4" + b"0" * (10 * 1024 * 1024), "application/pdf")):
            refused = _upload(c, case_id, name, content, declared)
            assert refused.status_code == 422, (name, refused.status_code)
            html = unescape(refused.text)
            error = re.search(r'id="depot-fichier-error"[^>]*>([^<]+)<', html)
            assert error, name
            assert ("dépasse 10 Mo" if name == "gros.pdf" else "vide" if name == "vide.pdf"
                    else "n'est pas accepté") in error.group(1), (name, error.group(1))
            assert 'aria-invalid="true"' in html
        assert _documents(s, case_id) == before
        # far larger than the limit: refused at the door, before the body is read
        huge = _upload(c, case_id, "huge.pdf", b"%PDF-" + b"0" * (11 * 1024 * 1024),
                       "application/pdf")
        assert huge.status_code == 413
        # taken for what its first bytes say: a PNG declared as a PDF is kept as a PNG
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
        assert _upload(c, case_id, "scan.pdf", png, "application/pdf",
                       title="Scan").status_code == 303
        assert _documents(s, case_id)[-1] == ("Scan", "image/png", len(png))
        # without a title: the file's name
        assert _upload(c, case_id, "Attestation employeur.pdf", PDF, "application/pdf"
                       ).status_code == 303
        assert _documents(s, case_id)[-1][0] == "Attestation employeur.pdf"
        # a note without text: the reason under the field, what was typed kept
        csrf = csrf_of(c.get(f"/dossiers/{case_id}").text)
        empty = c.post(f"/dossiers/{case_id}/notes", data={"csrf": csrf, "note": "  ",
                                                           "categorie": "medical"})
        assert empty.status_code == 422
        assert re.search(r'id="note-texte-error">la note est vide<', unescape(empty.text)), \
            unescape(empty.text).split('id="note"')[1][:1500]
        assert '<option value="medical" selected>' in empty.text  # what was chosen, kept
        assert c.post(f"/dossiers/{case_id}/notes", data={
            "note": "sans jeton", "categorie": "situation"}).status_code == 403


def test_a_gathered_file_is_read_through_the_policy_and_its_json_stays(site: Site) -> None:
    s = site.services
    case_id, gathered = _case_with_gathered_file(s)
    with closing(_client(site, M_ROBERT)) as c:
        shown = c.get(f"/dossiers/{case_id}/documents/{gathered}")
        assert shown.status_code == 200 and shown.headers["content-type"].startswith(
            "text/html")
        raw = c.get(f"/dossiers/{case_id}/documents/{gathered}/fichier")
        assert raw.status_code == 200 and raw.json() == GATHERED
        assert raw.headers["content-disposition"].startswith("attachment;")
    with s.units(write=False) as uow:
        _, rows = uow.reads.of_case(case_id, 50)
    assert sum(1 for r in rows if r["what"] == "document") == 2


def test_only_the_upload_route_takes_a_large_binary_body(site: Site) -> None:
    """The body guard's exception is that one route's: elsewhere a multipart body is still
    held to the 1 MB limit and refused with a NUL byte."""
    s = site.services
    case_id, _ = _case_with_gathered_file(s)
    with closing(_client(site, M_ROBERT)) as c:
        csrf = csrf_of(c.get(f"/dossiers/{case_id}").text)
        files = {"fichier": ("a.pdf", PDF + b"\x00", "application/pdf")}
        nul = c.post(f"/dossiers/{case_id}/notes", data={"csrf": csrf, "note": "x",
                                                          "categorie": "situation"},
                     files=files)
        assert nul.status_code == 422
        big = c.post(f"/dossiers/{case_id}/notes", data={"csrf": csrf, "note": "x",
                                                          "categorie": "situation"},
                     files={"fichier": ("a.pdf", PDF + b"0" * 2 * 1024 * 1024,
                                        "application/pdf")})
        assert big.status_code == 413
        two_mb = _upload(c, case_id, "rapport.pdf", PDF + b"\x00" * 2 * 1024 * 1024,
                         "application/pdf", title="Rapport")
        assert two_mb.status_code == 303
    assert _documents(s, case_id)[-1] == ("Rapport", "application/pdf",
                                          len(PDF) + 2 * 1024 * 1024)


def test_a_partner_reads_a_note_of_its_category_and_only_that_another_exists(
        site: Site) -> None:
    s = site.services
    case_id, _ = _case_with_gathered_file(s)
    s.add_note(case_id, "Cherche un stage en logistique", "situation", actor=M_ROBERT)
    s.add_note(case_id, "Suivi psychiatrique annoncé", "medical", actor=M_ROBERT)
    s.fire(case_id, "transmettre", actor=M_ROBERT)
    s.fire(case_id, "retenir", actor=Actor("c.perrin", "CII-NE", Kind.CII, Role.coordinator))
    with closing(_client(site, Actor("p.girard", "OAI-NE", Kind.AI, Role.case_manager))) as c:
        page = c.get(f"/dossiers/{case_id}")
    assert page.status_code == 200
    timeline = unescape(page.text).split('id="historique"', 1)[1].split("</section>", 1)[0]
    assert "Cherche un stage en logistique" in timeline
    assert "Suivi psychiatrique" not in unescape(page.text)
    assert "Note · Santé (données médicales)" in timeline
    assert timeline.count("Texte non communiqué") == 1
