"""The orchestration's commands: ``relais worker`` and ``relais status``."""

from __future__ import annotations

import os
import signal
import socket
import threading
from typing import Annotated

import typer

work = typer.Typer()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@work.command("worker")
def worker(sweep: Annotated[bool, typer.Option(
        help="also sweep deadlines (idempotent: several sweeping workers are safe)")] = True
           ) -> None:
    """Run actions from the outbox and sweep deadlines, until stopped (SIGTERM, Ctrl-C).

    Scaled set-up: as many of these as needed, on as many machines, against PostgreSQL and
    a Prefect server (PREFECT_API_URL); see docs/scaled.md."""
    from .orchestration import build_orchestrator, show_logs
    from .wiring import build_services
    show_logs()
    services = build_services()
    # one row per claim: beside other workers, a claimed batch would wait in this process
    # while they idle, and its last rows' leases could run out before they start (another
    # worker then runs them too, and this one loses them)
    orchestrator = build_orchestrator(services, worker=worker_name(), sweep=sweep, batch=1)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    typer.echo(f"relais worker {orchestrator.dispatcher.worker} : outbox de "
               f"{services.engine.url.render_as_string()} / dispatching", err=True)
    orchestrator.start()
    done.wait()
    orchestrator.stop()


@work.command("status")
def status() -> None:
    """The outbox (waiting, running, failed) and the timer lag of the last 24 hours."""
    from cases.store.ops import ops_status

    from .wiring import build_services
    report = ops_status(build_services().engine)
    for key, value in report.items():
        typer.echo(f"{key:<28} {value}")
