"""Load the demonstration network: the users, then every cohort's cases lived through the
case services on a simulated clock that ends at ``until``, then the outbox of the past."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from relais.cases.domain.errors import CaseError
from relais.cases.services import CaseServices
from relais.cases.store.outbox import Outbox
from relais.cases.store.uow import unit_of_work
from relais.cases.store.users import add_user, set_password

from ..demo import Clock
from . import cohort_cii, cohort_cmfp, cohort_eso
from .measures import Placements
from .people import DEMO_PASSWORD, STAFF, People
from .scheduler import Sim

SEED = 2026
YEARS = 6  # the network's history; the CMFP review covers its last 4½ years
WAITING_DAYS = 3  # the actions of the history's last days stay waiting: the live system runs them
PAST = ("passé de la démonstration, non exécuté / the demonstration's past, not run")

Progress = Callable[[str, float], None]  # what is being done, the share done (0–1)


@dataclass(frozen=True)
class Options:
    seed: int = SEED
    until: date | None = None  # default: today (UTC); the history ends at its 00:00 UTC
    scale: float = 1.0  # the reseau-cii and ne-eso cohorts; the CMFP one is the review's
    cmfp: bool = True
    users: bool = True  # the demonstration's users (their password hashes take a second)


@dataclass
class LoadReport:
    until: datetime
    review: tuple[date, date]
    cases: Counter[str] = field(default_factory=Counter)
    tally: Counter[str] = field(default_factory=Counter)
    users_added: dict[str, str] = field(default_factory=dict)  # name: API token
    outbox_past: int = 0
    places_added: int = 0  # the demonstration's periods of the catalogue's programmes


class NotEmpty(Exception):
    """The database already has cases: the demonstration loads only into an empty one."""


def case_count(services: CaseServices) -> int:
    with unit_of_work(services.engine, write=False) as uow:
        return uow.steering.case_count()


def add_users(services: CaseServices, now: datetime) -> dict[str, str]:
    """The demonstration's users, with its password, and their API tokens; those that exist
    are left alone."""
    added = {}
    for a in STAFF.all():
        try:
            token = add_user(services.engine, services.registry, name=a.user,
                             institution=a.institution, role=a.role.value, now=now)
        except CaseError:
            continue
        set_password(services.engine, a.user, DEMO_PASSWORD)
        added[a.user] = token
    return added


def load(services: CaseServices, clock: Clock, options: Options = Options(),
         progress: Progress | None = None) -> LoadReport:
    if case_count(services):
        raise NotEmpty("la base contient déjà des cas / the database already has cases")
    day = options.until or datetime.now(UTC).date()
    until = datetime.combine(day, time(0), tzinfo=UTC)
    report = LoadReport(until, cohort_cmfp.review_period(day))
    say = progress or (lambda _what, _share: None)
    # the password hashes (argon2id, made slow on purpose) on the other core meanwhile
    users = ThreadPoolExecutor(1, "demo-users").submit(
        add_users if options.users else lambda *_: {}, services, datetime.now(UTC))
    start = until - timedelta(days=round(365.25 * YEARS))
    clock.now = start
    # seeded simulations, not secrets: the same seed must give the same network
    sim = Sim(services, clock, random.Random(options.seed), until)  # noqa: S311
    people = People(random.Random(options.seed + 1))  # noqa: S311
    placements = Placements(sim, options.seed + 2)
    say("Catalogue : places des années simulées / places of the simulated years", 0.0)
    report.places_added = placements.load(start.date(), day).places_added
    say("Cohortes (signalements) / cohorts (referrals)", 0.0)
    if options.cmfp:
        for plan in cohort_cmfp.plans(sim, day):
            sim.start(plan.at, cohort_cmfp.agent(sim, plan, people, placements))
            report.cases["cmfp"] += 1
    for plan_cii in cohort_cii.plans(sim, start, options.scale):
        sim.start(plan_cii.at, cohort_cii.agent(sim, plan_cii, people, placements))
        report.cases["reseau-cii"] += 1
    for plan_eso in cohort_eso.plans(sim, start, options.scale):
        sim.start(plan_eso.at, cohort_eso.agent(sim, plan_eso, people))
        report.cases["ne-eso"] += 1
    span = (until - start).total_seconds()
    sim.run(lambda now: say("Le réseau vit ses années / the network lives its years",
                            (now - start).total_seconds() / span))
    say("Outbox du passé / the past's outbox", 1.0)
    report.outbox_past = Outbox(services.engine).settle_past(
        until - timedelta(days=WAITING_DAYS), datetime.now(UTC), PAST)
    say("Utilisateurs de démonstration / demonstration users", 1.0)
    report.users_added = users.result()
    report.tally = sim.tally
    return report
