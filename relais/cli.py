"""The ``relais`` command line."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import typer

from relais.workflows.engine import diagram
from relais.workflows.engine.model import Route
from relais.workflows.engine.validate import parse_route

from .cli_catalogue import programmes_app
from .cli_ops import audit_app, cases_app, db_app, operations, users_app
from .cli_outbox import outbox_app
from .cli_work import work
from .settings import settings

app = typer.Typer(help="Relais — collaboration interinstitutionnelle (CII) / CII workflow engine",
                  no_args_is_help=True, add_completion=False)
routes_app = typer.Typer(help="Routes : valider, afficher, dessiner, publier / routes",
                         no_args_is_help=True)


def _version(asked: bool) -> None:
    if asked:
        typer.echo(f"relais-cii {version('relais-cii')}")
        raise typer.Exit


@app.callback()
def _options(show_version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="la version installée / the installed version")] = False) -> None:
    """Relais — collaboration interinstitutionnelle (CII) / CII workflow engine"""


app.add_typer(routes_app, name="routes")
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(cases_app, name="cases")
app.add_typer(users_app, name="users")
app.add_typer(programmes_app, name="programmes")
app.add_typer(outbox_app, name="outbox")
app.registered_commands += operations.registered_commands + work.registered_commands

Files = Annotated[list[Path], typer.Argument(help="route files (YAML)")]


def _read(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"{path}:1: : fichier illisible / cannot read file ({exc.__class__.__name__})")
        return None


def _texts(files: list[Path]) -> Iterator[tuple[Path, str | None]]:
    """Each file's text, or None (already reported) when it cannot be read."""
    for path in files:
        yield path, _read(path)


def _load(path: Path) -> Route:
    text = _read(path)
    if text is None:
        raise typer.Exit(1)
    route, problems = parse_route(text)
    for p in problems:
        typer.echo(p.render(str(path), settings().lang))
    if route is None:
        raise typer.Exit(1)
    return route


@routes_app.command("validate")
def routes_validate(files: Files) -> None:
    """Check route files without publishing: one line per problem, exit 1 if any."""
    failed = False
    for path, text in _texts(files):
        if text is None:
            failed = True
            continue
        _, problems = parse_route(text)
        for p in problems:
            typer.echo(p.render(str(path), settings().lang))
        failed = failed or bool(problems)
    raise typer.Exit(1 if failed else 0)


@routes_app.command("show")
def routes_show(file: Path, lang: str = "fr") -> None:
    """Print a route: states, owners, deadlines, transitions."""
    r = _load(file)
    typer.echo(f"{r.title.get(lang) or r.title['fr']}  [{r.id} v{r.version}]  "
               f"calendrier {r.calendar}  institutions {', '.join(r.institutions)}")
    for name, s in r.states.items():
        mark = "◉" if name == r.initial else ("■" if s.final else "○")
        owner = ", ".join(s.owner) if s.owner else "—"
        extra = f"  délai {s.deadline} → {s.on_deadline}" if s.deadline else ""
        acts = f"  actions {', '.join(s.actions)}" if s.actions else ""
        typer.echo(f"  {mark} {name:<20} {s.title.get(lang) or s.title['fr']:<40} "
                   f"responsable {owner}{extra}{acts}")
    for t in r.transitions:
        bits = [f"si {t.guard.text}" if t.guard else "",
                f"exige {', '.join(t.require)}" if t.require else "",
                f"transfert → {t.lead}" if t.lead else "",
                f"signatures {', '.join(t.signoff)}" if t.signoff else ""]
        typer.echo(f"    {t.event:<20} {', '.join(t.sources)} → {t.target}  "
                   + "  ".join(b for b in bits if b))


@routes_app.command("diagram")
def routes_diagram(file: Path,
                   fmt: Annotated[str, typer.Option("--format", help="svg | mermaid")] = "svg",
                   current: Annotated[str | None, typer.Option(help="state to highlight")] = None,
                   output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
                   lang: str = "fr") -> None:
    """Draw a route as SVG (no Graphviz needed) or Mermaid."""
    r = _load(file)
    if current is not None and current not in r.states:
        typer.echo(f"état inconnu « {current} » / unknown state", err=True)
        raise typer.Exit(2)
    if fmt not in ("svg", "mermaid"):
        typer.echo("--format svg | mermaid", err=True)
        raise typer.Exit(2)
    text = diagram.svg(r, current, lang) if fmt == "svg" else diagram.mermaid(r, current, lang)
    if output:
        output.write_text(text, "utf-8")
    else:
        sys.stdout.write(text)


