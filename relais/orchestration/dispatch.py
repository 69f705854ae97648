"""The dispatcher: takes work from the outbox under a lease and hands the batch it claimed
to one Prefect flow run whose task runs are the actions (``batch.run_actions``). Off the
request path: an HTTP request only writes the outbox row. ``per_row=True`` keeps the former
way, one flow run per row, for the benchmark's comparison (bench/orchestration.py).

A crash anywhere leaves the row ``dispatched`` until its lease runs out; the next claim runs
the action again, and the action's own ledger (``Runtime.once``, ``record_action``) makes
its visible effects happen once. A failure puts the row back with a growing delay.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from prefect import flow

from relais.cases.correlation import request_bound
from relais.cases.outbox_services import OutboxServices, Work

from .actions import ACTIONS
from .batch import run_actions
from .metrics import ACTION_SECONDS, SWEEP_SECONDS, SWEPT_EVENTS
from .runtime import current

log = logging.getLogger("relais.dispatch")


@dataclass
class DispatchReport:
    done: int = 0
    failed: int = 0
    lost: int = 0  # the lease ran out while running: another worker has the row now
    released: int = 0  # given back unstarted because this worker is stopping
    errors: list[str] = field(default_factory=list)


def parameters(work: Work) -> dict[str, Any]:
    """What Prefect records of the run: the row, not the case's data."""
    d = asdict(work)
    d.pop("payload")
    return d


class Dispatcher:
    def __init__(self, worker: str, *, lease: timedelta = timedelta(minutes=5),
                 batch: int = 20, per_row: bool = False) -> None:
        self.worker, self.lease, self.batch, self.per_row = worker, lease, batch, per_row
        self.batches = 0

    @property
    def outbox(self) -> OutboxServices:
        return current().outbox

    def run_once(self, stopping: threading.Event | None = None) -> DispatchReport:
        """Claim one batch and run it; the report says what became of each row. Rows not
        started when ``stopping`` is set are given back at once."""
        report = DispatchReport()
        claimed = self.outbox.claim(self.worker, limit=self.batch, lease=self.lease)
        if not claimed:
            return report
        if not self.per_row:
            if stopping is not None and stopping.is_set():
                for work in claimed:
                    self.outbox.release(work, self.worker)
                report.released = len(claimed)
                return report
            with self._renewing(claimed):
                self._run_batch(claimed, report)
            return report
        with self._renewing(claimed):
            for n, work in enumerate(claimed):
                if stopping is not None and stopping.is_set():
                    for rest in claimed[n:]:
                        self.outbox.release(rest, self.worker)
                    report.released = len(claimed) - n
                    break
                self._run(work, report)
        return report

    @contextmanager
    def _renewing(self, claimed: list[Work]) -> Iterator[None]:
        """While this worker runs its batch, renew the batch's leases every third of a
        lease: only a worker that stopped answering loses its rows, not a slow action."""
        if not claimed:
            yield
            return
        done = threading.Event()
        outbox = self.outbox  # the runtime of the thread that claimed

        def renew() -> None:
            while not done.wait(self.lease.total_seconds() / 3):
                try:
                    outbox.renew(claimed, self.worker, self.lease)
                except Exception:  # the next round tries again; the lease is the backstop
                    log.exception("lease renewal failed")

        keeper = threading.Thread(target=renew, name="relais-lease", daemon=True)
        keeper.start()
        try:
            yield
        finally:
            done.set()
            keeper.join()

    def _run_batch(self, claimed: list[Work], report: DispatchReport) -> None:
        self.batches += 1
        first, last = claimed[0], claimed[-1]
        name = (f"{len(claimed)} action(s) · {self.worker} · #{first.id}"
                + (f"–{last.id}" if last is not first else ""))
        rows = [{**parameters(w), "request": str(w.payload.get("request") or w.key)}
                for w in claimed]
        try:
            outcome = run_actions(name, self.worker, rows)
        except Exception as exc:  # Prefect failed the run itself (went away, refused it)
            error = f"{type(exc).__name__}: {exc}"
            log.warning("lot / batch %s : %s", name, error)
            for work in claimed:  # only the rows not settled yet: the others are not held
                self.outbox.fail(work, self.worker, error)
            report.failed += len(claimed)
            report.errors.append(f"{name}: {error}")
            return
        report.done += outcome["done"]
        report.failed += outcome["failed"]
        report.lost += outcome["lost"]
        report.errors.extend(outcome["errors"])

    def _run(self, work: Work, report: DispatchReport) -> None:
        with request_bound(str(work.payload.get("request") or work.key)):
            self._run_bound(work, report)

    def _run_bound(self, work: Work, report: DispatchReport) -> None:
        action = ACTIONS.get(work.action)
        started = time.perf_counter()
        try:
            if action is None:
                raise LookupError(f"action inconnue / unknown action {work.action!r}")
            action(parameters(work))
        except Exception as exc:  # whatever failed: retry later, never lose the row
            ACTION_SECONDS.labels(work.action if action else "unknown", "failed").observe(
                time.perf_counter() - started)
            error = f"{type(exc).__name__}: {exc}"
            status = self.outbox.fail(work, self.worker, error)
            report.failed += 1
            report.errors.append(f"{work.key}: {error}")
            log.warning("action %s failed (%s): %s", work.key, status, error)
            return
        took = time.perf_counter() - started
        ACTION_SECONDS.labels(work.action, "done").observe(took)
        if self.outbox.complete(work, self.worker):
            report.done += 1
            log.info("action %s done in %.2f s", work.key, took)
        else:
            report.lost += 1


@flow(name="sweep_deadlines", flow_run_name="sweep_deadlines", validate_parameters=False)
def sweep_deadlines() -> dict[str, Any]:
    """Every deadline due now: the route's event, a reminder, or an escalation. Idempotent:
    run it as often as wanted, from as many workers as wanted."""
    return sweep_on_its_own()


def sweep_on_its_own() -> dict[str, Any]:
    """The sweep itself, without Prefect (the flow above wraps it)."""
    with SWEEP_SECONDS.time():
        report = current().services.sweep_deadlines()
    SWEPT_EVENTS.inc(report.events)
    lags = sorted(report.lags_s)
    return {"handled": report.handled, "events": report.events, "skipped": report.skipped,
            "lag_max_s": lags[-1] if lags else None}
