"""A killed worker's flow run would stay "Running" in Prefect for ever (Prefect's runs
without a deployment have no heartbeat that anyone watches). Its rows come back by
themselves (the lease, or at once when a process of the same machine sees it dead:
``relais.cli_work.release_dead_local_workers``); this marks its run ``Crashed``.

A ``relais-actions`` run is orphaned when the worker named in its parameters
- is a process of this machine that no longer exists, or
- holds no outbox row any more while the run has been running for longer than a lease:
  a live worker renews the leases of its batch until it settles each row, so a run whose
  rows all went back (lease expired) or to someone else is nobody's.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.states import Crashed

from .batch import FLOW_NAME

log = logging.getLogger("relais.orchestrator")


def local_pid_dead(worker: str) -> bool:
    """``host:pid#thread`` names a process of this machine that is gone."""
    host, _, rest = worker.partition(":")
    pid = rest.split("#", 1)[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def crash_orphaned_runs(holds_rows: Callable[[str], bool], lease: timedelta,
                        now: datetime | None = None) -> list[str]:
    """Mark ``Crashed`` the running batch runs of dead workers; the names of those marked."""
    now = now or datetime.now(UTC)
    crashed = []
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[FLOW_NAME])),
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(
                type=FlowRunFilterStateType(any_=[StateType.RUNNING, StateType.PENDING]))),
            sort=FlowRunSort.START_TIME_ASC, limit=200)  # sort: the sync client sends null
        for run in runs:
            worker = str(run.parameters.get("worker") or "")
            if not worker:
                continue
            started = run.start_time or run.expected_start_time
            old = started is not None and now - started > lease
            if local_pid_dead(worker) or (old and not holds_rows(worker)):
                client.set_flow_run_state(run.id, Crashed(
                    message=f"worker {worker} disparu / gone: ses lignes reviennent à "
                            "l'outbox / its rows went back to the outbox"), force=True)
                crashed.append(run.name)
    if crashed:
        log.warning("exécutions orphelines marquées Crashed / orphaned runs crashed: %s",
                    crashed)
    return crashed
