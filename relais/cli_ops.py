"""The operator's commands: database, audit, cases, users, the server and the sweep."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from relais.i18n import tr
from relais.workflows.engine import diagram

db_app = typer.Typer(help="Base de données / database", no_args_is_help=True)
audit_app = typer.Typer(help="Historique inviolable / tamper-evident history",
                        no_args_is_help=True)
cases_app = typer.Typer(help="Cas / cases", no_args_is_help=True)
users_app = typer.Typer(help="Utilisateurs et jetons / users and tokens", no_args_is_help=True)
operations = typer.Typer()  # serve and sweep, added at the top level by relais.cli


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations and publish the standard routes."""
    from .wiring import build_services
    url = build_services().engine.url.render_as_string()  # the password shown as ***
    typer.echo(f"base à jour / database up to date: {url}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check every case's hash chain and replay, the ledger of people, documents, consents,
    exchanges and reads, and the signed checkpoints; one line a problem, exit 1 if any."""
    from relais.cases.store.audit import verify

    from .settings import settings
    from .wiring import build_services
    lang = settings().lang
    report = verify(build_services().engine, key=_key(make=False))
    for line in [f.message(lang) for f in report.findings + report.notes]:
        typer.echo(line)
    n = len(report.findings) + bool(report.unchecked)  # checkpoints unchecked: a problem here
    state = (tr(lang, "%(n)d problem(s)") % {"n": n}) if n else tr(lang, "intact")
    typer.echo(tr(lang, "%(cases)d cases, %(events)d events: %(state)s")
               % {"cases": report.cases, "events": report.events, "state": state})
    raise typer.Exit(1 if n else 0)


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign every chain head with the audit key (RELAIS_AUDIT_KEY or var/audit_key, made
    once); refused, exit 1, when what the last checkpoint signed no longer holds."""
    from relais.cases.store.checkpoints import take

    from .settings import settings
    from .wiring import build_services
    lang = settings().lang
    key = _key(make=True)
    assert key is not None, "made when absent"
    made, problems = take(build_services().engine, key, datetime.now(UTC))
    for p in problems:
        typer.echo(p.message(lang))
    if made is None:
        typer.echo(tr(lang, "checkpoint refused"))
        raise typer.Exit(1)
    typer.echo(tr(lang, "checkpoint %(id)s of %(at)s: %(cases)s cases")
               % {"id": made.id, "at": made.at, "cases": made.body["cases"]})


def _key(*, make: bool) -> bytes | None:
    from .audit_key import audit_key
    try:
        return audit_key(make=make)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


@cases_app.command("show")
def cases_show(case_id: str,
               svg: Annotated[Path | None, typer.Option(help="draw the route to this file, "
                                                        "the case's state highlighted")] = None
               ) -> None:
    """Print a case: state, lead, deadline, pending handoff, and its history."""
    from relais.cases.domain.errors import NotFound
    from relais.institutions.dates import deadline_end, swiss_date

    from .wiring import build_services
    services = build_services()
    try:
        case = services.get(case_id)
    except NotFound as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    route = services.route_of(case)
    typer.echo(f"{case.id}  {route.title['fr']} v{route.version}  état {case.state}  "
               f"responsable {case.lead}  version {case.version}  délai "
               f"{deadline_end(case.deadline.due_at)} ({case.deadline.status})"
               + (f"  transfert en attente → {case.handoff.receiver}" if case.handoff else "")
               + (f"  clos : {case.outcome or '—'}" if case.closed_at else "")
               + (f"  TOURNIQUET : {case.revolving_door}" if case.revolving_door else ""))
    for e in services.history(case_id):
        move = f"{e.from_state or ''} → {e.to_state}" if e.to_state else ""
        typer.echo(f"  #{e.seq:<3} {swiss_date(e.at)} {e.kind:<19} {e.event or '':<16} "
                   f"{move:<30} {e.institution:<8} {e.actor}")
    if svg:
        svg.write_text(diagram.svg(route, case.state), "utf-8")


@users_app.command("add")
def users_add(name: str,
              institution: Annotated[str, typer.Option(help="institution code, e.g. ORP-NE")],
              role: Annotated[str, typer.Option(help="case_manager | coordinator | steering | "
                                                     "admin")]) -> None:
    """Create a user and print its token, once: it is stored hashed."""
    from relais.cases.domain.errors import CaseError
    from relais.cases.store.users import add_user

    from .wiring import build_services
    s = build_services()
    try:
        token = add_user(s.engine, s.registry, name=name, institution=institution, role=role,
                         now=datetime.now(UTC))
    except CaseError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    typer.echo(token)


@users_app.command("password")
def users_password(name: str) -> None:
    """Set a user's password for the pages (asked twice, never shown; argon2id hash)."""
    from relais.cases.domain.errors import CaseError
    from relais.cases.store.users import set_password

    from .wiring import build_services
    password = typer.prompt("Mot de passe / password", hide_input=True,
                            confirmation_prompt=True)
    try:
        set_password(build_services().engine, name, password)
    except (CaseError, ValueError) as exc:
        typer.echo(getattr(exc, "message", str(exc)), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{name} : mot de passe enregistré / password set")


@users_app.command("revoke")
def users_revoke(name: str) -> None:
    """Revoke a user's token at once."""
    from relais.cases.domain.errors import CaseError
    from relais.cases.store.users import revoke_user

    from .wiring import build_services
    try:
        revoke_user(build_services().engine, name, datetime.now(UTC))
    except CaseError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{name} : jeton révoqué / token revoked")


@users_app.command("list")
def users_list() -> None:
    """The users, their institution and role (never their token)."""
    from relais.cases.store.users import list_users

    from .wiring import build_services
    for u in list_users(build_services().engine):
        typer.echo(f"{u.name:<24} {u.institution:<8} {u.role:<13} "
                   f"{'révoqué / revoked' if u.revoked else 'actif / active'}")


@operations.command("serve")
def serve(host: str = "127.0.0.1", port: int = 8000,
          workers: Annotated[int, typer.Option(min=1, max=32, help="worker processes")] = 1,
          orchestrate: Annotated[bool | None, typer.Option(
              help="run the actions and the deadline sweep in this process (default: "
                   "RELAIS_ORCHESTRATE, true); off when `relais worker` processes do it")] = None,
          demo: Annotated[bool, typer.Option(
              "--demo", help="load the demonstration network first if the database has no "
                             "case (see `relais demo`)")] = False
          ) -> None:
    """Run the HTTP API (migrating the database first) and, embedded, the orchestration."""
    import uvicorn

    from relais.cases.store.users import list_users

    from .cli_work import release_dead_local_workers, worker_name
    from .orchestrator_wiring import build_orchestrator, show_logs
    from .settings import settings
    from .wiring import build_app, build_services, proxy_options
    services = build_services()  # migrates once, here, before any worker starts
    if demo:
        from .demo_network.console import load_if_empty
        load_if_empty(services.engine)
    if not list_users(services.engine):
        typer.echo("Aucun utilisateur encore : relais users add NOM --institution ORP-NE "
                   "--role case_manager, puis relais users password NOM pour les pages ; ou "
                   "relais serve --demo sur une base vide / no user yet: add one and give it "
                   "a password, or start with --demo on an empty database", err=True)
    show_logs()  # the API's lines and the orchestration's, in the format of the settings
    orchestrator = None
    if settings().orchestrate if orchestrate is None else orchestrate:
        release_dead_local_workers(services.engine)
        orchestrator = build_orchestrator(services, worker=worker_name())
        orchestrator.start()  # threads: the API never waits for Prefect
    try:
        proxies = proxy_options(settings().trusted_proxies)
        if workers == 1:
            uvicorn.run(build_app(services, orchestrator.alive if orchestrator else None),
                        host=host, port=port, log_level="info", log_config=None,
                        **proxies)  # type: ignore[arg-type]
        else:
            uvicorn.run("relais.asgi:app", factory=True, host=host, port=port, workers=workers,
                        log_level="info", log_config=None, **proxies)  # type: ignore[arg-type]
    finally:
        if orchestrator is not None:  # an action cut short is run again from the outbox
            orchestrator.stop(timeout=5)


@operations.command("sweep")
def sweep(now: Annotated[str | None, typer.Option(help="ISO date-time; default: now")] = None
          ) -> None:
    """Handle every deadline due (once; the orchestration schedules it)."""
    from .wiring import build_services
    at = datetime.fromisoformat(now) if now else datetime.now(UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    report = build_services().sweep_deadlines(at)
    events = f"{report.events} événement{'s' if report.events > 1 else ''}"
    typer.echo(f"{report.handled} cas traité{'s' if report.handled > 1 else ''}, {events}, "
               f"{report.skipped} ignoré{'s' if report.skipped > 1 else ''} / cases handled, "
               f"events, skipped")
