"""`relais outbox list|retry|cancel` and `relais status --json`, run as real processes on
SQLite and PostgreSQL: the operator's hands on the actions' queue, each change on record."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from relais.cases.services import CaseServices
from relais.cases.store.outbox import Outbox
from relais.cases.store.tables import outbox_t
from tests.conftest import ORP, PERSON, refer
from tests.test_cli import relais


def _env(services: CaseServices) -> dict[str, str]:
    return {"RELAIS_DATABASE_URL": services.engine.url.render_as_string(hide_password=False)}


def _one_failed(services: CaseServices) -> int:
    """A referral's action, failed for good by a worker (after its last attempt)."""
    refer(services, route="reseau-cii", person=PERSON, actor=ORP,
                       fields={"age": 48})
    outbox = Outbox(services.engine, max_attempts=1)
    (work,) = outbox.claim("w:1", datetime.now(UTC), limit=1)
    assert outbox.fail(work, "w:1", datetime.now(UTC), "SMTP refused: 554") == "failed"
    return work.id


def _row(services: CaseServices, row: int) -> dict:  # type: ignore[type-arg]
    with services.engine.connect() as conn:
        return dict(conn.execute(select(outbox_t).where(outbox_t.c.id == row)).one()._mapping)


def test_a_failed_action_is_listed_retried_with_a_reason_and_runs_again(
        services: CaseServices) -> None:
    env, row = _env(services), _one_failed(services)
    listed = relais("outbox", "list", "--status", "failed", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    (shown,) = json.loads(listed.stdout)
    assert (shown["id"], shown["action"], shown["last_error"]) == (
        row, "notify_institutions", "SMTP refused: 554")
    assert relais("outbox", "retry", str(row), env=env).returncode == 2  # no reason
    done = relais("outbox", "retry", "--all-failed", "--reason", "SMTP réparé",
                  "--by", "ops.durand", env=env)
    assert done.returncode == 0 and f": {row}" in done.stdout, done.stderr
    after = _row(services, row)
    assert (after["status"], after["attempts"], after["not_before"]) == ("pending", 0, None)
    assert after["payload"]["operator"][0]["retried_by"] == "ops.durand"
    assert after["payload"]["operator"][0]["reason"] == "SMTP réparé"
    (again,) = Outbox(services.engine).claim("w:2", datetime.now(UTC), limit=1)
    assert again.id == row  # a worker takes it again


def test_cancelling_skips_a_row_a_worker_holds_and_says_so(services: CaseServices) -> None:
    env = _env(services)
    refer(services, route="reseau-cii", person=PERSON, actor=ORP,
                       fields={"age": 48})
    refer(services, route="reseau-cii", person={**PERSON, "avs": "756.9217.0769.85"},
                       actor=ORP, fields={"age": 30})
    outbox = Outbox(services.engine)
    (held,) = outbox.claim("w:1", datetime.now(UTC), limit=1, lease=timedelta(minutes=5))
    waiting = next(r["id"] for r in json.loads(relais(
        "outbox", "list", "--status", "pending", "--json", env=env).stdout))
    done = relais("outbox", "cancel", str(waiting), str(held.id), "--reason", "doublon",
                  env=env)
    assert done.returncode == 1 and str(held.id) in done.stderr
    assert _row(services, waiting)["status"] == "cancelled"
    assert _row(services, held.id)["status"] == "dispatched"
    assert outbox.complete(held, "w:1", datetime.now(UTC))  # the worker still finishes it
    status = json.loads(relais("status", "--json", env=env).stdout)
    assert (status["outbox_cancelled"], status["outbox_done"]) == (1, 1)


def test_an_unknown_status_is_refused_with_the_possible_ones(services: CaseServices) -> None:
    done = relais("outbox", "list", "--status", "stuck", env=_env(services))
    assert done.returncode == 2 and "failed" in done.stderr
