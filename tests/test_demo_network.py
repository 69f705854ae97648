"""The demonstration network (``relais demo``): loaded through the case services on a
simulated clock, reproducible, its invariants intact, and its CMFP cohort giving the
Neuchâtel review's table back through the steering figures."""

from __future__ import annotations

import hashlib
import html
import os
import random
import re
import subprocess
import sys
from collections import Counter
from contextlib import closing
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis.strategies import dates, integers
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from relais.cases import steering
from relais.cases.catalogue_queries import occupancy_of, steering_occupancy
from relais.cases.catalogue_services import MeasureServices
from relais.cases.services import CaseServices
from relais.cases.store.audit import verify
from relais.cases.store.outbox import Outbox
from relais.cases.store.steering import Scope
from relais.cases.store.tables import case_t, consent_t, deadline_t, event_t, outbox_t
from relais.cases.store.uow import unit_of_work
from relais.cases.store.users import actor_for_password, list_users
from relais.conventions.catalogue import Period, Places
from relais.db import make_engine
from relais.demo import Clock, avs
from relais.demo_network import NotEmpty, Options, load
from relais.demo_network.loader import PAST, WAITING_DAYS
from relais.demo_network.people import DEMO_PASSWORD, STAFF
from relais.demo_network.places import demo_programmes
from relais.demo_network.scheduler import Sim
from relais.institutions.calendar import calendar
from relais.migrate import upgrade
from relais.wiring import publish_standard_routes
from relais.workflows.engine.durations import Duration
from tests.api_server import running
from tests.browser import signed_in_client
from tests.conftest import ORP, PERSON

UNTIL = date(2026, 3, 2)  # the history ends on Monday 2 March 2026, 00:00 UTC
END = datetime(2026, 3, 2, tzinfo=UTC)
SMALL = Options(until=UNTIL, scale=0.05, cmfp=False)  # ~21 reseau-cii, ~10 ne-eso cases


def fresh(path: Path) -> tuple[CaseServices, Clock]:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    clock = Clock(END)
    services = CaseServices(engine, clock=clock)
    publish_standard_routes(services)
    return services, clock


