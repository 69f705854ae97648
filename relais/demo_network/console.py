"""``relais demo``: load the network with a progress bar, then say what it holds, the period
for which the CMFP review's table holds, and how to look at it."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from relais.cases.catalogue_queries import occupancy_of
from relais.cases.services import CaseServices
from relais.cases.steering import BREACHES
from relais.cases.store.ops import ops_status
from relais.cases.store.steering import Scope
from relais.cases.store.uow import unit_of_work
from relais.institutions.dates import swiss_date

from ..demo import Clock
from ..wiring import build_services
from .loader import Options, case_count, load
from .people import DEMO_PASSWORD, STAFF

ROUTES = ("reseau-cii", "cmfp", "ne-eso")
LABELS = {"cfc_afp": "CFC/AFP", "apprentissage": "apprentissages", "emploi": "emplois",
          "structure_adaptee": "structures adaptées"}


def load_if_empty(engine: Engine) -> None:
    """``relais serve --demo``: the network, unless the database already has cases."""
    existing = case_count(build_services(engine=engine, migrate=False))
    if existing:
        typer.echo(f"--demo : la base a déjà {existing} cas, pas de réseau de démonstration / "
                   f"the database already has cases: skipping the demonstration network")
        return
    run(None, Options(), engine=engine)


def run(database: str | None, options: Options, *, engine: Engine | None = None) -> int:
    """Load the network into the database (``engine``: one already migrated)."""
    began = time.perf_counter()
    clock = Clock(datetime.now(UTC))
    columns = (TextColumn("{task.description:<58}"), BarColumn(),
               TextColumn("{task.percentage:>3.0f} %"), TimeElapsedColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("Migrations et routes / migrations and routes", total=1000)
        services = build_services(database, clock=clock, engine=engine,
                                  migrate=engine is None)
        existing = case_count(services)
        if existing:
            bar.stop()
            typer.echo(f"La base contient déjà {existing} cas : la démonstration ne se charge que "
                       f"dans une base sans cas (`relais demo journeys` montre les parcours A, B "
                       f"et C) / the database already has cases: the demonstration loads only "
                       f"into one without cases.", err=True)
            return 1

        def say(what: str, share: float) -> None:
            bar.update(task, description=what, completed=round(share * 1000))

        report = load(services, clock, options, progress=say)
        say("Fait / done", 1.0)
    url = services.engine.url.render_as_string()
    took = time.perf_counter() - began
    typer.secho(f"\nRéseau de démonstration chargé dans {url} en {took:.0f} s : histoire "
                f"simulée jusqu'au {swiss_date(report.until - timedelta(days=1))} "
                f"inclus (graine {options.seed}) / demonstration network loaded", bold=True)
    _routes(services, report.until)
    _review(services, report.review, report.users_added.get(STAFF.steering.user))
    _catalogue(services, report.until.date(), report.tally["measure_waitlisted"])
    _users(report.users_added)
    pending = ops_status(services.engine)["outbox_pending"]
    typer.echo(f"Outbox : {report.outbox_past} actions du passé marquées faites sans être "
               f"exécutées ; {pending} des derniers jours attendent : `relais serve` les exécute "
               f"/ past actions marked done without running; the last days' wait for the "
               f"live system")
    return 0


def _routes(services: CaseServices, until: datetime) -> None:
    with unit_of_work(services.engine, write=False) as uow:
        store = uow.steering
        for route in ROUTES:
            scope = Scope(datetime(2000, 1, 1, tzinfo=UTC), until + timedelta(days=1), route)
            opened = sum(store.referred(scope).values())
            closed = store.closed(scope)
            still = sum(store.open_at_end(scope).values())
            kinds = store.by_state(scope, (*BREACHES, "handoff_refused"))
            by_kind: Counter[str] = Counter()
            for (kind, _, _), n in kinds.items():
                by_kind[kind] += n
            _, revolving = store.lead_changes(scope)
            typer.echo(f"  {route:<11} {opened:>4} cas / cases : {still:>4} ouverts / open, "
                       f"{sum(closed.values()):>4} clos / closed ; {by_kind['handoff_refused']:>3}"
                       f" transferts refusés / handoffs refused, "
                       f"{sum(by_kind[k] for k in BREACHES):>4} délais dépassés / "
                       f"deadline breaches, {revolving:>3} tourniquets / revolving door")


def _review(services: CaseServices, period: tuple[date, date], token: str | None) -> None:
    first, last = period
    scope = Scope(datetime.combine(first, datetime.min.time(), UTC),
                  datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC), "cmfp")
    with unit_of_work(services.engine, write=False) as uow:
        referred = sum(uow.steering.referred(scope).values())
        still = sum(uow.steering.open_at_end(scope).values())
        closed = uow.steering.closed(scope)
    outcomes = Counter({o: n for (_, o), n in closed.items() if o})
    outside = sum(n for (_, o), n in closed.items() if o is None)
    typer.secho(f"\nTableau de la revue CMFP (Neuchâtel 2009–2013), du {swiss_date(first)} au "
                f"{swiss_date(last)} / the CMFP review's table:", bold=True)
    typer.echo(f"  {referred} dossiers signalés, {still} en suivi, {sum(closed.values())} clos : "
               f"{sum(outcomes.values())} solutions ("
               + ", ".join(f"{outcomes[o]} {label}" for o, label in LABELS.items())
               + f"), {outside} hors critères")
    query = f"from={first.isoformat()}&to={last.isoformat()}&route=cmfp"
    typer.echo(f"  Page : /pilotage?{query} (connecté comme / signed in as "
               f"{STAFF.steering.user})")
    typer.echo(f"  API : GET /api/steering/indicators?from={first.isoformat()}&to="
               f"{last.isoformat()}&route=cmfp ; chiffres publiés arrondis à 5 / published "
               "figures rounded to 5")
    if token:
        typer.echo(f"  jeton API de {STAFF.steering.user}, montré cette fois seulement / "
                   f"API token, shown once: {token}")


def _catalogue(services: CaseServices, day: date, waitlisted: int) -> None:
    """The places of the programmes on the live system's first day, by type, and what the
    history's plans asked of the catalogue."""
    held: dict[str, Counter[str]] = {}
    for p, o in occupancy_of(services, start=day, end=day):
        held.setdefault(str(p.type), Counter()).update(
            capacity=o.capacity, occupied=o.occupied, waiting=o.waiting)
    payers: Counter[str] = Counter()
    for _, o in occupancy_of(services):
        payers.update(o.assignments_by_payer)
    typer.secho(f"\nCatalogue des mesures au {swiss_date(day)} / the catalogue's places:",
                bold=True)
    for kind, c in sorted(held.items()):
        typer.echo(f"  {kind:<20} {c['capacity']:>3} places, {c['occupied']:>3} occupées / held, "
                   f"{c['waiting']:>3} en attente / waiting")
    typer.echo(f"  Histoire : {sum(payers.values())} mesures attribuées ("
               + ", ".join(f"{n} {payer}" for payer, n in sorted(payers.items()))
               + f"), {waitlisted} mises en liste d'attente / assignments by payer, waiting "
               f"lists joined ; page : /mesures")


def _users(added: dict[str, str]) -> None:
    typer.secho(f"\nUtilisateurs de démonstration, mot de passe de la démonstration : "
                f"{DEMO_PASSWORD} / demonstration users and password:", bold=True)
    for a in STAFF.all():
        note = "" if a.user in added else "  (existait déjà : laissé tel quel / already there)"
        typer.echo(f"  {a.user:<11} {a.institution:<8} {a.role.value}{note}")
