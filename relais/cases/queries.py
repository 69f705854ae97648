"""The read side: what a user may list and read, and the log of who read which case file.

Nothing here changes a case. Visibility is the domain's rule (``domain.visibility``),
applied to pages of rows read in a stable order (opened_at, id).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .domain.actors import Actor
from .domain.avs import InvalidAVS, normalize_avs
from .domain.case import CaseState
from .domain.errors import MissingInput, NotFound
from .domain.person import Person
from .domain.search import Match, case_number, words
from .domain.visibility import may_see
from .services import CaseServices
from .store.uow import UnitOfWork

PAGE = 200


@dataclass(frozen=True)
class Due:
    case: CaseState
    kind: str
    due_at: datetime


def encode_cursor(case: CaseState) -> str:
    raw = f"{case.opened_at.isoformat()}|{case.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, case_id = raw.split("|", 1)
        return datetime.fromisoformat(at), case_id
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise MissingInput("curseur illisible / unreadable cursor", field="cursor") from None


def _may_find(case: CaseState, match: Match | None,
              knows_person: Callable[[CaseState], bool] | None) -> bool:
    """A case a search found by its number, or by its person where the reader knows
    the person (``knows_person``); any case when there is no search."""
    if match is None or knows_person is None:
        return True
    if match.case_prefix and case.id.startswith(match.case_prefix):
        return True
    return knows_person(case)


class CaseQueries:
    def __init__(self, services: CaseServices) -> None:
        self.s = services

    def visible(self, actor: Actor, case: CaseState, within: UnitOfWork | None = None) -> bool:
        return may_see(actor, case, self.s.route_of(case, within), self.s.registry)

    def case_for(self, actor: Actor, case_id: str, within: UnitOfWork | None = None
                 ) -> CaseState:
        """The case if ``actor`` may know it exists; NotFound otherwise (never 'forbidden')."""
        with self.s.units(write=False, within=within) as uow:
            case = uow.cases.get(case_id)
            if case is None or not self.visible(actor, case, uow):
                raise NotFound("cas introuvable / case not found", case=case_id)
        return case

    def person(self, case: CaseState, within: UnitOfWork | None = None) -> Person:
        """The person of ``case``: the shared identity, and the contact this case holds."""
        with self.s.units(write=False, within=within) as uow:
            return uow.people.of_case(case.person, case.id)

    def log_read(self, actor: Actor, case_id: str, what: str,
                 within: UnitOfWork | None = None) -> None:
        self.log_reads(actor, [case_id], what, within)

    def log_reads(self, actor: Actor, case_ids: list[str], what: str,
                  within: UnitOfWork | None = None) -> None:
        """One read record per listed case (each in the ledger), in one transaction: the
        caller's, when the read it records has one."""
        if not case_ids:
            return
        with self.s.units(within=within) as uow:
            uow.reads.add(case_ids, user=actor.user, institution=actor.institution,
                          at=self.s.clock(), what=what)

    def _rows(self, after: tuple[datetime, str] | None, within: UnitOfWork | None,
              match: Match | None = None, **filters: Any) -> Iterator[CaseState]:
        """Cases in (opened_at, id) order, a page a transaction (``within``: the caller's)."""
        while True:
            with self.s.units(write=False, within=within) as uow:
                rows = uow.cases.page(after, PAGE, match, **filters)
            yield from rows
            if len(rows) < PAGE:
                return
            after = (rows[-1].opened_at, rows[-1].id)

    def match(self, q: str | None = None, avs: str | None = None,
              within: UnitOfWork | None = None) -> Match | None:
        """What a search for ``q`` (names, folded; or the beginning of a case number) and
        ``avs`` (in any written form) looks for; None: no search. Both: the person with
        that AVS number whose names match."""
        if not (q and q.strip()) and not (avs and avs.strip()):
            return None
        number = None
        if avs and avs.strip():
            try:
                number = normalize_avs(avs.strip())
            except InvalidAVS as exc:
                raise MissingInput(str(exc), field="avs") from None
        names = words(q) if q else []
        with self.s.units(write=False, within=within) as uow:
            people = set(uow.people.matching(names)) if names else None
            if number is not None:
                owner = set(uow.people.by_avs(number))
                people = owner if people is None else people & owner
        prefix = case_number(q) if q and number is None else None
        return Match(tuple(sorted(people or ())), prefix)

    def list_cases(self, actor: Actor, *, state: str | None = None, lead: str | None = None,
                   overdue: bool = False, cursor: str | None = None, limit: int = 50,
                   match: Match | None = None,
                   knows_person: Callable[[CaseState], bool] | None = None,
                   within: UnitOfWork | None = None) -> tuple[list[CaseState], str | None]:
        """The cases ``actor`` may see, a page; with ``match``, those it finds, and of the
        ones found by the person (name, AVS number) only those ``knows_person`` accepts: a
        search does not tell who a reader may not see is known."""
        filters = {k: v for k, v in (("state", state), ("lead", lead)) if v}
        now = self.s.clock()
        out: list[CaseState] = []
        for case in self._rows(decode_cursor(cursor) if cursor else None, within, match,
                               **filters):
            if overdue and not (case.is_open and case.deadline.due_at is not None
                                and (case.deadline.due_at <= now or case.escalated)):
                continue
            if self.visible(actor, case) and _may_find(case, match, knows_person):
                if len(out) == limit:
                    return out, encode_cursor(out[-1])
                out.append(case)
        return out, None

    def open_cases(self, actor: Actor, *, route: str | None = None, state: str | None = None,
                   limit: int = 500, match: Match | None = None,
                   knows_person: Callable[[CaseState], bool] | None = None,
                   within: UnitOfWork | None = None) -> list[CaseState]:
        """The open cases ``actor`` may see (an inbox), oldest first; closed ones are left
        out by the query itself (``closed_at IS NULL``), not read and dropped. ``match``,
        ``knows_person``: a search, as for ``list_cases``."""
        filters: dict[str, Any] = {"closed_at": None}
        filters.update({k: v for k, v in (("route_id", route), ("state", state)) if v})
        out: list[CaseState] = []
        for case in self._rows(None, within, match, **filters):
            if self.visible(actor, case) and _may_find(case, match, knows_person):
                out.append(case)
                if len(out) == limit:
                    break
        return out

    def escalated(self, actor: Actor, limit: int = 200,
                  within: UnitOfWork | None = None) -> list[CaseState]:
        """Open cases escalated to the coordination that ``actor`` may see, oldest first."""
        with self.s.units(write=False, within=within) as uow:
            found = uow.cases.escalated(limit)
        return [c for c in found if self.visible(actor, c)]

    def revolving(self, actor: Actor, limit: int = 200,
                  within: UnitOfWork | None = None) -> list[CaseState]:
        """Cases flagged as revolving door that ``actor`` may see, oldest first."""
        with self.s.units(write=False, within=within) as uow:
            found = uow.cases.revolving(limit)
        return [c for c in found if self.visible(actor, c)]

    def deadlines(self, actor: Actor, before: datetime, limit: int = 200,
                  within: UnitOfWork | None = None) -> list[Due]:
        """The open deadlines due before ``before`` of cases ``actor`` may see, soonest
        first."""
        out: list[Due] = []
        with self.s.units(write=False, within=within) as uow:
            for case, kind, due_at in uow.cases.open_deadlines_before(before):
                if self.visible(actor, case):
                    out.append(Due(case, kind, due_at))
                    if len(out) == limit:
                        break
        return out
