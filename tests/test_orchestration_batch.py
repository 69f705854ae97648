"""The relay as Prefect users run it (issue 15): the rows a worker claimed are ONE flow run
(``relais-actions``) whose task runs are the actions, each with its retries and log lines;
a failed action marks its own row only; the external systems' concurrency limits are
Prefect's; a dead worker's run does not stay Running. Against Prefect's real (ephemeral)
server, read back through its API, as its UI reads it."""

from __future__ import annotations

import logging
import subprocess
import threading
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
from sqlalchemy import select, update

from relais.cases.services import CaseServices
from relais.cases.store.tables import outbox_t
from relais.orchestration import limits
from relais.orchestration.batch import FLOW_NAME
from relais.orchestration.channels import FolderMailer, FolderSms, Mail
from relais.orchestration.orchestrator import Orchestrator
from relais.orchestration.orphans import crash_orphaned_runs
from relais.orchestration.runtime import Runtime
from relais.orchestration.sources import Sources
from tests.conftest import COORD, ORP, PERSON, refer
from tests.test_scaled import avs as scaled_avs

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
                      lambda rs: set(names) <= {r.name for r in rs if r.end_time})
    by_name = {r.name: r for r in runs}
    assert set(names) <= set(by_name), sorted(by_name)
    assert all(by_name[n].state_type.value == "COMPLETED" for n in names)
    # the actions' own log lines (get_run_logger), on the batch's run: each mail, then done
    with get_client(sync_client=True) as client:
        logs = eventually(lambda: client.read_logs(log_filter=LogFilter(
            flow_run_id=LogFilterFlowRunId(any_=[run.id])), sort=LogSort.TIMESTAMP_ASC,
            limit=200, offset=0),
            lambda ls: sum(": fait en" in x.message for x in ls) >= 3)
    for name in names:
        own = [x.message for x in logs if x.task_run_id == by_name[name].id]
        assert sum("/mail/" in m and "@relais.invalid>" in m for m in own) == 3, own
        assert any(": fait en" in m for m in own), own


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


def test_more_gathering_actions_than_threads_in_one_batch_all_end(
        services: CaseServices, orchestra: Orchestrator) -> None:
    """Each ``gather_files`` fetches its institutions' files side by side: five of them in
    a batch of four threads once hung for good, each waiting for fetches queued behind it."""
    ids = []
    for n in range(5):
        case = refer(services, route="reseau-cii", actor=ORP, fields={"age": 40 + n},
                     person={**PERSON, **CONTACT, "avs": scaled_avs(n)}).case
        services.fire(case.id, "transmettre", actor=ORP)
        services.fire(case.id, "retenir", actor=COORD)
        ids.append(case.id)
    with services.engine.begin() as conn:  # the notices sent already: the gatherings first
        conn.execute(update(outbox_t).where(outbox_t.c.action == "notify_institutions")
                     .values(status="done"))
    ticking = threading.Thread(target=orchestra.tick, daemon=True)
    ticking.start()
    ticking.join(240)
    assert not ticking.is_alive(), "the batch never ended"
    assert {s for s, _ in rows(services).values()} == {"done"}
    with services.engine.connect() as conn:
        actions = sorted(r.action for r in conn.execute(select(outbox_t.c.action)))
    assert actions.count("gather_files") == 5 and len(actions) == 15


class WatchedMailer(FolderMailer):
    """Real .eml files, each send taking a while: how many were being sent at once."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder, "relais@cii.ne.example")
        self.lock, self.now, self.most = threading.Lock(), 0, 0

    def send(self, mail: Mail) -> str:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(0.2)
            return super().send(mail)
        finally:
            with self.lock:
                self.now -= 1


def test_a_concurrency_limit_per_external_system_holds_across_the_batch(
        services: CaseServices, orchestra: Orchestrator, tmp_path: Path) -> None:
    mailer = WatchedMailer(tmp_path / "watched")
    orchestra.runtime.mailer = mailer
    cases(services, 3)
    orchestra.concurrency_limits = {"smtp": 1}
    try:
        orchestra.tick()
        with get_client(sync_client=True) as client:
            assert client.read_global_concurrency_limit_by_name("tag:smtp").limit == 1
        assert {s for s, _ in rows(services).values()} == {"done"}
        assert len(list((tmp_path / "watched").glob("*.eml"))) == 9
        assert mailer.most == 1  # three actions at once, one mail at a time
    finally:
        limits.apply({})
        with get_client(sync_client=True) as client:
            client.delete_global_concurrency_limit_by_name("tag:smtp")


def test_without_a_limit_the_actions_of_a_batch_send_side_by_side(
        services: CaseServices, orchestra: Orchestrator, tmp_path: Path) -> None:
    """The other side of the test above: what the limit prevents does happen without it."""
    mailer = WatchedMailer(tmp_path / "watched")
    orchestra.runtime.mailer = mailer
    cases(services, 3)
    orchestra.tick()
    assert len(list((tmp_path / "watched").glob("*.eml"))) == 9
    assert mailer.most > 1


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
