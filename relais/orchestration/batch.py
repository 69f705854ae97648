"""The rows a worker claimed, run as ONE Prefect flow run whose task runs are the actions.

Prefect's cost is per run: a flow run costs 70-130 ms of API round trips, a task run inside
one 1.5-3 ms (docs/stack-notes). One flow run per outbox row made Prefect the limit (~2
actions/s); one flow run per claimed batch shares that cost over the batch, and Prefect's UI
still shows every action: a task run named after the action (``notify_institutions ·
<case> · #<seq>``), its retries, its log lines, and under it the task runs of what it
touched (``send_mail`` tagged ``smtp``, ``fetch_file`` tagged ``source:<institution>``).

Each row is settled as soon as its task ends: done, or back to the outbox with its growing
delay (``failed`` after the last attempt), whatever became of the other rows of the batch.
A task that Prefect retries looks at the effects ledger first, so that what it sent before
failing is not sent again (``Started``: ``attempts`` unknown means "look").
"""

from __future__ import annotations

import logging
import time
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture, as_completed
from prefect.runtime import task_run
from prefect.task_runners import ThreadPoolTaskRunner

from relais.cases.correlation import request_bound
from relais.cases.outbox_services import Work

from .actions import ACTIONS, RUN_NAME
from .metrics import ACTION_SECONDS
from .runtime import current

log = logging.getLogger("relais.dispatch")
FLOW_NAME = "relais-actions"
ACTIONS_AT_ONCE = 4  # task runs of a batch in flight: more only contend (SQLite, 2 cores)
ROW_FIELDS = ("id", "key", "case_id", "seq", "action", "attempts")


class UnknownAction(LookupError):
    """A row names no action of this version: retrying in Prefect changes nothing."""


def _worth_retrying(_task: Any, _run: Any, state: Any) -> bool:
    try:
        state.result()
    except UnknownAction:
        return False
    except Exception:  # noqa: S110 (any other failure may pass: the SMTP relay is back...)
        pass
    return True


@task(name="action", task_run_name=RUN_NAME, retries=2, retry_delay_seconds=[1, 5],
      retry_condition_fn=_worth_retrying, cache_policy=NO_CACHE, persist_result=False)
def run_action(work: dict[str, Any]) -> dict[str, Any]:
    """One outbox row's action, in the batch's flow run."""
    action = ACTIONS.get(work["action"])
    if action is None:
        raise UnknownAction(f"action inconnue / unknown action {work['action']!r}")
    if task_run.run_count > 1:  # Prefect's retry: some effects may be on record already
        work = {**work, "attempts": None}
    logger = get_run_logger()
    started = time.perf_counter()
    with request_bound(work.get("request") or work["key"]):
        try:
            result = getattr(action, "fn", action)(work)  # the flow's function: no run of its own
        except Exception:
            ACTION_SECONDS.labels(work["action"], "failed").observe(
                time.perf_counter() - started)
            raise
        took = time.perf_counter() - started
        ACTION_SECONDS.labels(work["action"], "done").observe(took)
        log.info("action %s done in %.2f s", work["key"], took)
    logger.info("%s : fait en %.2f s / done", work["key"], took)
    return result if isinstance(result, dict) else {}


def _settle(outbox: Any, worker: str, future: PrefectFuture[Any], row: dict[str, Any],
            report: dict[str, Any], logger: Any) -> None:
    """The row's outcome in the outbox, as soon as its task ended."""
    work = Work(**{k: row[k] for k in ROW_FIELDS}, payload={})
    try:
        future.result()
    except Exception as exc:  # after the task's own retries: this row only, never the batch
        error = f"{type(exc).__name__}: {exc}"
        status = outbox.fail(work, worker, error)
        report["failed"] += 1
        report["errors"].append(f"{row['key']}: {error}")
        logger.warning("%s : %s (%s)", row["key"], error, status)
        log.warning("action %s failed (%s): %s", row["key"], status, error)
        return
    if outbox.complete(work, worker):
        report["done"] += 1
    else:  # the lease ran out meanwhile: another worker has the row now
        report["lost"] += 1


RUNNER: Any = ThreadPoolTaskRunner(max_workers=ACTIONS_AT_ONCE)


# one task object per action, named after it: Prefect's UI groups and filters by task name
_TASKS: dict[str, Any] = {}


def task_for(action: str) -> Any:
    if action not in _TASKS:
        _TASKS[action] = run_action.with_options(name=action if action in ACTIONS else "action")
    return _TASKS[action]


@flow(name=FLOW_NAME, flow_run_name="{batch}", validate_parameters=False,
      persist_result=False, task_runner=RUNNER)
def run_actions(batch: str, worker: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Every row of the batch as a task run; each row settled in the outbox as its task ends.
    ``rows``: what Prefect records of each (the row's id, key, case, action, attempts, and
    the request that queued it), never the case's data."""
    outbox = current().outbox
    logger = get_run_logger()
    # a case's actions one after the other, in the order the case queued them (its events'
    # order); different cases' side by side
    queues: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        queues.setdefault(row["case_id"], []).append(row)
    running: dict[PrefectFuture[Any], dict[str, Any]] = {}

    def start_next(case_id: str) -> None:
        if queues[case_id]:
            row = queues[case_id].pop(0)
            running[task_for(row["action"]).submit(row)] = row

    for case_id in queues:
        start_next(case_id)
    report: dict[str, Any] = {"done": 0, "failed": 0, "lost": 0, "errors": []}
    while running:
        future = next(as_completed(list(running)))
        row = running.pop(future)
        _settle(outbox, worker, future, row, report, logger)
        start_next(row["case_id"])
    logger.info("lot / batch: %s fait(s) / done, %s en échec / failed, %s perdu(s) / lost",
                report["done"], report["failed"], report["lost"])
    return report
