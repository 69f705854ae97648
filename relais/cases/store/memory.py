"""In-memory repositories and units of work (cosmicpython's ``FakeUnitOfWork``): the case
services run on them without a database, where that is what a test is about (the rules
of a use case, what it commits, what a failure leaves).

A unit works on a copy of what is committed (``Memory``): its end makes the copy the
committed state, an exception drops it, so a failed use case leaves nothing behind, as a
rolled back transaction does. Units follow one another (one thread); a case saved on a
version someone else moved on raises StaleVersion, as the SQL save does.

The catalogue and the steering figures have no in-memory version: their tests run on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from relais.cases.domain.case import CaseState
from relais.cases.domain.errors import Conflict, NotFound, StaleVersion
from relais.cases.domain.events import Event
from relais.cases.domain.person import Person
from relais.cases.domain.results import Document, Task
from relais.cases.domain.search import Match, name_key
from relais.cases.domain.throttle import NO_WAIT, Tally, charge, clear_at, refund
from relais.conventions.data_sharing import Consent
from relais.institutions.registry import Registry, default_registry
from relais.workflows.engine.model import Route
from relais.workflows.engine.validate import parse_route

from .codec import case_values
from .documents import DocumentInfo, TaskInfo
from .people import CONTACT
from .repository import DueKey
from .route_book import InvalidRoute
from .sign_in_tally import _keys
from .uow import UnitOfWork, Units
from .users import StoredUser


@dataclass
class Memory:
    """Everything a Relais stores, as plain values: what the fakes read and write."""

    cases: dict[str, CaseState] = field(default_factory=dict)
    events: dict[str, list[Event]] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    routes: dict[tuple[str, int], tuple[str, str, datetime, str]] = field(default_factory=dict)
    effects: dict[str, dict[str, Any]] = field(default_factory=dict)
    people: dict[int, Person] = field(default_factory=dict)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    consents: dict[str, dict[str, Any]] = field(default_factory=dict)
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    documents: list[tuple[DocumentInfo, bytes]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    reads: list[dict[str, Any]] = field(default_factory=list)
    users: dict[str, StoredUser] = field(default_factory=dict)
    sessions: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    tallies: dict[str, tuple[Tally, datetime]] = field(default_factory=dict)


class MemoryCases:
    def __init__(self, m: Memory) -> None:
        self.m = m

    def get(self, case_id: str) -> CaseState | None:
        return self.m.cases.get(case_id)

    def get_by_handoff(self, handoff_id: str) -> CaseState | None:
        for case_id, events in self.m.events.items():
            if any(e.kind == "handoff_proposed" and (e.data.get("handoff") or {}).get("id")
                   == handoff_id for e in events):
                return self.m.cases[case_id]
        return None

    def history(self, case_id: str) -> list[Event]:
        return list(self.m.events.get(case_id, []))

    def kinds_since(self, case_id: str, version: int) -> list[str]:
        return [e.kind for e in self.m.events.get(case_id, []) if e.seq > version]

    def save(self, before: CaseState | None, after: CaseState, events: list[Event]) -> None:
        stored = self.m.cases.get(after.id)
        if (before is None) != (stored is None) or (
                before is not None and stored is not None and stored.version != before.version):
            raise StaleVersion("le cas a changé entre-temps ; recharger / the case changed "
                               "meanwhile; reload", version=before.version if before else 0)
        self.m.cases[after.id] = after
        self.m.events.setdefault(after.id, []).extend(events)
        self.m.outbox += [{"idempotency_key": f"{e.case_id}:{e.seq}:{action}",
                           "case_id": e.case_id, "seq": e.seq, "action": action,
                           "status": "pending"}
                          for e in events for action in e.data.get("actions", ())]

    def _due_keys(self, case: CaseState) -> list[DueKey]:
        keys = []
        if case.is_open and case.deadline.status == "open" and case.deadline.due_at:
            keys.append((case.deadline.due_at, case.id))
        if case.handoff is not None:
            keys.append((case.handoff.due_at, case.id))
        return keys

    def due(self, now: datetime, limit: int, after: DueKey | None = None
            ) -> tuple[list[CaseState], DueKey | None]:
        keys = sorted(k for c in self.m.cases.values() for k in self._due_keys(c)
                      if k[0] <= now and (after is None or k > after))[:limit]
        found = [self.m.cases[case_id] for case_id in dict.fromkeys(k[1] for k in keys)]
        return found, keys[-1] if len(keys) == limit else None

    def _ordered(self) -> list[CaseState]:
        return sorted(self.m.cases.values(), key=lambda c: (c.opened_at, c.id))

    def page(self, after: tuple[datetime, str] | None, limit: int,
             match: Match | None = None, **equal: Any) -> list[CaseState]:
        return [c for c in self._ordered()
                if (after is None or (c.opened_at, c.id) > after)
                and (match is None or c.person in match.people
                     or bool(match.case_prefix and c.id.startswith(match.case_prefix)))
                and all(case_values(c)[k] == v for k, v in equal.items())][:limit]

    def escalated(self, limit: int) -> list[CaseState]:
        return [c for c in self._ordered() if c.deadline.level >= 2 and c.is_open][:limit]

    def revolving(self, limit: int) -> list[CaseState]:
        return [c for c in self._ordered() if c.revolving_door is not None][:limit]

    def open_deadlines_before(self, before: datetime
                              ) -> Iterator[tuple[CaseState, str, datetime]]:
        found = [(c.deadline.due_at, "state", c) for c in self.m.cases.values()
                 if c.is_open and c.deadline.status == "open" and c.deadline.due_at]
        found += [(c.handoff.due_at, "handoff", c) for c in self.m.cases.values()
                  if c.handoff is not None]
        for at, kind, case in sorted(found, key=lambda f: (f[0], f[2].id)):
            if at < before:
                yield case, kind, at

    def open_in_states(self, route_id: str, version: int, states: list[str]
                       ) -> list[CaseState]:
        return [c for c in self.m.cases.values() if c.is_open and c.route_id == route_id
                and c.route_version == version and c.state in states]

    def open_ids(self, route_id: str, version: int) -> list[str]:
        return [c.id for c in self.m.cases.values() if c.is_open and c.route_id == route_id
                and c.route_version == version]


class MemoryRoutes:
    def __init__(self, m: Memory, registry: Registry) -> None:
        self.m, self.registry = m, registry

    def get(self, route_id: str, version: int | None = None) -> Route:
        versions = [v for rid, v in self.m.routes if rid == route_id
                    and (version is None or v == version)]
        if not versions:
            raise NotFound(f"route inconnue « {route_id} » / unknown route", route=route_id)
        route, problems = parse_route(self.m.routes[(route_id, max(versions))][1],
                                      self.registry)
        if route is None:
            raise InvalidRoute(problems)
        return route

    def publish(self, text: str, *, by: str, now: datetime) -> tuple[Route, bool]:
        route, problems = parse_route(text, self.registry)
        if route is None:
            raise InvalidRoute(problems)
        known = self.m.routes.get((route.id, route.version))
        if known is not None:
            if known[0] != route.digest:
                raise Conflict("version déjà publiée avec un autre contenu / version already "
                               "published with other content", route=route.id,
                               version=route.version)
            return route, False
        self.m.routes[(route.id, route.version)] = (route.digest, text, now, by)
        return route, True

    def published(self) -> dict[str, list[tuple[int, datetime, str]]]:
        out: dict[str, list[tuple[int, datetime, str]]] = {}
        for (rid, v), (_, _, at, by) in sorted(self.m.routes.items()):
            out.setdefault(rid, []).append((v, at, by))
        return out

    def digests(self, route_id: str) -> dict[int, str]:
        return {v: d for (rid, v), (d, *_) in self.m.routes.items() if rid == route_id}

    def versions(self) -> dict[str, list[int]]:
        return {rid: [v for v, _, _ in found] for rid, found in self.published().items()}


class MemoryEffects:
    def __init__(self, m: Memory) -> None:
        self.m = m

    def recorded(self, key: str) -> bool:
        return key in self.m.effects

    def result(self, key: str) -> dict[str, Any] | None:
        found = self.m.effects.get(key)
        return dict(found["result"]) if found else None

    def add(self, key: str, *, action: str, case_id: str, result: dict[str, Any],
            at: datetime) -> None:
        if key in self.m.effects:
            raise StaleVersion("effet déjà enregistré / effect already recorded", key=key)
        self.m.effects[key] = {"action": action, "case_id": case_id, "result": result,
                               "at": at}


class MemoryPeople:
    def __init__(self, m: Memory) -> None:
        self.m = m

    def identify(self, p: Person) -> int:
        for pid, known in self.m.people.items():
            if known.avs == p.avs:
                if (known.official_name, known.first_name, known.birth_date) != (
                        p.official_name, p.first_name, p.birth_date):
                    raise Conflict("l'identité donnée ne correspond pas à ce numéro AVS / "
                                   "the identity given does not match this AVS number")
                return pid
        pid = len(self.m.people) + 1
        self.m.people[pid] = Person(p.avs, p.official_name, p.first_name, p.birth_date,
                                    p.sex, p.nationality)
        return pid

    def hold_contact(self, case_id: str, contact: dict[str, Any], *, at: datetime,
                     by: str) -> None:
        self.m.contacts[case_id] = {k: contact.get(k) for k in CONTACT}

    def matching(self, words: list[str]) -> list[int]:
        if not words:
            return []
        return [pid for pid, p in self.m.people.items()
                if all(f" {w}" in name_key(p.official_name, p.first_name) for w in words)]

    def by_avs(self, avs: str) -> list[int]:
        return [pid for pid, p in self.m.people.items() if p.avs == avs]

    def of_case(self, person_id: int, case_id: str) -> Person:
        p = self.m.people[person_id]
        held = self.m.contacts.get(case_id, dict.fromkeys(CONTACT))
        return Person(p.avs, p.official_name, p.first_name, p.birth_date, p.sex,
                      p.nationality, held["email"], held["phone"], held["address"])


class MemoryConsents:
    def __init__(self, m: Memory) -> None:
        self.m = m

    def of_case(self, case_id: str) -> list[tuple[Consent, dict[str, Any]]]:
        rows = sorted((r for r in self.m.consents.values() if r["case_id"] == case_id),
                      key=lambda r: (r["recorded_at"], r["id"]))
        return [(Consent(r["id"], tuple(r["recipients"]), tuple(r["categories"]), r["purpose"],
                         r["valid_from"], r["valid_until"], r["revoked_on"]),
                 {"grantor": r["grantor"], "recorded_by": r["recorded_by"],
                  "institution": r["recorded_by_institution"],
                  "recorded_at": r["recorded_at"]}) for r in rows]

    def add(self, row: dict[str, Any]) -> None:
        self.m.consents[row["id"]] = dict(row)

    def recorder(self, consent_id: str) -> tuple[str | None, date | None] | None:
        r = self.m.consents.get(consent_id)
        return None if r is None else (r["recorded_by_institution"], r["revoked_on"])

    def revoke(self, consent_id: str, on: date) -> None:
        self.m.consents[consent_id]["revoked_on"] = on


class MemoryExchanges:
    def __init__(self, m: Memory) -> None:
        self.m = m

    def known(self, case_id: str, recipient: str) -> set[tuple[str, str]]:
        return {(r["category"], r["legal_basis"]) for r in self.m.exchanges
                if r["case_id"] == case_id and r["recipient"] == recipient}

    def add(self, *, case_id: str, recipient: str, category: str, basis: str, at: datetime,
            inform_person: bool) -> None:
        if (category, basis) not in self.known(case_id, recipient):
            self.m.exchanges.append({
                "id": len(self.m.exchanges) + 1, "case_id": case_id, "recipient": recipient,
                "category": category, "legal_basis": basis, "at": at,
                "inform_person": inform_person, "informed_on": None})

    def of_case(self, case_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.m.exchanges if r["case_id"] == case_id]

    def _row(self, case_id: str, exchange_id: int) -> dict[str, Any] | None:
        return next((r for r in self.m.exchanges
                     if r["id"] == exchange_id and r["case_id"] == case_id), None)

    def at(self, case_id: str, exchange_id: int) -> datetime | None:
        row = self._row(case_id, exchange_id)
        return None if row is None else row["at"]

    def informed(self, case_id: str, exchange_id: int, on: date) -> None:
        row = self._row(case_id, exchange_id)
        if row is not None:
            row["informed_on"] = on


class MemoryDocuments:
    def __init__(self, m: Memory) -> None:
        self.m = m

    def attach(self, case_id: str, seq: int, key: str, documents: list[Document],
               now: datetime) -> None:
        for d in documents:
            info = DocumentInfo(len(self.m.documents) + 1, case_id, seq, d.name, d.kind,
                                d.institution, d.category, d.title[:300], d.media_type,
                                d.sha256, len(d.content), now)
            self.m.documents.append((info, d.content))

    def open_tasks(self, case_id: str, key: str, tasks: list[Task], now: datetime) -> None:
        self.m.tasks += [{"id": len(self.m.tasks) + n + 1, "case_id": case_id, "kind": t.kind,
                          "institution": t.institution, "title": t.title, "status": "open",
                          "created_at": now, "done_at": None} for n, t in enumerate(tasks)]

    def close_tasks(self, case_id: str, institution: str, kind: str, seq: int,
                    now: datetime) -> int:
        done = [t for t in self.m.tasks if (t["case_id"], t["institution"], t["kind"],
                                            t["status"]) == (case_id, institution, kind, "open")]
        for t in done:
            t.update(status="done", done_at=now)
        return len(done)

    def of_case(self, case_id: str) -> list[DocumentInfo]:
        return [info for info, _ in self.m.documents if info.case_id == case_id]

    def content(self, case_id: str, document_id: int) -> tuple[DocumentInfo, bytes] | None:
        return next(((info, body) for info, body in self.m.documents
                     if info.case_id == case_id and info.id == document_id), None)

    def tasks(self, *, case_id: str | None = None, institution: str | None = None,
              status: str | None = "open", limit: int = 500) -> list[TaskInfo]:
        return [TaskInfo(t["id"], t["case_id"], t["kind"], t["institution"], t["title"],
                         t["status"], t["created_at"], t["done_at"]) for t in self.m.tasks
                if case_id in (None, t["case_id"]) and institution in (None, t["institution"])
                and status in (None, t["status"])][:limit]


class MemoryReads:
    def __init__(self, m: Memory) -> None:
        self.m = m

    def add(self, case_ids: list[str], *, user: str, institution: str, at: datetime,
            what: str) -> None:
        self.m.reads += [{"case_id": c, "user": user, "institution": institution, "at": at,
                          "what": what} for c in dict.fromkeys(case_ids)]

    def of_case(self, case_id: str, limit: int) -> tuple[int, list[dict[str, Any]]]:
        mine = [{k: r[k] for k in ("at", "user", "institution", "what")}
                for r in reversed(self.m.reads) if r["case_id"] == case_id]
        return len(mine), mine[:limit]


class MemoryUsers:
    def __init__(self, m: Memory) -> None:
        self.m = m

    def by_name(self, name: str) -> StoredUser | None:
        return self.m.users.get(name)


class MemorySessions:
    def __init__(self, m: Memory) -> None:
        self.m = m

    def open(self, user: str, now: datetime) -> str:
        session_id = secrets.token_urlsafe(32)
        self.m.sessions[session_id] = (user, now)
        return session_id


class MemoryTallies:
    def __init__(self, m: Memory) -> None:
        self.m = m

    def _held(self, key: str, now: datetime) -> Tally | None:
        found = self.m.tallies.get(key)
        if found is None or (found[0].failures == 0 and found[0].next_at <= now):
            return None
        return found[0]

    def try_sign_in(self, *, name: str, address: str, now: datetime) -> timedelta:
        self.m.tallies = {k: v for k, v in self.m.tallies.items() if v[1] >= now}
        tries = [(key, budget, charge(budget, self._held(key, now), now))
                 for key, budget in _keys(name, address)]
        wait = max(t.wait for _, _, t in tries)
        if wait == NO_WAIT:
            for key, budget, t in tries:
                self.m.tallies[key] = (t.tally, clear_at(budget, t.tally))
        return wait

    def settle(self, *, name: str, address: str, right: bool, now: datetime) -> None:
        if not right:
            return
        (address_key, budget), (pair_key, _) = _keys(name, address)
        tally = self._held(address_key, now)
        if tally is not None:
            kept = refund(budget, tally)
            self.m.tallies[address_key] = (kept, clear_at(budget, kept))
        self.m.tallies.pop(pair_key, None)


class _NotInMemory:
    """A repository the fakes do not have: using it says so."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attr: str) -> Any:
        raise NotImplementedError(f"pas de {self.name} en mémoire : ses tests tournent sur "
                                  f"SQLite et PostgreSQL / no in-memory {self.name}")


