"""The case services: the only way to change a case. Each call is one transaction:

    with the unit of work: load the case, decide (domain rules), append the events, save.

A CaseError leaves the case and its history exactly as they were.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from relais.conventions.data_sharing import Consent
from relais.conventions.policy import DEFAULT_POLICY, Policy
from relais.institutions.dates import local_day
from relais.institutions.registry import Registry, default_registry
from relais.workflows.engine.compile import machine_for
from relais.workflows.engine.model import Route

from .domain import decide, escalations, handoff_rules, membership, notes, results, signoffs
from .domain.actors import Actor, system_actor
from .domain.age import with_age
from .domain.case import CaseState
from .domain.decide import EventInput
from .domain.errors import CaseError, NotFound, StaleVersion
from .domain.events import Event, still_as_decided
from .domain.history import append
from .domain.person import checked_contact, person_from
from .domain.results import TASK_PROVIDE_FILE, Document, Task
from .domain.visibility import takes_part
from .store.people import contact_of
from .store.ports import Cases
from .store.repository import DueKey
from .store.route_book import RouteBook
from .store.uow import DatabaseEngine, UnitOfWork, Units, engine_of, units_for

UNPINNED_RETRIES = 3  # then StaleVersion reaches the caller: someone else is very busy
MAX_DUE_PER_CASE = 5  # handoff expiry, then the step's own deadline, then a reminder...


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ByHandoff:
    """A case named by its pending handoff: found in the unit that acts on it."""

    handoff: str


@dataclass(frozen=True)
class Outcome:
    """What an action did: ``done``, ``handoff`` (waits for the receiver) or ``signed``."""

    case: CaseState
    status: str
    events: list[Event]


@dataclass
class MigrationReport:
    applied: bool
    moves: Counter[tuple[str, str]] = field(default_factory=Counter)
    problems: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class SweepReport:
    handled: int = 0
    events: int = 0
    skipped: int = 0
    lags_s: list[float] = field(default_factory=list)


Beside = Callable[[UnitOfWork, list[Event]], None]


class CaseServices:
    """``store``: the units of work to run on (``cases.store.uow``), or an engine to open
    them on."""

    def __init__(self, store: DatabaseEngine | Units, *, registry: Registry | None = None,
                 policy: Policy = DEFAULT_POLICY, clock: Callable[[], datetime] = utcnow) -> None:
        self.registry = registry or default_registry()
        self.policy = policy
        self.clock = clock
        self.routes = RouteBook(self.registry)
        self.units = units_for(store, self.routes)
        self.system = system_actor(policy.coordination)

    def today(self) -> date:
        """The day it is in Neuchâtel (consents' and birth dates' "today"), not in UTC."""
        return local_day(self.clock())

    @property
    def engine(self) -> DatabaseEngine:
        """The database under the units, for the code that still opens its own
        connections; the services themselves go through ``units``."""
        return engine_of(self.units)

    # -- plumbing -----------------------------------------------------------------------

    def _context(self, route: Route, now: datetime | None = None,
                 consents: Callable[[], tuple[Consent, ...]] = tuple) -> decide.Context:
        return decide.Context(route, machine_for(route), self.registry, self.policy,
                              now or self.clock(), consents)

    def _consents_read(self, case_id: str) -> Callable[[], tuple[Consent, ...]]:
        """The case's consent records, read in a unit of their own when a guard asks."""
        def load() -> tuple[Consent, ...]:
            with self.units(write=False) as uow:
                return tuple(c for c, _ in uow.consents.of_case(case_id))
        return load

    @staticmethod
    def consents_for(uow: UnitOfWork, case_id: str) -> Callable[[], tuple[Consent, ...]]:
        """The case's consent records, read in ``uow`` when a guard asks for them."""
        return lambda: tuple(c for c, _ in uow.consents.of_case(case_id))

    def _act(self, case_id: str | ByHandoff, expected_version: int | None,
             rule: Callable[[decide.Context, CaseState], list[Event]],
             now: datetime | None = None, onto: Route | None = None,
             beside: Beside | None = None,
             within: UnitOfWork | None = None, loaded: CaseState | None = None) -> Outcome:
        """Load, decide, append, save: one unit of work, the caller's (``within``, where
        ``loaded`` is the case it already read in it) or its own. ``beside`` writes what
        the events bring with them (documents, tasks) in that same transaction.

        A caller who named no version (the system, an action's result) did not decide on
        what it saw: when a concurrent writer wins, the rule is decided again on the case
        as it now is, in a unit of its own. A caller who named one, or who runs the rule in
        its own unit, gets StaleVersion and decides again itself."""
        if within is not None:
            return self._act_once(case_id, expected_version, rule, now, onto, beside, within,
                                  loaded)
        for _ in range(UNPINNED_RETRIES):
            try:
                return self._act_once(case_id, expected_version, rule, now, onto, beside)
            except StaleVersion:
                if expected_version is not None:
                    raise
        return self._act_once(case_id, expected_version, rule, now, onto, beside)

    def _act_once(self, case_id: str | ByHandoff, expected_version: int | None,
                  rule: Callable[[decide.Context, CaseState], list[Event]],
                  now: datetime | None, onto: Route | None,
                  beside: Beside | None,
                  within: UnitOfWork | None = None, loaded: CaseState | None = None
                  ) -> Outcome:
        with self.units(within=within) as uow:
            repo = uow.cases
            case = (loaded if loaded is not None and loaded.id == case_id
                    else repo.get(case_id) if isinstance(case_id, str)
                    else repo.get_by_handoff(case_id.handoff))
            if case is None and isinstance(case_id, ByHandoff):
                raise NotFound("transfert introuvable / handoff not found",
                               handoff=case_id.handoff)
            if case is None:
                raise NotFound("cas introuvable / case not found", case=case_id)
            if expected_version is not None and not self._as_decided(
                    repo, case, expected_version):
                raise StaleVersion(f"version {expected_version} dépassée : le cas est à la "
                                   f"version {case.version} / stale version",
                                   version=case.version)
            route = onto or uow.routes.get(case.route_id, case.route_version)
            drafts = rule(self._context(route, now, self.consents_for(uow, case.id)), case)
            if not drafts:
                return Outcome(case, "done", [])
            after, events = append(case, drafts)
            # a concurrent writer that took this version number first: StaleVersion, from
            # the save or, for what ``beside`` writes, from the unit
            repo.save(case, after, events)
            if beside is not None:
                beside(uow, events)
        kinds = {e.kind for e in events}
        status = ("handoff" if "handoff_proposed" in kinds
                  else "signed" if kinds == {"signed"} else "done")
        return Outcome(after, status, events)

    @staticmethod
    def _as_decided(repo: Cases, case: CaseState, version: int) -> bool:
        """Whether ``case`` is still as whoever read it at ``version`` decided on it: the
        same version, or only background work recorded since (``events.BACKGROUND``)."""
        return version == case.version or (
            0 < version < case.version
            and still_as_decided(repo.kinds_since(case.id, version)))

    def act_beside(self, case_id: str,
                   rule: Callable[[decide.Context, CaseState], list[Event]], *,
                   beside: Beside) -> Outcome:
        """For the services of what a case's events carry (a measure's row beside its event:
        MeasureServices): ``rule`` decided on the case as it is, its events and what
        ``beside`` writes of them in one unit; decided again when a concurrent writer wins.
        ``beside`` raising rolls all of it back."""
        return self._act(case_id, None, rule, beside=beside)

    # -- reading ------------------------------------------------------------------------

    def get(self, case_id: str, within: UnitOfWork | None = None) -> CaseState:
        with self.units(write=False, within=within) as uow:
            case = uow.cases.get(case_id)
        if case is None:
            raise NotFound("cas introuvable / case not found", case=case_id)
        return case

    def history(self, case_id: str, within: UnitOfWork | None = None) -> list[Event]:
        with self.units(write=False, within=within) as uow:
            return uow.cases.history(case_id)

    def route_of(self, case: CaseState, within: UnitOfWork | None = None) -> Route:
        found = self.routes.cached(case.route_id, case.route_version)
        if found is not None:
            return found
        with self.units(write=False, within=within) as uow:
            return self.routes.keep(uow.routes.get(case.route_id, case.route_version))

    def route(self, route_id: str, version: int | None = None,
              within: UnitOfWork | None = None) -> Route:
        """A published version (the latest without ``version``); NotFound when there is none."""
        found = self.routes.cached(route_id, version) if version is not None else None
        if found is not None:
            return found
        with self.units(write=False, within=within) as uow:
            return self.routes.keep(uow.routes.get(route_id, version))

    def routes_published(self, *, latest: bool = False,
                         within: UnitOfWork | None = None) -> list[Route]:
        """Every published version (only the latest of each route with ``latest``), parsed
        once and cached by the route book."""
        with self.units(write=False, within=within) as uow:
            return [uow.routes.get(rid, v)
                    for rid, versions in uow.routes.versions().items()
                    for v in (versions[-1:] if latest else versions)]

    def published_routes(self, within: UnitOfWork | None = None
                         ) -> dict[str, list[tuple[int, datetime, str]]]:
        """Every route id with its versions in order: (version, when, by whom)."""
        with self.units(write=False, within=within) as uow:
            return uow.routes.published()

    def route_digests(self, route_id: str, within: UnitOfWork | None = None
                      ) -> dict[int, str]:
        with self.units(write=False, within=within) as uow:
            return uow.routes.digests(route_id)

    def allowed_events(self, case: CaseState, within: UnitOfWork | None = None) -> list[str]:
        if not case.is_open or case.handoff is not None:
            return []
        route = self.route_of(case, within)
        with self.units(write=False, within=within) as uow:
            ctx = self._context(route, consents=self.consents_for(uow, case.id))
            return machine_for(route).allowed_events(case.state,
                                                     ctx.guard_values(case.fields))

    # -- changing -----------------------------------------------------------------------

    def publish_route(self, text: str, *, by: str,
                      within: UnitOfWork | None = None) -> tuple[Route, bool]:
        with self.units(within=within) as uow:
            return uow.routes.publish(text, by=by, now=self.clock())

    def open_case(self, *, route: str, person: dict[str, Any], actor: Actor,
                  fields: dict[str, Any] | None = None, reason: str | None = None,
                  version: int | None = None, within: UnitOfWork | None = None) -> Outcome:
        now = self.clock()
        p = person_from(person, today=local_day(now))
        with self.units(within=within) as uow:
            r = uow.routes.get(route, version)
            case_id = str(uuid.uuid4())
            fields = with_age(r, fields, p.birth_date, local_day(now))  # not asked: computed
            drafts = decide.open_case(self._context(r, now), case_id=case_id,
                                      person=uow.people.identify(p), actor=actor,
                                      fields=fields, reason=reason)
            case, events = append(None, drafts)
            uow.cases.save(None, case, events)
            if any(contact_of(p).values()):
                uow.people.hold_contact(case_id, contact_of(p), at=now, by=actor.user)
        return Outcome(case, "done", events)

    def change_contact(self, case_id: str, contact: dict[str, Any], *, actor: Actor,
                       reason: str | None, expected_version: int | None = None,
                       within: UnitOfWork | None = None, loaded: CaseState | None = None
                       ) -> Outcome:
        """The lead changes how its case reaches the person: an event (who, why, what),
        and the case's contact replaced in the same transaction."""
        checked = checked_contact(contact)

        def beside(uow: UnitOfWork, events: list[Event]) -> None:
            uow.people.hold_contact(case_id, checked, at=events[0].at, by=actor.user)

        return self._act(case_id, expected_version, lambda ctx, c: results.contact_changed(
            ctx, c, actor, checked, reason), beside=beside, within=within, loaded=loaded)

    def fire(self, case_id: str, event: str, *, actor: Actor,
             expected_version: int | None = None, data: EventInput | None = None,
             within: UnitOfWork | None = None, loaded: CaseState | None = None) -> Outcome:
        return self._act(case_id, expected_version,
                         lambda ctx, c: decide.fire(ctx, c, event, actor, data or EventInput()),
                         within=within, loaded=loaded)

    def update_fields(self, case_id: str, values: dict[str, Any], *, actor: Actor,
                      expected_version: int | None = None,
                      within: UnitOfWork | None = None) -> Outcome:
        return self._act(case_id, expected_version,
                         lambda ctx, c: decide.update_fields(ctx, c, actor, values),
                         within=within)

    def _on_handoff(self, handoff_id: str, rule: Callable[[decide.Context, CaseState],
                                                          list[Event]],
                    within: UnitOfWork | None = None) -> Outcome:
        def guarded(ctx: decide.Context, case: CaseState) -> list[Event]:
            if case.handoff is None or case.handoff.id != handoff_id:
                raise NotFound("ce transfert n'attend plus de réponse / this handoff is no "
                               "longer pending", handoff=handoff_id)
            return rule(ctx, case)
        return self._act(ByHandoff(handoff_id), None, guarded, within=within)

    def accept_handoff(self, handoff_id: str, *, actor: Actor,
                       within: UnitOfWork | None = None) -> Outcome:
        return self._on_handoff(handoff_id, lambda ctx, c: handoff_rules.accept(ctx, c, actor),
                                within)

    def refuse_handoff(self, handoff_id: str, *, actor: Actor, reason: str | None,
                       within: UnitOfWork | None = None) -> Outcome:
        return self._on_handoff(handoff_id,
                                lambda ctx, c: handoff_rules.refuse(ctx, c, actor, reason),
                                within)

    def withdraw_handoff(self, handoff_id: str, *, actor: Actor,
                         reason: str | None = None,
                         within: UnitOfWork | None = None) -> Outcome:
        return self._on_handoff(handoff_id,
                                lambda ctx, c: handoff_rules.withdraw(ctx, c, actor, reason),
                                within)

    def expire_handoff(self, handoff_id: str, now: datetime | None = None) -> Outcome:
        return self._on_handoff(handoff_id,
                                lambda ctx, c: handoff_rules.expire(ctx, c, self.system))

    def settle_escalation(self, case_id: str, *, actor: Actor, reason: str | None,
                          lead: str | None = None, within: UnitOfWork | None = None,
                          loaded: CaseState | None = None, step: str | None = None) -> Outcome:
        """``step``: where the case resumes (``escalations.settle``), None: where it is."""
        return self._act(case_id, None,
                         lambda ctx, c: escalations.settle(ctx, c, actor, reason, lead, step),
                         within=within, loaded=loaded)

    def answer_signoff(self, case_id: str, answer: str, *, actor: Actor, reason: str | None,
                       expected_version: int | None = None, within: UnitOfWork | None = None,
                       loaded: CaseState | None = None) -> Outcome:
        """``approve``, ``refuse`` or ``withdraw`` the case's sign-off proposal
        (``domain.signoffs``)."""
        rule = {"approve": signoffs.approve, "refuse": signoffs.refuse,
                "withdraw": signoffs.withdraw}[answer]
        return self._act(case_id, expected_version, lambda ctx, c: rule(ctx, c, actor, reason),
                         within=within, loaded=loaded)

    def signoff_allowed(self, case: CaseState, actor: Actor) -> list[str]:
        """What ``actor`` may do with the case's sign-off now (``signoffs.allowed``)."""
        return signoffs.allowed(self._context(self.route_of(case)), case, actor)

    def resumable(self, case: CaseState) -> list[str]:
        """The steps a settlement of ``case`` may resume (``escalations.resumable``)."""
        return escalations.resumable(self._context(self.route_of(case)), case)

    def record_action(self, case_id: str, *, key: str, action: str, summary: dict[str, Any],
                      documents: Sequence[Document] = (), tasks: Sequence[Task] = (),
                      loaded: CaseState | None = None) -> Outcome:
        """What an orchestrated action did, once per idempotency ``key``: a second call with
        the same key records nothing and answers ``already``. ``loaded``: the case row as
        the action read it (``OutboxServices.case_at``); the unit then starts from it, and
        a key already recorded is found by its insert failing (then the unit looks again)."""
        def beside(uow: UnitOfWork, events: list[Event]) -> None:
            now, seq = events[0].at, events[0].seq
            uow.effects.add(key, action=action, case_id=case_id, at=now,
                            result={"seq": seq, "summary": summary})
            uow.documents.attach(case_id, seq, key, list(documents), now)
            uow.documents.open_tasks(case_id, key, list(tasks), now)

        def rule(ctx: decide.Context, c: CaseState) -> list[Event]:
            return results.action_done(ctx, c, self.system, key=key, action=action,
                                       summary=summary, documents=list(documents),
                                       tasks=list(tasks))

        # one unit: whether the effect is recorded, the case, the event and its effect, so
        # that a second worker with the same key either sees it or loses the race and looks
        for attempt in range(UNPINNED_RETRIES):
            start = loaded if attempt == 0 else None
            try:
                with self.units() as uow:
                    if start is None and uow.effects.recorded(key):
                        found = uow.cases.get(case_id)
                        if found is None:
                            raise NotFound("cas introuvable / case not found", case=case_id)
                        return Outcome(found, "already", [])
                    return self._act(case_id, None, rule, beside=beside, within=uow,
                                     loaded=start)
            except StaleVersion:
                continue  # another writer won: look again, in a new unit
        raise StaleVersion("le cas change sans cesse / the case keeps changing",
                           case=case_id)

    def join_partners(self, case_id: str, institutions: list[str], *, actor: Actor,
                      reason: str | None, within: UnitOfWork | None = None,
                      loaded: CaseState | None = None) -> Outcome:
        """Institutions that take part in the case from now on (the coordination's call)."""
        return self._act(case_id, None, lambda ctx, c: membership.join(
            ctx, c, actor, institutions, reason), within=within, loaded=loaded)

    def leave_partner(self, case_id: str, institution: str, *, actor: Actor,
                      reason: str | None, within: UnitOfWork | None = None,
                      loaded: CaseState | None = None) -> Outcome:
        """An institution stops taking part in the case (the coordination's call), unless
        the case still awaits its file (an open file task): then it stays until it is given."""
        with self.units(within=within) as uow:
            tasked = any(t.kind == TASK_PROVIDE_FILE for t in uow.documents.tasks(
                case_id=case_id, institution=institution, status="open"))
            return self._act(case_id, None, lambda ctx, c: membership.leave(
                ctx, c, actor, institution, reason, tasked=tasked), within=uow, loaded=loaded)

    def record_missing_partners(self) -> int:
        """Open cases standing in a joint step entered before partners were recorded (a
        database upgraded from before migration 0011c) get the partners the conventions
        choose, by an event of the system; run by ``relais db upgrade``. Idempotent; reads
        only the open cases standing in a joint step (by route version and state)."""
        with self.units(write=False) as uow:
            joint = [(rid, v, [n for n, st in uow.routes.get(rid, v).states.items()
                               if st.joint])
                     for rid, versions in uow.routes.versions().items() for v in versions]
            rows = [case for rid, v, states in joint if states
                    for case in uow.cases.open_in_states(rid, v, states)]
        done = 0
        for case in rows:
            if case.partners:
                continue
            route = self.route_of(case)
            codes = membership.joining(self._context(route), case, case.state, case.lead)
            if codes:
                self.join_partners(case.id, codes, actor=self.system, reason=(
                    "partenaires de l'étape commune enregistrés à la mise à jour / partners "
                    "of the joint step recorded at upgrade"))
                done += 1
        return done

    def add_document(self, case_id: str, document: Document, *, actor: Actor,
                     within: UnitOfWork | None = None, loaded: CaseState | None = None
                     ) -> Outcome:
        """An institution's own file; it closes that institution's open file task."""
        key = f"{case_id}:upload:{uuid.uuid4().hex}"

        def rule(ctx: decide.Context, case: CaseState) -> list[Event]:
            return results.document_added(ctx, case, actor, document, takes_part(
                actor.institution, case, ctx.route, ctx.registry))

        def beside(uow: UnitOfWork, events: list[Event]) -> None:
            uow.documents.attach(case_id, events[0].seq, key, [document], events[0].at)
            uow.documents.close_tasks(case_id, actor.institution, TASK_PROVIDE_FILE,
                                      events[0].seq, events[0].at)

        return self._act(case_id, None, rule, beside=beside, within=within, loaded=loaded)

    def add_note(self, case_id: str, text: str, category: str, *, actor: Actor,
                 within: UnitOfWork | None = None, loaded: CaseState | None = None
                 ) -> Outcome:
        """A note on the case (``domain.notes``): no version to name, it decides nothing."""
        return self._act(case_id, None, lambda ctx, c: notes.note_added(
            ctx, c, actor, text, category, takes_part(actor.institution, c, ctx.route,
                                                      ctx.registry)),
                         within=within, loaded=loaded)

    def migrate_cases(self, route_id: str, from_version: int, to_version: int, *,
                      mapping: dict[str, str], actor: Actor, reason: str | None = None,
                      apply: bool = False) -> MigrationReport:
        """Move the open cases of one route version onto a newer one. A dry run (the
        default) decides every case and reports; ``apply`` records one event per case."""
        with self.units(write=False) as uow:
            new = uow.routes.get(route_id, to_version)
            ids = uow.cases.open_ids(route_id, from_version)
        report = MigrationReport(applied=apply)
        for case_id in ids:
            try:
                if apply:
                    out = self._act(case_id, None, lambda ctx, c: escalations.migrate(
                        ctx, c, actor, mapping, reason), onto=new)
                    moved = out.events[0]
                else:
                    case = self.get(case_id)
                    moved = escalations.migrate(self._context(new), case, actor, mapping, reason)[0]
            except CaseError as exc:
                report.problems.append((case_id, exc.message))
                continue
            report.moves[(moved.from_state or "", moved.to_state or "")] += 1
        return report

    def sweep_deadlines(self, now: datetime | None = None, *, batch: int = 500) -> SweepReport:
        """Handle every deadline due at ``now``: one indexed query a page reads the due cases,
        in (due time, case id) order from where the page before ended, then one transaction a
        case writes what its deadlines do. Every due deadline is reached in one sweep, however
        many cases before it are skipped (a failing action, a move not allowed): reading "the
        first N due" again, as before, found the same skipped N and stopped. Idempotent: a
        case someone else handled meanwhile is skipped."""
        now = now or self.clock()
        report = SweepReport()
        seen: set[str] = set()  # a case with two deadlines due is handled once
        after: DueKey | None = None
        # two connections kept for the whole sweep: a pool checkout (and on PostgreSQL its
        # ping) for every case cost about as much as the case's own statements
        with self.units.held(write=False) as reads, self.units.held() as writes:
            while True:
                with reads(write=False) as uow:
                    due, next_after = uow.cases.due(now, batch, after)
                for case in due:
                    if case.id not in seen:
                        seen.add(case.id)
                        self._sweep_case(writes, case, now, report)
                if next_after is None:
                    return report
                after = next_after

    def _sweep_case(self, writes: Units, case: CaseState, now: datetime,
                    report: SweepReport) -> None:
        """One case may have several things due (a handoff answer and its step's time):
        handle them one transaction each until nothing is due."""
        handled = False
        for _ in range(MAX_DUE_PER_CASE):
            try:
                case, events = self._sweep_step(writes, case, now)
            except CaseError:  # someone acted meanwhile (stale) or the case is gone
                report.skipped += 1
                return
            if not events:
                break
            handled = True
            report.events += len(events)
            report.lags_s += [e.data["lag_s"] for e in events if "lag_s" in e.data]
        report.handled += handled

    def _sweep_step(self, writes: Units, case: CaseState,
                    now: datetime) -> tuple[CaseState, list[Event]]:
        """Decide on the case as the due query read it, and write the events in one
        transaction on that version: no read of the case inside, and the check whether more
        is due needs no transaction either. If someone changed the case since, it is decided
        again on what it has become (``_act``: load, decide, save)."""
        def rule(ctx: decide.Context, c: CaseState) -> list[Event]:
            return escalations.on_deadline(ctx, c, self.system)

        drafts = rule(self._context(self.route_of(case), now, self._consents_read(case.id)),
                      case)
        if not drafts:
            return case, []
        after, events = append(case, drafts)
        try:
            with writes() as uow:
                uow.cases.save(case, after, events)
        except StaleVersion:
            out = self._act(case.id, None, rule, now)
            return out.case, out.events
        return after, events