@routes_app.command("publish")
def routes_publish(files: Files, by: str = "coordination") -> None:
    """Validate and publish route files into the database."""
    from relais.cases.domain.errors import Conflict
    from relais.cases.store.route_book import InvalidRoute

    from .wiring import build_services
    services = build_services()
    failed = False
    for path, text in _texts(files):
        if text is None:
            failed = True
            continue
        try:
            route, new = services.publish_route(text, by=by)
        except InvalidRoute as exc:
            for p in exc.problems:
                typer.echo(p.render(str(path), settings().lang))
            failed = True
        except Conflict as exc:
            typer.echo(f"{path}:1: version: {exc.message}")
            failed = True
        else:
            state = "publiée / published" if new else "déjà publiée, identique / already published"
            typer.echo(f"{route.id} v{route.version}: {state}")
    raise typer.Exit(1 if failed else 0)


@routes_app.command("migrate")
def routes_migrate(route_id: str,
                   from_version: Annotated[int, typer.Option("--from")],
                   to_version: Annotated[int, typer.Option("--to")],
                   maps: Annotated[list[str] | None, typer.Option(
                       "--map", help="OLD=NEW for a state that changed name")] = None,
                   apply: Annotated[bool, typer.Option(help="record it (default: dry run)")]
                   = False,
                   by: str = "coordination",
                   reason: str = "migration de route / route migration") -> None:
    """Move the open cases of a route version onto a newer one (dry run first)."""
    from relais.cases.domain.actors import Actor
    from relais.institutions.registry import Kind, Role

    from .wiring import build_services
    mapping = {}
    for item in maps or []:
        old, sep, new = item.partition("=")
        if not sep or not old or not new:
            typer.echo(f"--map attend ANCIEN=NOUVEAU, pas « {item} » / expects OLD=NEW",
                       err=True)
            raise typer.Exit(2)
        mapping[old] = new
    from relais.cases.domain.errors import CaseError
    services = build_services()
    actor = Actor(by, services.policy.coordination, Kind.CII, Role.coordinator)
    try:
        report = services.migrate_cases(route_id, from_version, to_version, mapping=mapping,
                                        actor=actor, reason=reason, apply=apply)
    except CaseError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    for (old, new), n in sorted(report.moves.items()):
        typer.echo(f"  {old} → {new} : {n} cas")
    for case_id, message in report.problems:
        typer.echo(f"  {case_id} : {message}")
    done = "migrés / migrated" if apply else "à migrer (essai) / would migrate (dry run)"
    typer.echo(f"{sum(report.moves.values())} cas {done}, {len(report.problems)} problème(s)")
    raise typer.Exit(1 if report.problems else 0)


demo_app = typer.Typer(invoke_without_command=True)  # its help: the callback's docstring
app.add_typer(demo_app, name="demo")


@demo_app.callback()
def demo(ctx: typer.Context,
         seed: Annotated[int, typer.Option(help="the same seed gives the same network")] = 2026,
         until: Annotated[str | None, typer.Option(
             help="ISO date the history ends on (at 00:00 UTC); default: today")] = None,
         scale: Annotated[float, typer.Option(min=0.0, max=10.0, help="size of the reseau-cii "
                                              "and ne-eso cohorts (the CMFP one is the review's)")]
         = 1.0,
         database: Annotated[str | None, typer.Option(help="database URL")] = None) -> None:
    """Fill a database without cases with the demonstration network: years of referrals,
    handoffs, deadlines and outcomes on reseau-cii, cmfp and ne-eso, through the engine."""
    if ctx.invoked_subcommand is not None:
        return
    from datetime import UTC, date, datetime

    from .demo_network import Options
    from .demo_network.console import run
    try:
        day = date.fromisoformat(until) if until else None
    except ValueError:
        typer.echo(f"--until attend une date AAAA-MM-JJ, pas « {until} » / expects an ISO date",
                   err=True)
        raise typer.Exit(2) from None
    if day is not None and day > datetime.now(UTC).date():
        typer.echo("--until : l'histoire ne peut finir qu'aujourd'hui ou avant, sinon le "
                   "système vivrait avant son passé / the history cannot end after today",
                   err=True)
        raise typer.Exit(2)
    raise typer.Exit(run(database, Options(seed=seed, until=day, scale=scale)))


@demo_app.command("journeys")
def demo_journeys(database: Annotated[str | None, typer.Option(help="database URL")] = None
                  ) -> None:
    """Run journeys A, B and C of the CII network through the engine and print them."""
    from .demo import run
    run(database)


if __name__ == "__main__":  # pragma: no cover
    app()
