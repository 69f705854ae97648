"""The relay as Prefect users run it (issue 15): the rows a worker claimed are ONE flow run
(``relais-actions``) whose task runs are the actions, each with its retries and log lines;
a failed action marks its own row only; the external systems' concurrency limits are
Prefect's; a dead worker's run does not stay Running. Against Prefect's real (ephemeral)
server, read back through its API, as its UI reads it."""

from __future__ import annotations

import itertools
import logging
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.client.schemas.objects import FlowRun, TaskRun
from prefect.client.schemas.sorting import FlowRunSort, LogSort, TaskRunSort
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.states import Running
from sqlalchemy import select

from relais.cases.services import CaseServices
from relais.cases.store.tables import outbox_t
from relais.orchestration import limits
from relais.orchestration.batch import FLOW_NAME
from relais.orchestration.channels import FolderMailer, FolderSms
from relais.orchestration.orchestrator import Orchestrator
from relais.orchestration.orphans import crash_orphaned_runs
from relais.orchestration.runtime import Runtime
from relais.orchestration.sources import Sources
from tests.conftest import ORP, PERSON, refer

T = TypeVar("T")
CONTACT = {"email": "jean.muster@example.org"}


@pytest.fixture
def orchestra(services: CaseServices, tmp_path: Path) -> Iterator[Orchestrator]:
    rt = Runtime(services, FolderMailer(tmp_path / "mail", "relais@cii.ne.example"),
                 FolderSms(tmp_path / "sms"), Sources({"*": "demo"}))
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield Orchestrator(rt, worker=f"batch-{tmp_path.name}", sweep_every_s=None,
                           batch=10)


def cases(services: CaseServices, n: int) -> list[str]:
    """``n`` referrals, each queuing ``notify_institutions`` (three partners)."""
    return [refer(services, route="reseau-cii", actor=ORP, fields={}, person={
        **PERSON, **CONTACT, "avs": avs, "first_name": f"Essai{i}"}).case.id
        for i, avs in enumerate(("756.1234.5678.97", "756.9217.0769.85",
                                 "756.3047.5009.62")[:n])]


