"""The one access policy: what a user may read of a case, and the record that they read it.

Every read path (the API, the pages, lists, documents, consents, exchanges, measures,
letters) asks it: ``open`` a case (404 unless the caller's institution takes part, the read
recorded), or ``views`` of listed cases (each recorded). A ``CaseView`` answers, per data
category, whether the reader sees it (``conventions.data_sharing``: own file, statute or
consent) and filters what a case carries accordingly:

- route fields by their category;
- free text (history reasons, outcomes, measure payers and notes) as the case's
  ``situation``: shown only to readers entitled to it;
- consents: that one exists is the network's business (who recorded it, for whom, which
  categories); the grantor and the purpose only for readers who see the person and every
  category the consent covers, and for the institution that recorded it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from relais.conventions.data_sharing import CATEGORIES, Consent
from relais.workflows.engine.model import Route

from .domain.actors import Actor
from .domain.case import CaseState
from .domain.errors import NotAllowed
from .domain.events import Event
from .domain.visibility import may_see_reads
from .queries import CaseQueries
from .sharing import Sharing
from .store.uow import UnitOfWork

SITUATION = "situation"
IDENTITY = "identite"
# what an event's data says of the case's course, not of the person: kept for a reader who
# does not see the situation (an outcome, a measure, its payer, an action's summary are not)
STRUCTURE = frozenset({"fields", "handoff", "handoff_id", "lead", "transfers", "handed_on",
                       "partners", "deadline_at", "escalated", "signoff", "revolving_door",
                       "closed", "manager", "route", "from_version", "mapping", "left",
                       "action"})  # which of the route's actions ran: the route's, not the person's


@dataclass(frozen=True)
class ConsentShown:
    id: str
    recorded_by: str | None  # the institution that received the form
    recipients: list[str]
    categories: list[str]
    valid_from: date
    valid_until: date | None
    revoked_on: date | None
    grantor: str | None  # None: withheld from this reader
    purpose: str | None


@dataclass(frozen=True)
class CaseView:
    actor: Actor
    case: CaseState
    route: Route
    shown: dict[str, str]  # category -> legal basis
    withheld: list[str]

    def sees(self, category: str) -> bool:
        return category in self.shown

    def category_of(self, field: str) -> str:
        spec = self.route.fields.get(field)
        return spec.category if spec is not None else SITUATION

    @property
    def fields(self) -> dict[str, Any]:
        return {k: v for k, v in self.case.fields.items() if self.sees(self.category_of(k))}

    @property
    def outcome(self) -> str | None:
        return self.case.outcome if self.sees(SITUATION) else None

    def text(self, value: str | None) -> str | None:
        """Free text about the person's situation, for readers entitled to it."""
        return value if self.sees(SITUATION) else None

    def event(self, e: Event, parties: frozenset[str] = frozenset()) -> Event:
        """A history event as this reader may read it: its reason, fields, outcome and any
        other data of the person only as far as their categories are shown. A reason is
        also shown to the institution that wrote it and, for a handoff, to its two parties
        and the coordination that settles disputes between them."""
        if e.kind == "note_added":
            return self._note(e)
        told = self.actor.institution == e.institution or self.actor.institution in parties \
            or (bool(parties) and self.actor.is_coordination)
        data = dict(e.data)
        if "fields" in data:
            data["fields"] = {k: v for k, v in data["fields"].items()
                              if self.sees(self.category_of(k))}
        if not self.sees(SITUATION):  # only how the case moved: who leads, who takes part
            data = {k: v for k, v in data.items() if k in STRUCTURE}
            if isinstance(data.get("handoff"), dict):
                data["handoff"] = {**data["handoff"], "reason": None, "outcome": None}
        if not self.sees(IDENTITY):
            data.pop("contact", None)
        if isinstance(data.get("signoff"), dict):
            data["signoff"] = self._signoff(data["signoff"], told)
        return replace(e, reason=e.reason if told else self.text(e.reason), data=data)

    def _note(self, e: Event) -> Event:
        """A note: that it exists, who wrote it and its category for every reader; its text
        for the institution that wrote it and for readers who see its category."""
        category = str(e.data.get("category", SITUATION))
        shown = self.actor.institution == e.institution or self.sees(category)
        return replace(e, data={"category": category,
                                "text": e.data.get("text") if shown else None})

    def _signoff(self, s: dict[str, Any], told: bool) -> dict[str, Any]:
        """A sign-off as this reader may read it: who signed and the lead proposed are the
        case's course; the proposal's reason, outcome and fields, and a refusal's reason,
        are the person's situation (fields: by their categories)."""
        situation = told or self.sees(SITUATION)
        proposal = []
        for key, value in s.get("proposal", []):
            if key == "fields" and isinstance(value, dict):
                value = {k: v for k, v in value.items() if self.sees(self.category_of(k))}
            elif key in ("reason", "outcome") and not situation:
                value = None
            proposal.append([key, value])
        shown = {**s, "proposal": proposal}
        if "refusal" in s:
            shown["refusal"] = [[k, None if k == "reason" and not situation else v]
                                for k, v in s["refusal"]]
        return shown

    def consent(self, c: Consent, extra: dict[str, Any]) -> ConsentShown:
        own = extra.get("institution") == self.actor.institution
        full = own or (self.sees(IDENTITY) and all(self.sees(cat) for cat in c.categories))
        return ConsentShown(c.id, extra.get("institution"), list(c.recipients),
                            list(c.categories), c.valid_from, c.valid_until, c.revoked_on,
                            extra["grantor"] if full else None, c.purpose if full else None)


