"""``relais programmes``: load a catalogue of measures, list programmes and their places."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from .settings import settings

programmes_app = typer.Typer(help="Catalogue des mesures : programmes et places / catalogue "
                                  "of measures", no_args_is_help=True)
WORDS = {
    "fr": {"loaded": "{n} programmes : {added} ajoutés, {changed} modifiés ; périodes : "
                     "{p_added} ajoutées, {p_changed} modifiées",
           "programme": "{title} — {provider} ; payeur {payer}, CHF {cost}/mois, {months} mois",
           "period": "places {cap:>4}  occupées {held:>4}  libres {free:>4}  en attente "
                     "{waiting:>4}",
           "totals": "places au {day} : {parts} ; total {total}"},
    "en": {"loaded": "{n} programmes: {added} added, {changed} changed; periods: {p_added} "
                     "added, {p_changed} changed",
           "programme": "{title} — {provider}; payer {payer}, CHF {cost}/month, {months} months",
           "period": "places {cap:>4}  held {held:>4}  free {free:>4}  waiting {waiting:>4}",
           "totals": "places on {day}: {parts}; total {total}"},
}


def _say(key: str, **values: object) -> str:
    return WORDS["en" if settings().lang == "en" else "fr"][key].format(**values)


@programmes_app.command("load")
def programmes_load(file: Path) -> None:
    """Validate a catalogue file against the published routes and load it: new programmes
    and periods are added, changed ones updated; free places go to who waits."""
    from relais.cases.catalogue_services import MeasureServices
    from relais.cases.domain.errors import Conflict
    from relais.conventions.catalogue_file import parse_catalogue

    from .wiring import build_services
    try:
        text = file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"{file}:1: : fichier illisible / cannot read file ({exc.__class__.__name__})")
        raise typer.Exit(1) from None
    services = build_services()
    measures = MeasureServices(services)
    programmes, problems = parse_catalogue(text, measures.route_fields(), services.registry)
    for p in problems:
        typer.echo(p.render(str(file), settings().lang))
    if programmes is None:
        raise typer.Exit(1)
    try:
        report = measures.load(programmes)
    except Conflict as exc:
        typer.echo(f"{file}: {exc.message}")
        raise typer.Exit(1) from None
    typer.echo(_say("loaded", n=len(programmes), added=len(report.added),
                    changed=len(report.changed), p_added=report.places_added,
                    p_changed=report.places_changed))


@programmes_app.command("list")
def programmes_list(at: Annotated[str | None, typer.Option(
        help="only the period covering this day (YYYY-MM-DD), with totals by type")] = None,
                    ) -> None:
    """Programmes, and for each period its places: capacity, held, free, waiting."""
    from relais.cases.catalogue_queries import occupancy_of

    from .wiring import build_services
    day = None
    if at is not None:
        try:
            day = date.fromisoformat(at)
        except ValueError:
            typer.echo(f"--at attend AAAA-MM-JJ, pas « {at} » / expects YYYY-MM-DD", err=True)
            raise typer.Exit(2) from None
    figures = occupancy_of(build_services(), start=day, end=day)
    totals: Counter[str] = Counter()
    shown: set[str] = set()
    for programme, o in figures:
        if programme.code not in shown:
            shown.add(programme.code)
            title = programme.title.get(settings().lang) or programme.title["fr"]
            typer.echo(f"{programme.code:<30} {programme.type:<20} " + _say(
                "programme", title=title, provider=programme.provider, payer=programme.payer,
                cost=programme.unit_cost_chf, months=programme.duration_months))
        typer.echo(f"    {o.period.start} – {o.period.end}  " + _say(
            "period", cap=o.capacity, held=o.occupied, free=o.free, waiting=o.waiting))
        totals[str(programme.type)] += o.capacity
    if day is not None:
        parts = ", ".join(f"{kind} {n}" for kind, n in sorted(totals.items()))
        typer.echo(_say("totals", day=day, parts=parts, total=sum(totals.values())))
