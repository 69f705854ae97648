"""The orchestration loop of one process: sweep the deadlines on a schedule, dispatch the
outbox, and wait while Prefect is away (rows stay in the outbox; nothing is lost).

Embedded (``relais serve``) it runs in a thread beside the API, with Prefect in ephemeral
mode; scaled (``relais worker``) it is the whole process, talking to a Prefect server.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

from . import limits
from .dispatch import Dispatcher, sweep_deadlines, sweep_on_its_own
from .orphans import crash_orphaned_runs
from .runtime import Runtime, install

log = logging.getLogger("relais.orchestrator")
_READY_LOCK = threading.Lock()
MAX_BATCHES_PER_TICK = 50  # then sweep again: deadlines are not starved by a long queue


class Orchestrator:
    def __init__(self, runtime: Runtime, *, worker: str, poll_s: float = 1.0,
                 sweep_every_s: float | None = 15.0, lease: timedelta = timedelta(minutes=5),
                 batch: int = 20, threads: int = 1,
                 checkpoint: Callable[[], None] | None = None,
                 checkpoint_every_s: float = 3600.0, per_row: bool = False,
                 concurrency_limits: dict[str, int] | None = None) -> None:
        self.runtime = runtime
        self.lease, self.concurrency_limits = lease, dict(concurrency_limits or {})
        self._limits_applied = False
        self._next_orphan_check = 0.0
        # the audit's signed checkpoint (relais.orchestrator_wiring): database work, no Prefect
        self.checkpoint, self.checkpoint_every_s = checkpoint, checkpoint_every_s
        # one dispatcher per thread, each under its own name: a row is completed only by
        # the thread that claimed it
        self.dispatchers = [Dispatcher(worker if threads == 1 else f"{worker}#{n}",
                                       lease=lease, batch=batch, per_row=per_row)
                            for n in range(threads)]
        self.dispatcher = self.dispatchers[0]
        self.poll_s, self.sweep_every_s = poll_s, sweep_every_s
        self._next_sweep = 0.0
        self.cycles = 0
        self.prefect_up: bool | None = None
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def prefect_ready(self) -> bool:
        # one thread at a time: the first call may start Prefect's ephemeral server, and two
        # starting it at once race on its database's migrations (seen: it never came up)
        with _READY_LOCK:
            try:
                with get_client(sync_client=True) as client:
                    problem = client.api_healthcheck()
            except Exception as exc:  # unreachable, refused, timed out...
                problem = exc
        up = problem is None
        if up != self.prefect_up:
            (log.info if up else log.warning)(
                "Prefect %s", "joignable / reachable" if up else
                f"injoignable, le travail attend dans l'outbox / unreachable, work waits "
                f"in the outbox ({problem})")
        self.prefect_up = up
        return up

    def sweep(self) -> None:
        """Every deadline due, whether or not Prefect answers: the sweep is the database's
        work, and a legal deadline must not wait for the orchestrator. It runs as a Prefect
        flow (visible in its UI) while Prefect was last seen up, else on its own; what it
        queues (reminders' mail) waits in the outbox for Prefect."""
        if self.prefect_up:
            try:
                sweep_deadlines()
                return
            except Exception:  # Prefect went away meanwhile: the sweep is idempotent
                log.warning("balayage via Prefect impossible, fait sans lui / sweep without "
                            "Prefect", exc_info=True)
        sweep_on_its_own()

    def sweep_if_due(self) -> None:
        if self.sweep_every_s is not None and time.monotonic() >= self._next_sweep:
            self.sweep()
            self._next_sweep = time.monotonic() + self.sweep_every_s

    def prefect_chores(self) -> None:
        """While Prefect answers: the concurrency limits, once; the runs of dead workers
        marked Crashed, once a lease (``orphans``). Neither may stop the dispatch."""
        try:
            if not self._limits_applied:
                limits.apply(self.concurrency_limits)
                self._limits_applied = True
            if time.monotonic() >= self._next_orphan_check:
                self._next_orphan_check = time.monotonic() + self.lease.total_seconds()
                outbox = self.runtime.outbox.outbox
                crash_orphaned_runs(lambda w: w in outbox.holders(w), self.lease)
        except Exception:
            log.warning("tâches Prefect reportées / Prefect chores put off", exc_info=True)

    def dispatch(self, dispatcher: Dispatcher | None = None) -> None:
        if dispatcher in (None, self.dispatcher):
            self.prefect_chores()
        for _ in range(MAX_BATCHES_PER_TICK):
            if self._stop.is_set():  # stop between batches, not after the whole queue
                return
            report = (dispatcher or self.dispatcher).run_once(self._stop)
            if report.done + report.failed + report.lost == 0:
                break

    def tick(self) -> None:
        """One round, in the caller's thread: the sweep when it is due, then the outbox."""
        install(self.runtime)
        up = self.prefect_ready()
        self.sweep_if_due()
        if up:
            self.dispatch()
        self._count_cycle()

    def _count_cycle(self) -> None:
        with self._changed:
            self.cycles += 1
            self._changed.notify_all()

    def wait_cycles(self, n: int, timeout: float = 60.0) -> bool:
        """For callers that need to know work was picked up: wait for ``n`` more rounds."""
        with self._changed:
            target = self.cycles + n
            return self._changed.wait_for(lambda: self.cycles >= target, timeout)

    def _loop(self, step: Callable[[], None], every_s: float, prefect: bool = True) -> None:
        # a sync flow otherwise waits for its heartbeat thread: ~1 s a run (stack notes)
        with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            while not self._stop.is_set():
                try:
                    if not prefect or self.prefect_ready():
                        step()
                except Exception:  # log and go on: the loop must outlive one bad round
                    log.exception("orchestration round failed")
                self._count_cycle()
                self._stop.wait(every_s)

    def start(self) -> list[threading.Thread]:
        """The sweep on its schedule and the dispatchers in threads of their own, so that a
        long queue of actions never delays a deadline (nor a burst of deadlines the actions).
        Several dispatch threads overlap the flow runs' waits on Prefect's API."""
        install(self.runtime)
        loops: list[tuple[str, Callable[[], None], float, bool]] = [
            (f"relais-dispatch-{n}", partial(self.dispatch, d), self.poll_s, True)
            for n, d in enumerate(self.dispatchers)]
        if self.sweep_every_s is not None:  # never waits for Prefect (``sweep``)
            loops.append(("relais-sweep", self.sweep, self.sweep_every_s, False))
        if self.checkpoint is not None:
            loops.append(("relais-checkpoint", self.checkpoint, self.checkpoint_every_s, False))
        self._threads = [threading.Thread(target=self._loop, args=(step, every, prefect),
                                          name=name, daemon=True)
                         for name, step, every, prefect in loops]
        for t in self._threads:
            t.start()
        return self._threads

    def alive(self) -> bool:
        """Started, not stopped, and every loop still running (``/readyz``)."""
        return bool(self._threads) and not self._stop.is_set() \
            and all(t.is_alive() for t in self._threads)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        end = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, end - time.monotonic()))
