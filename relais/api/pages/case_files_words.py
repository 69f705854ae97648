"""What the case page says of notes and documents: the note's line on the timeline, the
forms' names and choices, and a gathered file's reading page (``file_reading``)."""

from __future__ import annotations

from typing import Any

from relais.api.errors import bilingual
from relais.api.reporting.labels import words
from relais.cases.documents import Shown
from relais.cases.domain.events import Event
from relais.cases.domain.notes import NOTE_MAX_CHARS
from relais.i18n import tr
from relais.institutions.registry import Registry

from ..downloads import served_type
from .case_events import Line
from .file_reading import readable
from .render import title_in

NOTE_TEXT, NOTE_CATEGORY = "note", "categorie"
UPLOAD_FILE, UPLOAD_TITLE = "fichier", "titre"
# a note's or a file's category, in words (the codes are the conventions')
CATEGORY_WORDS = {"situation": ("Situation (parcours, emploi, démarches)",
                                "Situation (course, work, steps)"),
                  "identite": ("Identité et contact", "Identity and contact"),
                  "medical": ("Santé (données médicales)", "Health (medical data)"),
                  "aide_sociale": ("Aide sociale (budget, prestations)",
                                   "Social assistance (budget, benefits)")}
# what the page shows before anything was posted (``case_view.show``'s extras)
FORM_DEFAULTS: dict[str, Any] = {"note_error": ("", ""), "note_posted": {},
                                 "upload_error": ("", ""), "upload_posted": {}}


def basis_words(lang: str, basis: str) -> str:
    """A legal basis as people read it, from the catalogue in every language (French too:
    the stored "propre / own file" reads « dossier propre de l'institution »)."""
    return tr(lang, bilingual(basis)[1])


def form_context(lang: str) -> dict[str, Any]:
    return {"note_categories": [(k, words(lang, *v)) for k, v in CATEGORY_WORDS.items()],
            "note_max": NOTE_MAX_CHARS}


def note_line(e: Event, lang: str) -> Line:
    """A note on the timeline: named as a note with its category; its text, or that it is
    not disclosed to this reader (``CaseView._note`` has already decided)."""
    category = str(e.data.get("category", ""))
    said = words(lang, *CATEGORY_WORDS.get(category, (category, category)))
    text = e.data.get("text")
    return Line(e.at, e.actor, e.institution, tr(lang, "Note") + f" · {said}",
                note=str(text) if text is not None else "",
                note_withheld=text is None)


def document_page(registry: Registry, shown: Shown, content: bytes,
                  lang: str) -> dict[str, Any] | None:
    """The reading page's context for a gathered record; None for a file to download."""
    d = shown.document
    body = readable(d.media_type, content)
    if body is None:
        return None
    source = registry.get(d.institution) if d.institution in registry else None
    return {"document": d, "basis": basis_words(lang, shown.basis), "body": body,
            "source": f"{d.institution} — {title_in(lang, source.name)}" if source
            else d.institution,
            "category_said": words(lang, *CATEGORY_WORDS.get(d.category,
                                                             (d.category, d.category))),
            "download_type": served_type(d.media_type)}

