"""The orchestration's commands: ``relais worker`` and ``relais status``."""

from __future__ import annotations

import os
import signal
import socket
import threading
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine

work = typer.Typer()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@work.command("worker")
def worker(sweep: Annotated[bool, typer.Option(
        help="also sweep deadlines (idempotent: several sweeping workers are safe)")] = True,
           metrics_port: Annotated[int | None, typer.Option(
               help="serve this worker's /metrics (actions, sweeps) on 127.0.0.1:PORT")] = None
           ) -> None:
    """Run actions from the outbox and sweep deadlines, until stopped (SIGTERM, Ctrl-C).

    Scaled set-up: as many of these as needed, on as many machines, against PostgreSQL and
    a Prefect server (PREFECT_API_URL); see docs/scaled.md."""
    from .orchestrator_wiring import build_orchestrator, show_logs
    from .wiring import build_services
    show_logs()
    services = build_services()
    if metrics_port is not None:  # this process's own figures; the database's: the API's
        from prometheus_client import start_http_server
        start_http_server(metrics_port, addr="127.0.0.1")
    release_dead_local_workers(services.engine)
    # a batch of rows per claim, run as one Prefect flow run, its actions side by side
    # (``orchestration.batch``): the leases of the batch are renewed while it runs
    orchestrator = build_orchestrator(services, worker=worker_name(), sweep=sweep)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    typer.echo(f"relais worker {orchestrator.dispatcher.worker} : outbox de "
               f"{services.engine.url.render_as_string()} / dispatching", err=True)
    orchestrator.start()
    done.wait()
    orchestrator.stop()


@work.command("status")
def status(as_json: Annotated[bool, typer.Option("--json", help="one JSON object")] = False
           ) -> None:
    """The outbox (waiting, running, failed) and the timer lag of the last 24 hours."""
    import json

    from relais.cases.store.ops import ops_status

    from .wiring import build_services
    report = ops_status(build_services().engine)
    if as_json:
        typer.echo(json.dumps(report))
        return
    for key, value in report.items():
        typer.echo(f"{key:<28} {value}")


def release_dead_local_workers(engine: Engine) -> int:
    """Rows held by a process of this machine that no longer exists (killed, crashed) go
    back to the outbox at once instead of after their lease: a restarted ``relais serve``
    then resumes its interrupted actions straight away."""
    from relais.cases.store.outbox import Outbox
    outbox, released = Outbox(engine), 0
    for holder in outbox.holders(f"{socket.gethostname()}:"):
        pid = holder.split(":", 1)[1].split("#", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            released += outbox.release_all(holder)
    return released


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