def eventually(read: Callable[[], T], ok: Callable[[T], bool], timeout: float = 30.0) -> T:
    """Prefect records task runs and logs from events, shortly after they happen."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if ok(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def batch_run(worker: str) -> FlowRun:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[FLOW_NAME])),
            sort=FlowRunSort.START_TIME_DESC, limit=50)
    mine = [r for r in runs if r.parameters.get("worker") == worker]
    assert mine, [r.name for r in runs]
    return mine[0]


def task_runs(run: FlowRun) -> list[TaskRun]:
    with get_client(sync_client=True) as client:
        return client.read_task_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=[run.id])), sort=TaskRunSort.EXPECTED_START_TIME_ASC,
            limit=200)  # a sort: the sync client sends null otherwise, and the API refuses it


def rows(services: CaseServices) -> dict[str, tuple[str, str | None]]:
    with services.engine.connect() as conn:
        return {r.case_id: (r.status, r.last_error) for r in conn.execute(
            select(outbox_t.c.case_id, outbox_t.c.status, outbox_t.c.last_error))}


@pytest.fixture
def run_logs_at_info() -> Iterator[None]:
    """The tests keep Prefect at WARNING (conftest); a worker logs its runs at INFO."""
    logger = logging.getLogger("prefect.task_runs")
    level = logger.level
    logger.setLevel(logging.INFO)
    yield
    logger.setLevel(level)


def test_a_batch_is_one_flow_run_whose_task_runs_are_the_actions(
        services: CaseServices, orchestra: Orchestrator, run_logs_at_info: None) -> None:
    ids = cases(services, 3)
    orchestra.tick()
    assert {s for s, _ in rows(services).values()} == {"done"}
    run = batch_run(orchestra.dispatcher.worker)
    assert run.name.startswith("3 action(s) · ") and run.state_type.value == "COMPLETED"
    assert [r["case_id"] for r in run.parameters["rows"]] == ids  # the rows, not the data
    assert "person" not in str(run.parameters) and PERSON["official_name"] not in str(
        run.parameters)
    names = [f"notify_institutions · {c} · #1" for c in ids]
    runs = eventually(lambda: task_runs(run),
                      lambda rs: sum(r.name.startswith("send_mail") for r in rs) == 9)
    by_name = {r.name: r for r in runs}
    assert set(names) <= set(by_name), sorted(by_name)
    assert all(by_name[n].state_type.value == "COMPLETED" for n in names)
    # under each action, its three mails, each a task run of the same flow run
    assert sum(r.name.startswith("send_mail") for r in runs) == 9
    # the actions' own log lines (get_run_logger), on the batch's run
    with get_client(sync_client=True) as client:
        logs = eventually(lambda: client.read_logs(log_filter=LogFilter(
            flow_run_id=LogFilterFlowRunId(any_=[run.id])), sort=LogSort.TIMESTAMP_ASC,
            limit=200, offset=0),
            lambda ls: sum("done" in x.message for x in ls) >= 3)
    assert sum(": fait en" in x.message and x.task_run_id is not None for x in logs) == 3


def test_a_failed_action_marks_its_own_row_not_the_batch(
        services: CaseServices, orchestra: Orchestrator, monkeypatch: pytest.MonkeyPatch
        ) -> None:
    ok_a, broken, ok_b = cases(services, 3)
    real = services.record_action

    def refuse_one(case_id: str, **kw: Any) -> Any:
        if case_id == broken:
            raise ConnectionError("le système de l'OAI ne répond pas")
        return real(case_id, **kw)

    monkeypatch.setattr(services, "record_action", refuse_one)
    orchestra.tick()
    status = rows(services)
    assert status[ok_a] == ("done", None) and status[ok_b] == ("done", None)
    assert status[broken][0] == "pending"  # back to the outbox, with its delay
    assert "ConnectionError" in str(status[broken][1])
    run = batch_run(orchestra.dispatcher.worker)
    assert run.state_type.value == "COMPLETED"  # the batch, whatever one action did
    failed = eventually(lambda: {r.name: r for r in task_runs(run)},
                        lambda rs: rs.get(f"notify_institutions · {broken} · #1") is not None
                        and rs[f"notify_institutions · {broken} · #1"].state_type.value
                        == "FAILED")[f"notify_institutions · {broken} · #1"]
    assert failed.state_type.value == "FAILED"
    assert failed.run_count == 3  # Prefect's two retries before the outbox's


def test_a_concurrency_limit_per_external_system_holds_across_the_batch(
        services: CaseServices, orchestra: Orchestrator) -> None:
    orchestra.concurrency_limits = {"smtp": 1}
    try:
        cases(services, 3)
        orchestra.tick()
        with get_client(sync_client=True) as client:
            assert client.read_global_concurrency_limit_by_name("tag:smtp").limit == 1
        run = batch_run(orchestra.dispatcher.worker)
        sends = eventually(lambda: [r for r in task_runs(run) if "smtp" in r.tags],
                           lambda rs: len(rs) == 9 and all(r.end_time for r in rs))
        assert len(sends) == 9
        spans = sorted((r.start_time, r.end_time) for r in sends)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), \
            "two smtp task runs overlapped under a limit of 1"
        assert {s for s, _ in rows(services).values()} == {"done"}
    finally:
        limits.apply({})
        with get_client(sync_client=True) as client:
            client.delete_global_concurrency_limit_by_name("tag:smtp")


@flow(name=FLOW_NAME, flow_run_name="{batch}")
def _a_batch(batch: str, worker: str, rows: list[dict[str, Any]]) -> None:
    """Stands for a batch's run, to create runs in the Running state as a worker leaves them."""


def test_a_dead_workers_run_is_crashed_not_running_for_ever(tmp_path: Path) -> None:
    import socket
    gone = subprocess.Popen(["true"])
    gone.wait()
    here = socket.gethostname()
    dead_here, live_elsewhere, dead_elsewhere = (
        f"{here}:{gone.pid}", "autre-machine:4242", "autre-machine:4343")
    with get_client(sync_client=True) as client:
        made = {w: client.create_flow_run(_a_batch, name=f"orphan {w} {tmp_path.name}",
                                          parameters={"batch": "b", "worker": w, "rows": []},
                                          state=Running())
                for w in (dead_here, live_elsewhere, dead_elsewhere)}
    holding = {live_elsewhere}  # the live worker renews its rows' leases
    # just started: only the dead local process's run is known dead
    crashed = crash_orphaned_runs(lambda w: w in holding, timedelta(minutes=5))
    assert f"orphan {dead_here} {tmp_path.name}" in crashed
    assert not any(tmp_path.name in c and "autre" in c for c in crashed)
    # a lease later: the run whose worker holds nothing is nobody's
    later = datetime.now(UTC) + timedelta(minutes=6)
    crashed = crash_orphaned_runs(lambda w: w in holding, timedelta(minutes=5), now=later)
    assert f"orphan {dead_elsewhere} {tmp_path.name}" in crashed
    with get_client(sync_client=True) as client:
        states = {w: client.read_flow_run(r.id).state_type.value for w, r in made.items()}
    assert states == {dead_here: "CRASHED", live_elsewhere: "RUNNING",
                      dead_elsewhere: "CRASHED"}
    with get_client(sync_client=True) as client:  # leave no Running run to other tests
        client.set_flow_run_state(made[live_elsewhere].id, Running().model_copy(
            update={"type": "COMPLETED", "name": "Completed"}), force=True)