def fingerprint(engine: Engine) -> str:
    """The history without its random ids (case and handoff ids, hashes): what was done,
    by whom, when, to which person."""
    with engine.connect() as conn:
        rows = conn.execute(select(case_t.c.route_id, case_t.c.person_id, event_t.c.seq,
                                   event_t.c.kind, event_t.c.event, event_t.c.from_state,
                                   event_t.c.to_state, event_t.c.institution, event_t.c.actor,
                                   event_t.c.at, event_t.c.reason)
                            .join(case_t, case_t.c.id == event_t.c.case_id))
        lines = sorted(repr(tuple(r)) for r in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


@pytest.mark.slow  # a year of a small network through the engine: seconds
def test_a_small_network_loads_and_every_invariant_holds(services: CaseServices,
                                                         clock: Clock) -> None:
    report = load(services, clock, SMALL)
    assert report.cases["reseau-cii"] > 10 and report.cases["ne-eso"] > 5
    assert "cmfp" not in report.cases
    assert report.tally["handoff_accepted"] > 0 and report.tally["transitioned"] > 0
    audit = verify(services.engine)
    assert audit.ok, audit.problems[:5]
    with services.engine.connect() as conn:
        # every referral to the coordination carries the person's consent to the network
        referred = set(conn.execute(select(event_t.c.case_id).where(
            event_t.c.event == "transmettre")).scalars())
        consented = set(conn.execute(select(consent_t.c.case_id).where(
            consent_t.c.recorded_by_institution.is_not(None))).scalars())
        open_cases = list(conn.execute(select(case_t).where(case_t.c.closed_at.is_(None))))
        pending = list(conn.execute(select(outbox_t).where(outbox_t.c.status == "pending")))
        latest = conn.execute(select(event_t.c.at).order_by(event_t.c.at.desc())).first()
    assert referred and referred <= consented
    assert open_cases, "some cases are still followed when the history ends"
    for case in open_cases:  # exactly one lead: an institution that may lead on its route
        route = services.route_of(services.get(case.id))
        assert services.registry.matches(case.lead, route.institutions), case.lead
    assert latest is not None and latest[0].replace(tzinfo=UTC) < END
    waiting_since = END - timedelta(days=WAITING_DAYS)
    assert all(r.created_at.replace(tzinfo=UTC) >= waiting_since for r in pending)
    # the users, one of each kind, sign in with the demonstration's password
    assert set(report.users_added) == {a.user for a in STAFF.all()}
    roles = {u.name: (u.institution, u.role.value) for u in list_users(services.engine)}
    assert roles["c.perrin"] == ("CII-NE", "coordinator")
    assert roles["g.pilotage"] == ("CII-NE", "steering")
    assert actor_for_password(services.engine, services.registry, "s.jacot",
                              DEMO_PASSWORD) == STAFF.ofij


def test_it_refuses_a_database_that_already_has_cases(services: CaseServices,
                                                      clock: Clock) -> None:
    services.open_case(route="reseau-cii", person=PERSON, actor=ORP)
    with pytest.raises(NotEmpty):
        load(services, clock, SMALL)


def test_the_same_seed_and_end_give_the_same_network(tmp_path: Path) -> None:
    prints = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        services, clock = fresh(tmp_path / f"{name}.sqlite3")
        load(services, clock, Options(seed=seed, until=UNTIL, scale=0.03, cmfp=False,
                                      users=False))
        prints.append(fingerprint(services.engine))
        services.engine.dispose()
    assert prints[0] == prints[1]
    assert prints[0] != prints[2]


def test_the_past_outbox_is_marked_done_and_the_last_days_wait(services: CaseServices,
                                                               clock: Clock) -> None:
    old = services.open_case(route="reseau-cii", person=PERSON, actor=ORP).case.id
    clock.advance(days=10)
    new = services.open_case(route="reseau-cii", actor=ORP, person={
        **PERSON, "avs": avs(123456789)}).case.id
    outbox = Outbox(services.engine)
    assert outbox.settle_past(clock.now - timedelta(days=1), clock.now, PAST) == 1
    assert outbox.settle_past(clock.now - timedelta(days=1), clock.now, PAST) == 0
    with services.engine.connect() as conn:
        rows = {r.case_id: r for r in conn.execute(select(outbox_t))}
    assert (rows[old].status, rows[old].payload["not_run"]) == ("done", PAST)
    assert rows[old].payload["kind"] == "case_opened"
    assert rows[new].status == "pending" and "not_run" not in rows[new].payload
    assert [w.case_id for w in outbox.claim("w", clock.now)] == [new]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, str]:
    """``relais demo`` run once, the CMFP cohort alone: its database URL, output, errors."""
    folder = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{folder / 'demo.sqlite3'}"
    done = relais_demo(folder, url, "--until", "2026-03-02", "--scale", "0")
    assert done.returncode == 0, done.stderr
    return url, done.stdout, done.stderr


def relais_demo(cwd: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "relais.cli", "demo", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600, check=False,
                          env={**os.environ, "RELAIS_DATABASE_URL": url})


