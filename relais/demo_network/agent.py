"""One case's life in the demonstration, through the case services: the moves a case
manager makes, answers to handoffs (some refused), late steps and the coordination settling
what escalated. Every helper that waits is a generator: ``yield from`` it in an agent."""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import datetime, timedelta
from typing import Any

from relais.cases.domain.actors import Actor
from relais.cases.domain.case import CaseState
from relais.cases.domain.decide import EventInput
from relais.cases.services import Outcome
from relais.cases.sharing import ReferralConsent, Sharing

from .people import STAFF
from .scheduler import Sim

Wait = Generator[datetime, None, Any]

SETTLE_LATE = ("Relance de la coordination : l'étape reprend avec un nouveau délai / "
               "the coordination follows up: the step resumes with a new deadline")


class CaseFlow:
    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self._case: CaseState | None = None

    @property
    def case(self) -> CaseState:
        assert self._case is not None, "open the case first"
        return self._case

    @property
    def rng(self) -> Any:
        return self.sim.rng

    def _took(self, out: Outcome) -> Outcome:
        self._case = out.case
        self.sim.note(out.case)
        for e in out.events:
            self.sim.tally[e.kind] += 1
        return out

    def open(self, route: str, person: dict[str, Any], actor: Actor, fields: dict[str, Any],
             reason: str | None = None, consent: ReferralConsent | None = None) -> None:
        """The referral; with ``consent``, the person's consent recorded with it."""
        self._took(Sharing(self.sim.s).refer(actor, route=route, person=person,
                                             consent=consent, fields=fields, reason=reason))

    def fire(self, event: str, actor: Actor, **inp: Any) -> Outcome:
        return self._took(self.sim.s.fire(self.case.id, event, actor=actor,
                                          data=EventInput(**inp)))

    def refresh(self) -> CaseState:
        """The case as it is now: read again if a sweep since may have moved it (one of its
        deadlines had fallen due), the only other writer of the demonstration's cases."""
        c, swept = self.case, self.sim.last_sweep
        if any(due is not None and due <= swept for due in (
                c.deadline.due_at if c.deadline.status == "open" else None,
                c.handoff.due_at if c.handoff else None)):
            self._case = self.sim.s.get(c.id)
        return self.case

    def lead(self) -> Actor:
        return STAFF.of(self.case.lead)

    # -- waiting -----------------------------------------------------------------------

    def in_time(self, late: float = 0.0, share: tuple[float, float] = (0.3, 0.9)) -> Wait:
        """Wait until the owner does the current step (late with probability ``late``);
        if it escalated meanwhile, the coordination settles it first."""
        yield self.sim.before(self.case.deadline.due_at, late, share=share)
        if self.refresh().escalated:
            yield from self.settle(SETTLE_LATE)

    def settle(self, reason: str, lead: str | None = None) -> Wait:
        """The coordination settles the escalation (naming the lead, or restarting the
        clock); the lead goes on a few working days later."""
        yield self.sim.in_wd(self.rng.randint(0, 2))
        self._took(self.sim.s.settle_escalation(self.case.id, actor=STAFF.coord,
                                                reason=reason, lead=lead))
        yield self.sim.in_wd(self.rng.randint(1, 3))
        self.refresh()

    def handoff(self, propose: Callable[[int], Outcome], *, refuse: float,
                reasons: list[str], expire: float = 0.0) -> Generator[datetime, None, bool]:
        """Propose a change of lead (``propose(attempt)``) and live the receiver's answer:
        accepted (True); refused with a reason, then proposed again once; refused twice, or
        not answered in time, escalated to the coordination, which names the receiver as the
        lead (False: the caller takes the step again, now as the lead)."""
        out = propose(0)
        attempt = 0
        while out.status == "handoff":
            h = out.case.handoff
            assert h is not None
            receiver = STAFF.of(h.receiver)
            if attempt == 0 and self.rng.random() < expire:
                yield h.due_at + timedelta(minutes=30)  # the night's sweep expires it
                self.refresh()
                yield from self.settle("Sans réponse au transfert : la coordination attribue "
                                       f"le cas à {h.receiver} / no answer: the coordination "
                                       f"gives the case to {h.receiver}", h.receiver)
                return False
            yield self.sim.in_wd(self.rng.randint(0, 2))  # the receiver's answer
            self.refresh()
            if self.case.handoff is None:  # expired meanwhile (a late answer)
                yield from self.settle("Transfert échu : compétence décidée / handoff expired: "
                                       "competence decided", h.receiver)
                return False
            if attempt < 2 and self.rng.random() < refuse:
                self._took(self.sim.s.refuse_handoff(h.id, actor=receiver,
                                                     reason=self.rng.choice(reasons)))
                self.sim.tally["refusals"] += 1
                if self.case.escalated:
                    yield from self.settle("Deux refus : la coordination décide de la compétence"
                                           f" ({h.receiver}) / refused twice: the coordination "
                                           "decides", h.receiver)
                    return False
                attempt += 1
                yield self.sim.in_wd(self.rng.randint(2, 6))  # the sender completes the file
                self.refresh()
                out = propose(attempt)
                continue
            self._took(self.sim.s.accept_handoff(h.id, actor=receiver))
            return True
        return True

    def keep_up(self, end: datetime | None, *, resume: str, review_state: str,
                actor: Callable[[], Actor]) -> Wait:
        """A long step whose deadline fires the route's review (``revoir``): the lead takes
        the step up again (``resume``) a few days after each review, until ``end`` (None:
        beyond the end of the history)."""
        while True:
            due = self.case.deadline.due_at
            if end is not None and (due is None or end < due):
                yield end
                self.refresh()
                return
            assert due is not None
            yield self.sim.office(self.sim.cal.add_working_days(
                due.astimezone(self.sim.cal.zone).date(), self.rng.randint(1, 8)))
            if self.refresh().state == review_state:
                if self.case.escalated:
                    yield from self.settle(SETTLE_LATE)
                self.fire(resume, actor(), reason="Plan revu / plan reviewed")
            if end is not None and self.sim.now >= end:
                return
