"""The Relais / SpiffWorkflow benchmark measures what it says: both sides walk every case
through the seven steps of the same route (figures are in docs/benchmarks.md, not here)."""

from __future__ import annotations

from pathlib import Path

from SpiffWorkflow.util.task import TaskState

from bench.spiff import SIDES, run
from bench.spiff_peer import STEPS


def test_relais_and_spiffworkflow_both_walk_every_case_to_its_closure(tmp_path: Path) -> None:
    bench = run(tmp_path, cases=3, rounds=1, warm_up=1)
    assert {side: len(ids) for side, ids in bench.walked.items()} == dict.fromkeys(SIDES, 3)

    for case_id in bench.walked["relais"]:
        case = bench.services.get(case_id)
        assert (case.state, case.is_open, case.lead, case.outcome) == (
            "clos", False, "OAI-NE", "rente_ai")
        assert [e.kind for e in bench.services.history(case_id)] == [
            "case_opened", *["transitioned"] * 4, "handoff_proposed", "handoff_accepted",
            "transitioned"]

    for side in ("spiff_persisted", "spiff_reloaded"):
        for wf_id in bench.walked[side]:
            assert bench.store.completed_steps(wf_id) == list(STEPS)
            with bench.store.transaction() as conn:
                wf = bench.store.load(conn, wf_id)
            assert wf.is_completed()
            assert [t.state for t in wf.get_tasks(spec_name="closed")] == [TaskState.COMPLETED]
            assert not wf.get_tasks(spec_name="not_taken_on", state=TaskState.COMPLETED)
            assert wf.data["outcome"] == "rente_ai"

    report = bench.report(3)
    assert report["rounds"] == 1 and all(report["per_s"][side] > 0 for side in SIDES)
