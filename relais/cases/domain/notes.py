"""A note on a case: what a case manager or the coordination writes down for the network.

A note is recorded work around the route, like a document: it changes neither the state, the
lead nor the deadline. Its data category says who may read its text (``access.CaseView``):
a reader without that category learns that a note exists, who wrote it and when, not what
it says.
"""

from __future__ import annotations

from relais.conventions.data_sharing import CATEGORIES
from relais.i18n import bi

from .actors import Actor
from .case import CaseState
from .context import Context, draft
from .errors import MissingInput, NotAllowed
from .events import Event
from .payloads import NoteAdded

NOTE_MAX_CHARS = 4000  # a page of text: longer belongs in a document


def checked_note(text: str, category: str) -> str:
    """The note's text, trimmed; MissingInput when it is empty, too long or its category
    is not one the conventions know."""
    if category not in CATEGORIES:
        raise MissingInput(f"catégorie inconnue : {category} / unknown category",
                           field="category")
    trimmed = text.strip()
    if not trimmed:
        raise MissingInput("la note est vide / the note is empty", field="text")
    if len(trimmed) > NOTE_MAX_CHARS:
        raise MissingInput(bi("la note dépasse %(n)s caractères",
                              "the note is longer than %(n)s characters", n=NOTE_MAX_CHARS),
                           field="text")
    return trimmed


def note_added(ctx: Context, case: CaseState, actor: Actor, text: str, category: str,
               takes_part: bool) -> list[Event]:
    """A note by an institution taking part, or by the coordination; allowed on a closed
    case (what happened after is worth writing down too)."""
    if actor.is_system or not (takes_part or actor.is_coordination):
        raise NotAllowed("votre institution ne participe pas à ce cas / your institution does "
                         "not take part in this case")
    return [draft(ctx, case.id, "note_added", actor, data=NoteAdded(
        text=checked_note(text, category), category=category))]
