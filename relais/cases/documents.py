"""Reading a case's documents and the institutions' tasks, as the caller may see them.

A document's holder is the institution it comes from (a gathered file) or, for letters and
messages, the case's lead. The caller sees it when it is its own institution's, or on the
legal basis the conventions give for its data category (LACI 85f, LAI 68bis, consent).
"""

from __future__ import annotations

from dataclasses import dataclass

from relais.conventions.data_sharing import OWN, legal_basis

from .domain.actors import Actor
from .domain.case import CaseState
from .queries import CaseQueries
from .sharing import Sharing
from .store.documents import DocumentInfo, TaskInfo
from .store.uow import UnitOfWork


@dataclass(frozen=True)
class Shown:
    document: DocumentInfo
    basis: str


class CaseDocuments:
    def __init__(self, queries: CaseQueries, sharing: Sharing) -> None:
        self.q, self.sharing = queries, sharing

    def _basis(self, actor: Actor, case: CaseState, d: DocumentInfo,
               consents: list[object]) -> str | None:
        reg = self.q.s.registry
        holder = d.institution if d.kind == "file" and d.institution in reg else case.lead
        if actor.institution == holder:
            return OWN
        return legal_basis(reg.get(actor.institution), reg.get(holder), d.category,
                           consents, self.q.s.today())  # type: ignore[arg-type]

    def visible(self, actor: Actor, case: CaseState, within: UnitOfWork | None = None
                ) -> tuple[list[Shown], int]:
        """The documents ``actor`` may see, and how many are withheld."""
        with self.q.s.units(write=False, within=within) as uow:
            every = uow.documents.of_case(case.id)
            consents: list[object] = [c for c, _ in uow.consents.of_case(case.id)]
        shown = []
        for d in every:
            basis = self._basis(actor, case, d, consents)
            if basis is not None:
                shown.append(Shown(d, basis))
        return shown, len(every) - len(shown)

    def content(self, actor: Actor, case: CaseState, document_id: int,
                within: UnitOfWork | None = None) -> tuple[DocumentInfo, bytes] | None:
        """The document's bytes if ``actor`` may see it (a read, logged in the same unit);
        None otherwise."""
        found = self.shown_content(actor, case, document_id, within)
        return (found[0].document, found[1]) if found is not None else None

    def shown_content(self, actor: Actor, case: CaseState, document_id: int,
                      within: UnitOfWork | None = None) -> tuple[Shown, bytes] | None:
        """As ``content``, with the legal basis it is shown on (a file's reading page)."""
        with self.q.s.units(within=within) as uow:
            shown = next((s for s in self.visible(actor, case, uow)[0]
                          if s.document.id == document_id), None)
            if shown is None:
                return None
            found = uow.documents.content(case.id, document_id)
            if found is None:
                return None
            self.q.log_read(actor, case.id, "document", uow)
        return shown, found[1]

    def tasks(self, actor: Actor, *, status: str | None = "open",
              within: UnitOfWork | None = None) -> list[TaskInfo]:
        """The caller's institution's tasks; the coordination's: every institution's."""
        with self.q.s.units(write=False, within=within) as uow:
            return uow.documents.tasks(
                institution=None if actor.is_coordination else actor.institution, status=status)
