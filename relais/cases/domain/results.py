"""What the orchestrated actions bring back to a case, and files an institution adds itself.

An action's result is one ``action_done`` event: a summary, the documents it attached (files
gathered, letters, messages: by name and digest; the content is stored beside the event) and
the tasks it left (a file nobody could fetch becomes work for that institution). Neither kind
changes the case's state or lead: they are its record of work done around the route.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from .actors import Actor
from .case import CaseState
from .context import Context, draft
from .errors import MissingInput, NotAllowed
from .events import Event
from .payloads import ActionDone, ContactChanged, DocumentAdded

DOCUMENT_KINDS = ("file", "letter", "message")
TASK_PROVIDE_FILE = "provide_file"


@dataclass(frozen=True)
class Document:
    name: str  # unique within the action: "file-OAI-NE", "convocation-person"...
    kind: str  # file | letter | message
    institution: str  # where a file comes from; where a letter or message goes
    category: str  # data category (conventions.data_sharing.CATEGORIES): who may see it
    title: str
    media_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    def reference(self) -> dict[str, str]:
        """What the event records of it: enough to check the stored content."""
        return {"name": self.name, "kind": self.kind, "institution": self.institution,
                "category": self.category, "title": self.title, "sha256": self.sha256}


@dataclass(frozen=True)
class Task:
    institution: str
    kind: str
    title: str

    def as_dict(self) -> dict[str, str]:
        return {"institution": self.institution, "kind": self.kind, "title": self.title}


def action_done(ctx: Context, case: CaseState, actor: Actor, *, key: str, action: str,
                summary: dict[str, Any], documents: list[Document],
                tasks: list[Task]) -> list[Event]:
    """Record what an action did. Allowed on a closed case: a closing letter comes after."""
    names = [d.name for d in documents]
    if len(set(names)) != len(names):
        raise MissingInput("deux documents du même nom / two documents with one name")
    return [draft(ctx, case.id, "action_done", actor, data=ActionDone(
        key=key, action=action, summary=summary,
        documents=[d.reference() for d in documents],
        tasks=[t.as_dict() for t in tasks]))]


def document_added(ctx: Context, case: CaseState, actor: Actor, document: Document,
                   takes_part: bool) -> list[Event]:
    """An institution's own file, e.g. the one the gathering could not fetch: it closes that
    institution's open ``provide_file`` tasks on the case."""
    if not (takes_part or actor.is_coordination):
        raise NotAllowed("votre institution ne participe pas à ce cas / your institution does "
                         "not take part in this case")
    if document.kind != "file" or document.institution != actor.institution:
        raise NotAllowed("un dossier est déposé par l'institution qui le détient / a file is "
                         "added by the institution that holds it")
    return [draft(ctx, case.id, "document_added", actor,
                  data=DocumentAdded(document=document.reference()))]


def contact_changed(ctx: Context, case: CaseState, actor: Actor, contact: dict[str, Any],
                    reason: str | None) -> list[Event]:
    """The lead records a new way to reach the person, with why: never a silent overwrite."""
    if actor.institution != case.lead or actor.is_system:
        raise NotAllowed("seule l'institution responsable change le contact du cas / only the "
                         "lead changes the case's contact")
    if not (reason or "").strip():
        raise MissingInput("un motif est requis / a reason is required", field="reason")
    return [draft(ctx, case.id, "contact_changed", actor, from_state=case.state,
                  to_state=case.state, reason=reason, data=ContactChanged(contact=contact))]