def test_the_cmfp_cohort_gives_the_review_table_back(loaded: tuple[str, str, str]) -> None:
    engine = make_engine(loaded[0])
    services = CaseServices(engine)
    start = datetime(2021, 9, 2, tzinfo=UTC)
    scope = Scope(start, END, "cmfp")
    with unit_of_work(engine, write=False) as uow:
        referred = sum(uow.steering.referred(scope).values())
        followed = sum(uow.steering.open_at_end(scope).values())
        closed = uow.steering.closed(scope)
    outcomes = Counter({o: n for (_, o), n in closed.items() if o is not None})
    assert (referred, followed, sum(closed.values())) == (383, 127, 256)
    assert outcomes == Counter(cfc_afp=28, apprentissage=57, emploi=14, structure_adaptee=58)
    assert {s: n for (s, o), n in closed.items() if o is None} == {"non_retenu": 99}
    figures = steering.indicators(services, start=start, end=END, route="cmfp")
    shown = steering.shown
    assert (figures["referred"], figures["open"], figures["closed"]) == (
        shown(383), shown(127), shown(256))
    assert figures["closed_by_outcome"] == {o: shown(n) for o, n in sorted(outcomes.items())}
    assert figures["outside_criteria"] == shown(99)
    assert figures["refused_at_triage"] == shown(99)  # all of them at the entry check
    audit = verify(engine)
    assert audit.ok, audit.problems[:5]
    with engine.connect() as conn:  # the live system's first sweep finds next to nothing
        overdue = conn.execute(select(deadline_t.c.case_id).where(
            deadline_t.c.status == "open", deadline_t.c.due_at <= END + timedelta(days=1)))
        assert len(list(overdue)) <= 5
    engine.dispose()


def test_relais_demo_prints_the_review_period_and_refuses_a_second_load(
        loaded: tuple[str, str, str], tmp_path: Path) -> None:
    url, out, _ = loaded
    assert "du 02.09.2021 au 01.03.2026" in out
    assert ("383 dossiers signalés, 127 en suivi, 256 clos : 157 solutions (28 CFC/AFP, "
            "57 apprentissages, 14 emplois, 58 structures adaptées), 99 hors critères" in out)
    assert "/api/steering/indicators?from=2021-09-02&to=2026-03-01&route=cmfp" in out
    assert "/pilotage?from=2021-09-02&to=2026-03-01&route=cmfp" in out
    assert DEMO_PASSWORD in out
    again = relais_demo(tmp_path, url, "--until", "2026-03-02")
    assert again.returncode == 1
    assert "la base contient déjà 383 cas" in again.stderr.lower()


def test_relais_demo_journeys_stays_reachable_and_a_bad_date_is_refused() -> None:
    from relais.cli import app
    done = CliRunner().invoke(app, ["demo", "--until", "2.3.2026"])
    assert done.exit_code == 2
    assert "--until attend une date" in done.output
    later = CliRunner().invoke(app, ["demo", "--until", "2999-01-01"])
    assert later.exit_code == 2 and "ne peut finir qu'aujourd'hui ou avant" in later.output
    assert "journeys" in CliRunner().invoke(app, ["demo", "--help"]).output


@settings(max_examples=200, deadline=None)
@given(day=dates(date(2020, 1, 1), date(2030, 12, 31)), days=integers(1, 130),
       seed=integers(0, 2**32))
def test_a_step_done_in_time_falls_in_office_hours_before_its_deadline(
        day: date, days: int, seed: int) -> None:
    cal = calendar("CH-NE")
    start = datetime.combine(cal.on_or_after(day), time(7), tzinfo=cal.zone).astimezone(UTC)
    sim = Sim(CaseServices(make_engine("sqlite://")), Clock(start),
              random.Random(seed), start + timedelta(days=400))
    due = Duration(days, "working_days").due_after(start, cal)
    at = sim.before(due)
    local = at.astimezone(cal.zone)
    assert start < at < due
    assert cal.is_working_day(local.date()) and time(8) <= local.time() <= time(17)


# -- the catalogue of measures ------------------------------------------------------------------

PLACED = Options(until=UNTIL, scale=0.2, cmfp=False)  # ~84 reseau-cii cases: places held at the end
YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))
LAST_DAY = UNTIL - timedelta(days=1)
SEED_2012 = {"occupation": 91, "socio_professionnel": 22, "professionnel": 86}


