"""The peer of bench/spiff.py: SpiffWorkflow 3.2 running bench/routes/complex_case.bpmn.

A case is a ``BpmnWorkflow``; a step completes its ready user task and runs the engine to the
next one. Each step is then saved as SpiffArena saves a process instance: the workflow
serialised by ``BpmnWorkflowSerializer`` (SpiffArena's spiff configuration) and written, in
a transaction of its own, as two rows: the workflow's JSON and a ``task_completed`` event.
The store is the bare ``sqlite3`` driver on a WAL file with ``synchronous=NORMAL`` (the
settings of relais/db.py), which spares the peer any ORM or SQLAlchemy cost.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

BPMN = Path(__file__).parent / "routes" / "complex_case.bpmn"
# The user tasks in the order a taken-on case with an AI claim meets them, and what each
# form submits (the referral carries the fields the gateways read, as the case's fields).
STEPS = ("referral", "triage", "assessment", "plan", "follow_up", "handoff_ai", "closure")
FORMS: dict[str, dict[str, Any]] = {"referral": {"consentement": True, "age": 45,
                                                 "demande_ai": True},
                                    "closure": {"outcome": "rente_ai"}}
SCHEMA = ("CREATE TABLE IF NOT EXISTS workflow (id TEXT PRIMARY KEY, status TEXT NOT NULL, "
          "serialization TEXT NOT NULL, updated_at REAL NOT NULL)",
          "CREATE TABLE IF NOT EXISTS workflow_event (id INTEGER PRIMARY KEY, "
          "workflow_id TEXT NOT NULL REFERENCES workflow(id), task TEXT NOT NULL, "
          "event_type TEXT NOT NULL, at REAL NOT NULL)")


def load_spec() -> Any:
    parser = SpiffBpmnParser(validator=BpmnValidator())  # the BPMN 2.0 schema checks the file
    parser.add_bpmn_file(str(BPMN))
    return parser.get_spec("complex_case")


class SpiffStore:
    """The peer's table on its own SQLite file, through the bare driver."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            self.conn.execute(f"PRAGMA {pragma}")
        for ddl in SCHEMA:
            self.conn.execute(ddl)
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")  # a writer, as Relais's units of work
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def insert(self, wf_id: str, serialization: str) -> None:
        with self.transaction() as c:
            c.execute("INSERT INTO workflow VALUES (?, 'running', ?, ?)",
                      (wf_id, serialization, time.time()))

    def save(self, c: sqlite3.Connection, wf_id: str, task: str, status: str,
             serialization: str) -> None:
        """The peer's two rows of a step."""
        now = time.time()
        c.execute("UPDATE workflow SET status = ?, serialization = ?, updated_at = ? "
                  "WHERE id = ?", (status, serialization, now, wf_id))
        c.execute("INSERT INTO workflow_event (workflow_id, task, event_type, at) "
                  "VALUES (?, ?, 'task_completed', ?)", (wf_id, task, now))

    def load(self, c: sqlite3.Connection, wf_id: str) -> BpmnWorkflow:
        row = c.execute("SELECT serialization FROM workflow WHERE id = ?", (wf_id,)).fetchone()
        return self.serializer.deserialize_json(row[0])

    def completed_steps(self, wf_id: str) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT task FROM workflow_event WHERE workflow_id = ? ORDER BY id", (wf_id,))]


def open_workflows(store: SpiffStore, spec: Any, n: int) -> dict[str, BpmnWorkflow]:
    """N new cases, run to their first user task and saved (not timed)."""
    workflows = {}
    for _ in range(n):
        wf = BpmnWorkflow(spec)
        wf.do_engine_steps()
        wf_id = str(uuid.uuid4())
        store.insert(wf_id, store.serializer.serialize_json(wf))
        workflows[wf_id] = wf
    return workflows


def step(wf: BpmnWorkflow, expected: str) -> str:
    """Complete the ready user task with its form and run the engine to the next one."""
    task = wf.get_next_task(state=TaskState.READY, manual=True)
    if task is None or task.task_spec.bpmn_id != expected:
        raise RuntimeError(f"SpiffWorkflow left the route: {expected} expected, got {task}")
    task.data.update(FORMS.get(expected, {}))
    task.run()
    wf.do_engine_steps()
    return "complete" if wf.is_completed() else "running"


def walk_persisted(store: SpiffStore, workflows: dict[str, BpmnWorkflow]) -> float:
    """Every step of every case; the workflows stay in memory, each step is saved."""
    start = time.perf_counter()
    for name in STEPS:
        for wf_id, wf in workflows.items():
            status = step(wf, name)
            serialization = store.serializer.serialize_json(wf)
            with store.transaction() as c:
                store.save(c, wf_id, name, status, serialization)
    return len(workflows) * len(STEPS) / (time.perf_counter() - start)


def walk_reloaded(store: SpiffStore, ids: list[str]) -> float:
    """As a stateless server: each step loads the workflow, completes the task and saves it,
    in one transaction."""
    start = time.perf_counter()
    for name in STEPS:
        for wf_id in ids:
            with store.transaction() as c:
                wf = store.load(c, wf_id)
                status = step(wf, name)
                store.save(c, wf_id, name, status, store.serializer.serialize_json(wf))
    return len(ids) * len(STEPS) / (time.perf_counter() - start)


def sample_serializations(spec: Any) -> list[str]:
    """The JSON of one case after each of its steps: the sizes the raw SQL writes."""
    wf = BpmnWorkflow(spec)
    wf.do_engine_steps()
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    out = []
    for name in STEPS:
        step(wf, name)
        out.append(serializer.serialize_json(wf))
    return out


def walk_raw(store: SpiffStore, ids: list[str], serializations: list[str]) -> float:
    """The peer's two rows alone, step after step, with JSON of the same sizes: its floor."""
    start = time.perf_counter()
    for k, name in enumerate(STEPS):
        status = "complete" if k == len(STEPS) - 1 else "running"
        for wf_id in ids:
            with store.transaction() as c:
                store.save(c, wf_id, name, status, serializations[k])
    return len(ids) * len(STEPS) / (time.perf_counter() - start)
