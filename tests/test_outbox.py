"""The outbox as the dispatcher sees it: leases, completion by the holder only, retries with
a growing delay, and the ledger that makes an action's visible effect happen once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from relais.cases.services import CaseServices
from relais.cases.store.outbox import Effects, Outbox
from tests.conftest import ORP, PERSON, Clock, emptied_postgres, require_postgres


def queue_work(services: CaseServices, n: int = 3) -> None:
    for _ in range(n):  # each opening queues notify_institutions
        services.open_case(route="reseau-cii", person=PERSON, actor=ORP, fields={})


def test_claimed_work_is_not_claimed_twice_until_its_lease_runs_out(
        services: CaseServices, engine: Engine, clock: Clock) -> None:
    queue_work(services)
    outbox = Outbox(engine)
    first = outbox.claim("w1", clock.now, lease=timedelta(minutes=5))
    assert [w.action for w in first] == ["notify_institutions"] * 3
    assert all(w.attempts == 1 for w in first)
    assert outbox.claim("w2", clock.now + timedelta(minutes=4)) == []
    # w1 died: after the lease, w2 takes the rows again, and w1 can no longer complete them
    again = outbox.claim("w2", clock.now + timedelta(minutes=6))
    assert [w.id for w in again] == [w.id for w in first] and again[0].attempts == 2
    assert outbox.complete(first[0], "w1", clock.now) is False
    assert outbox.complete(again[0], "w2", clock.now) is True
    assert [w.id for w in outbox.claim("w3", clock.now + timedelta(hours=1))] == \
        [w.id for w in again[1:]]


def test_a_failure_comes_back_later_and_gives_up_after_the_last_attempt(
        services: CaseServices, engine: Engine, clock: Clock) -> None:
    queue_work(services, 1)
    outbox = Outbox(engine, max_attempts=2)
    work = outbox.claim("w", clock.now)[0]
    assert outbox.fail(work, "w", clock.now, "SMTP down") == "pending"
    assert outbox.claim("w", clock.now + timedelta(seconds=10)) == []  # backoff: 30 s
    work = outbox.claim("w", clock.now + timedelta(seconds=31))[0]
    assert work.attempts == 2
    assert outbox.fail(work, "w", clock.now, "SMTP still down") == "failed"
    assert outbox.claim("w", clock.now + timedelta(days=1)) == []


def test_an_effect_is_recorded_once(engine: Engine, clock: Clock) -> None:
    effects = Effects(engine)
    assert effects.get("c:1:notify_person") is None
    assert effects.record("c:1:notify_person", action="notify_person", case_id="c",
                          result={"sms": "sent"}, now=clock.now)
    assert not effects.record("c:1:notify_person", action="notify_person", case_id="c",
                              result={"sms": "again"}, now=clock.now)
    assert effects.get("c:1:notify_person") == {"sms": "sent"}


@pytest.mark.postgres
def test_concurrent_claimers_never_share_a_row(postgres_url: str, clock: Clock) -> None:
    require_postgres()
    engine = emptied_postgres(postgres_url)
    services = CaseServices(engine, clock=clock)
    from relais.wiring import publish_standard_routes
    publish_standard_routes(services)
    queue_work(services, 40)
    outbox = Outbox(engine)
    taken: list[int] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while work := outbox.claim(name, clock.now, limit=3):
            with lock:
                taken.extend(w.id for w in work)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(taken) == 40 and len(set(taken)) == 40
    engine.dispose()


def test_a_stopping_worker_gives_its_unstarted_rows_back_at_once(
        services: CaseServices, engine: Engine, clock: Clock) -> None:
    queue_work(services, 2)
    outbox = Outbox(engine)
    first, second = outbox.claim("w1", clock.now)
    outbox.release(second, "w1")
    again = outbox.claim("w2", clock.now)  # no need to wait for w1's lease
    assert [w.id for w in again] == [second.id] and again[0].attempts == 1
    outbox.release(first, "w2")  # not w2's: nothing happens
    assert outbox.claim("w3", clock.now) == []


def test_a_slow_action_keeps_its_row_while_its_worker_lives(
        engine: Engine, services: CaseServices, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    """An action longer than the lease is not taken over: its worker renews the lease."""
    from datetime import UTC, datetime

    from relais.orchestration import dispatch
    from relais.orchestration.channels import FolderMailer, FolderSms
    from relais.orchestration.runtime import Runtime, install
    from relais.orchestration.sources import Sources

    queue_work(services, 1)
    live = CaseServices(engine, clock=lambda: datetime.now(UTC))  # real time, real leases
    install(Runtime(live, FolderMailer(tmp_path, "r@x"), FolderSms(tmp_path), Sources({})))
    taken_over: list[int] = []

    def slow(work: dict[str, object]) -> None:
        end = time.monotonic() + 1.5  # five times the lease
        while time.monotonic() < end:
            taken_over.extend(w.id for w in Outbox(engine).claim("w2", datetime.now(UTC)))
            time.sleep(0.05)

    monkeypatch.setitem(dispatch.ACTIONS, "notify_institutions", slow)
    report = dispatch.Dispatcher("w1", lease=timedelta(seconds=0.3)).run_once()
    install(None)
    assert (report.done, report.lost, taken_over) == (1, 0, [])


def test_a_restarted_process_takes_back_at_once_what_a_dead_one_of_this_machine_held(
        services: CaseServices, engine: Engine, clock: Clock) -> None:
    import os
    import socket
    import subprocess

    from relais.cli_work import release_dead_local_workers

    queue_work(services, 3)
    gone = subprocess.Popen(["true"])
    gone.wait()
    here = socket.gethostname()
    outbox = Outbox(engine)
    dead = outbox.claim(f"{here}:{gone.pid}", clock.now, limit=1)
    alive = outbox.claim(f"{here}:{os.getpid()}#0", clock.now, limit=1)
    elsewhere = outbox.claim(f"other-host:{gone.pid}", clock.now, limit=1)
    assert release_dead_local_workers(engine) == 1
    assert [w.id for w in outbox.claim("w", clock.now)] == [dead[0].id]  # before its lease
    assert alive and elsewhere  # a live process's rows, another machine's: left alone