class AccessPolicy:
    """Each method runs in the caller's unit of work (``within``) when it has one: a request
    opens one (``unit``) and its visibility check, read record, disclosures and reads are one
    transaction; without one, each call is a unit of its own."""

    def __init__(self, queries: CaseQueries, sharing: Sharing) -> None:
        self.q, self.sharing = queries, sharing

    def unit(self) -> AbstractContextManager[UnitOfWork]:
        return self.q.s.units()

    def view(self, actor: Actor, case: CaseState, within: UnitOfWork | None = None
             ) -> CaseView:
        """What ``actor`` may see of a case it may know (the exchanges recorded)."""
        disclosed = self.sharing.disclose(actor, case, within)
        return CaseView(actor, case, self.q.s.route_of(case, within), disclosed.shown,
                        disclosed.withheld)

    def open(self, actor: Actor, case_id: str, what: str,
             within: UnitOfWork | None = None) -> CaseView:
        """The case as ``actor`` may read it, the read recorded; NotFound when its
        institution does not take part (never 'forbidden': nothing said of existence)."""
        with self.q.s.units(within=within) as uow:
            case = self.q.case_for(actor, case_id, uow)
            self.q.log_read(actor, case_id, what, uow)
            return self.view(actor, case, uow)

    def seen(self, actor: Actor, case: CaseState, what: str,
             within: UnitOfWork | None = None) -> CaseView:
        """A case ``actor`` just acted on, shown back to it: a read too. An institution
        that no longer takes part by its act (a refused handoff) reads nothing of it."""
        if not self.q.visible(actor, case, within):
            return CaseView(actor, case, self.q.s.route_of(case, within), {},
                            list(CATEGORIES))
        with self.q.s.units(within=within) as uow:
            self.q.log_read(actor, case.id, what, uow)
            return self.view(actor, case, uow)

    def views(self, actor: Actor, cases: list[CaseState], what: str,
              within: UnitOfWork | None = None) -> list[CaseView]:
        """Listed cases (already filtered by visibility), each read recorded."""
        with self.q.s.units(within=within) as uow:
            self.q.log_reads(actor, [c.id for c in cases], what, uow)
            return [self.view(actor, c, uow) for c in cases]

    def search(self, actor: Actor, *, q: str | None, avs: str | None,
               within: UnitOfWork | None = None, **listing: Any
               ) -> tuple[list[CaseState], str | None, bool]:
        """The cases ``actor`` may see, found by ``q`` (names, case number) and ``avs``; by
        name or AVS number only where the reader sees the person's identity (a search must
        not reveal a person it may not see). The page, its next cursor, and whether it was a
        search (its results then recorded as ``search`` reads by ``views``)."""
        with self.q.s.units(within=within) as uow:
            match = self.q.match(q, avs, uow)
            found, nxt = self.q.list_cases(actor, match=match, within=uow,
                                           knows_person=self.knows_person(actor, uow),
                                           **listing)
        return found, nxt, match is not None

    def open_found(self, actor: Actor, *, q: str | None, avs: str | None,
                   within: UnitOfWork | None = None, **listing: Any
                   ) -> tuple[list[CaseState], bool]:
        """The open cases ``actor`` may see (an inbox), found as by ``search``."""
        with self.q.s.units(within=within) as uow:
            match = self.q.match(q, avs, uow)
            return self.q.open_cases(actor, match=match, within=uow,
                                     knows_person=self.knows_person(actor, uow),
                                     **listing), match is not None

    def knows_person(self, actor: Actor, within: UnitOfWork
                     ) -> Callable[[CaseState], bool]:
        """Whether ``actor`` sees the identity of a case's person (nothing recorded)."""
        return lambda c: self.sharing.may_know(actor, c, IDENTITY, within)

    def letter(self, case: CaseState, route: Route, recipient: Actor,
               categories: Collection[str], within: UnitOfWork | None = None) -> CaseView:
        """What a letter to ``recipient``'s institution may say of ``case``: of
        ``categories``, those it has a basis for, the disclosure recorded
        (``Sharing.for_letter``). A letter is no reader's read: no read is recorded."""
        disclosed = self.sharing.for_letter(case, recipient.institution, categories, within)
        return CaseView(recipient, case, route, disclosed.shown, disclosed.withheld)

    def history(self, v: CaseView, within: UnitOfWork | None = None) -> list[Event]:
        with self.q.s.units(write=False, within=within) as uow:
            events = uow.cases.history(v.case.id)
        parties: dict[str, frozenset[str]] = {}
        for e in events:
            h = e.data.get("handoff")
            if e.kind == "handoff_proposed" and isinstance(h, dict):
                parties[h["id"]] = frozenset((h["sender"], h["receiver"]))
        return [v.event(e, parties.get(e.data.get("handoff_id")
                                       or (e.data.get("handoff") or {}).get("id", ""),
                                       frozenset()))
                for e in events]

    def consents(self, v: CaseView, within: UnitOfWork | None = None) -> list[ConsentShown]:
        return [v.consent(c, extra) for c, extra in self.sharing.consents(v.case, within)]

    def reads(self, actor: Actor, case_id: str, limit: int = 200,
              within: UnitOfWork | None = None) -> tuple[CaseView, int, list[dict[str, Any]]]:
        """Who read the case file, latest first, for the lead's case managers and the
        coordination (``visibility.may_see_reads``); this look is on the record too."""
        with self.q.s.units(within=within) as uow:
            view = self.open(actor, case_id, "reads", uow)
            if not may_see_reads(actor, view.case):
                raise NotAllowed("seuls l'institution responsable et la coordination voient qui "
                                 "a consulté le dossier / only the lead institution and the "
                                 "coordination see who read the case")
            total, rows = uow.reads.of_case(case_id, limit)
        return view, total, rows
