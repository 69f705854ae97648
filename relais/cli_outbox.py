"""``relais outbox``: the operator's hands on the actions' queue. A failed action is run
again, or a waiting one cancelled, by a command that says who and why in the row, instead of
an ``UPDATE`` typed into psql."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

outbox_app = typer.Typer(help="Les actions en file : lister, relancer, annuler / the outbox",
                         no_args_is_help=True)

Ids = Annotated[list[int] | None, typer.Argument(help="row ids (relais outbox list)")]
Reason = Annotated[str, typer.Option(help="why (kept in the row)")]
By = Annotated[str | None, typer.Option(help="who (default: the system user)")]


def _rows() -> Any:
    from relais.cases.store.outbox import Outbox

    from .wiring import build_services
    return Outbox(build_services().engine)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@outbox_app.command("list")
def outbox_list(status: Annotated[str | None, typer.Option(
                    help="pending, dispatched, done, failed or cancelled")] = None,
                limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
                as_json: Annotated[bool, typer.Option("--json", help="one JSON array")] = False
                ) -> None:
    """The most recent rows, newest first."""
    from relais.cases.store.outbox import LISTED
    if status is not None and status not in LISTED:
        typer.echo(f"statut inconnu « {status} » ; possibles : {', '.join(LISTED)} / unknown "
                   f"status", err=True)
        raise typer.Exit(2)
    with _rows().operator(write=False) as rows:
        found = rows.listing(status, limit)
    if as_json:
        typer.echo(json.dumps([{k: _plain(v) for k, v in r.items()} for r in found],
                              ensure_ascii=False))
        return
    for r in found:
        error = (r["last_error"] or "").splitlines()[0][:80] if r["last_error"] else ""
        typer.echo(f"{r['id']:>7}  {r['status']:<10} {r['action']:<22} {r['attempts']:>2}×  "
                   f"{_plain(r['created_at'])}  {r['case_id']}  {error}")


def _chosen(ids: list[int] | None, every: bool, status: str, rows: Any) -> list[int]:
    if every == bool(ids):
        typer.echo("des numéros de ligne, ou --all-failed / row ids, or --all-failed", err=True)
        raise typer.Exit(2)
    return rows.ids_with(status) if every else list(ids or [])


def _report(done: list[int], asked: list[int], verb: str) -> None:
    typer.echo(f"{len(done)} ligne(s) {verb} : {', '.join(map(str, done)) or '-'}")
    skipped = sorted(set(asked) - set(done))
    if skipped:
        typer.echo(f"sans effet (introuvables ou dans un autre statut) / left as they were: "
                   f"{', '.join(map(str, skipped))}", err=True)
        raise typer.Exit(1)


def _operate(verb: str, ids: list[int] | None, every_failed: bool, reason: str,
             by: str | None, said: str) -> None:
    """Retry or cancel the chosen rows in one transaction, on record with who and why."""
    if not reason.strip():
        typer.echo("--reason est requis / --reason is required", err=True)
        raise typer.Exit(2)
    with _rows().operator() as rows:
        asked = _chosen(ids, every_failed, "failed", rows)
        done = getattr(rows, verb)(asked, by=by or getpass.getuser(), reason=reason,
                                   now=datetime.now(UTC))
    _report(done, asked, said)


@outbox_app.command("retry")
def outbox_retry(ids: Ids = None, reason: Reason = "", by: By = None,
                 all_failed: Annotated[bool, typer.Option(
                     "--all-failed", help="every failed row")] = False) -> None:
    """Run failed (or cancelled) actions again, from their first attempt; the effects ledger
    keeps what they already did from being done twice."""
    _operate("retry", ids, all_failed, reason, by, "relancée(s) / retried")


@outbox_app.command("cancel")
def outbox_cancel(ids: Ids = None, reason: Reason = "", by: By = None) -> None:
    """Cancel waiting or failed actions (not one a worker is running)."""
    _operate("cancel", ids, False, reason, by, "annulée(s) / cancelled")