def test_the_plans_hold_places_this_year_shown_exactly_to_case_workers_and_protected_to_the_steering_group(  # noqa: E501
        services: CaseServices, clock: Clock) -> None:
    report = load(services, clock, PLACED)
    assert report.places_added == 11 * 2 + 11 * 7 - 2  # the seed's own, and 2020–2026
    assert report.tally["measure_started"] > 0 and report.tally["measure_ended"] > 0
    year = occupancy_of(services, start=YEAR.start, end=YEAR.end)
    assert {o.period for _, o in year} == {YEAR} and len(year) == 11
    by_type: dict[str, Counter[str]] = {}
    for p, o in year:
        by_type.setdefault(str(p.type), Counter()).update(
            capacity=o.capacity, occupied=o.occupied, waiting=o.waiting,
            assignments=o.assignments)
    # a fifth of 2012's places (the seed's last year), at least 2 per programme
    assert {t: c["capacity"] for t, c in by_type.items()} == {
        "occupation": 18, "socio_professionnel": 4, "professionnel": 17}
    assert sum(c["occupied"] for c in by_type.values()) > 0
    assert any(payer != p.payer for p, o in year for payer in o.assignments_by_payer), \
        "one plan can mix payers: some of this year's places are paid by AI or SA"
    everything = occupancy_of(services)
    assert all(o.occupied <= o.capacity for _, o in everything)
    shipped = Counter[str]()
    for p, o in everything:
        if o.period.start.year == 2012:
            shipped[str(p.type)] += o.capacity
    assert shipped == SEED_2012  # the seed's periods as the review gives them
    # the steering group: the same counts through the small-count rule, no free places
    published = steering_occupancy(services, start=YEAR.start, end=LAST_DAY)
    assert published["by_type"] == {t: {"capacity": c["capacity"],
                                         "occupied": steering.shown(c["occupied"]),
                                         "waiting": steering.shown(c["waiting"])}
                                     for t, c in sorted(by_type.items())}
    assert all("free" not in p for p in published["programmes"])
    # the page of the live system's first day: the places held, by type
    with running(services) as base, closing(
            signed_in_client(base, STAFF.orp.user, DEMO_PASSWORD)) as client:
        page = html.unescape(client.get("/mesures").text)
    assert "Places par type au 02.03.2026" in page
    labels = {"occupation": "Occupation", "socio_professionnel": "Socio-professionnel",
              "professionnel": "Professionnel"}
    for kind, c in by_type.items():
        cells = re.search(rf"<th scope=\"row\">{labels[kind]}</th>((?:<td[^>]*>[^<]*</td>\s*)+)",
                          page)
        assert cells is not None, kind
        assert re.findall(r">(\d+)<", cells.group(1)) == [
            str(n) for n in (c["capacity"], c["occupied"], c["capacity"] - c["occupied"],
                             c["waiting"], c["assignments"])]


def test_an_operators_periods_are_kept_and_a_full_programme_has_its_waiting_list(
        services: CaseServices, clock: Clock) -> None:
    """One place a year in every programme, loaded before the demonstration: it adds none of
    its own over them, and its plans wait, then take the places the service offers."""
    years = [Places("", Period(date(y, 1, 1), date(y, 12, 31)), 1) for y in range(2020, 2027)]
    measures = MeasureServices(services)
    measures.load([replace(p, places=tuple(replace(pl, programme=p.code) for pl in years))
                   for p in demo_programmes(measures, range(0))])
    report = load(services, clock, replace(SMALL, scale=0.1, users=False))
    demo_years = [o for _, o in occupancy_of(services, start=date(2020, 1, 1))]
    assert {o.capacity for o in demo_years} == {1} and len(demo_years) == 11 * 7
    assert all(o.occupied <= 1 for o in demo_years)
    assert report.tally["measure_waitlisted"] > 0 and report.tally["measure_offered"] > 0
    with services.engine.connect() as conn:
        rows = list(conn.execute(select(event_t.c.kind, event_t.c.data, event_t.c.actor).where(
            event_t.c.kind.in_(["measure_assigned", "measure_started"]))))
    offered = {d["measure"]: who for kind, d, who in rows
               if kind == "measure_assigned" and d["offered"]}
    started = {d["measure"]: who for kind, d, who in rows if kind == "measure_started"}
    assert offered and set(offered.values()) == {services.system.user}  # the service's offers
    confirmed = offered.keys() & started.keys()  # ... each confirmed by the case's lead
    assert confirmed and all(started[m] != services.system.user for m in confirmed)