class FakeUnitOfWork:
    def __init__(self, m: Memory, registry: Registry) -> None:
        self.memory = m
        self.cases = MemoryCases(m)
        self.routes = MemoryRoutes(m, registry)
        self.effects = MemoryEffects(m)
        self.people = MemoryPeople(m)
        self.consents = MemoryConsents(m)
        self.exchanges = MemoryExchanges(m)
        self.documents = MemoryDocuments(m)
        self.reads = MemoryReads(m)
        self.users = MemoryUsers(m)
        self.sessions = MemorySessions(m)
        self.tallies = MemoryTallies(m)
        self.outbox: Any = _NotInMemory("outbox")  # what events leave: ``memory.outbox``
        self.catalogue: Any = _NotInMemory("catalogue")
        self.steering: Any = _NotInMemory("steering")


class FakeUnits:
    """Units of work on ``memory`` (what is committed); ``opened`` and ``committed`` count
    them, for tests of how many a use case takes."""

    def __init__(self, registry: Registry | None = None, memory: Memory | None = None) -> None:
        self.registry = registry or default_registry()
        self.memory = memory or Memory()
        self.opened = self.committed = 0

    @contextmanager
    def __call__(self, write: bool = True, within: UnitOfWork | None = None
                 ) -> Iterator[UnitOfWork]:
        if within is not None:
            yield within
            return
        self.opened += 1
        working = copy.deepcopy(self.memory)
        yield FakeUnitOfWork(working, self.registry)  # an exception: ``working`` dropped
        if write:
            self.memory = working
            self.committed += 1

    @contextmanager
    def held(self, write: bool = True) -> Iterator[Units]:
        yield self
