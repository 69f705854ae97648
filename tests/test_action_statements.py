"""One action, statement by statement (issue 14: one `notify_institutions` with three
recipients in at most 12 statements on SQLite, BEGIN and COMMIT counted).

The action runs as the dispatcher runs it, a Prefect flow run (ephemeral server); only the
statements of the case database are counted: from the flow's start to its result on
record, not the claim of the outbox row nor its completion, which a batch shares."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from sqlalchemy import Engine

from relais.cases.services import CaseServices
from relais.cases.store.outbox import Outbox
from relais.orchestration.actions import ACTIONS
from relais.orchestration.channels import FolderMailer, FolderSms
from relais.orchestration.dispatch import parameters
from relais.orchestration.runtime import Runtime, install
from relais.orchestration.sources import Sources
from tests.conftest import ORP, PERSON, Clock, refer
from tests.test_write_path import traced

pytestmark = [pytest.mark.server, pytest.mark.slow]  # Prefect's ephemeral server: seconds

MAX_STATEMENTS = 12


@pytest.fixture
def installed(services: CaseServices, tmp_path: Path) -> Iterator[None]:
    install(Runtime(services, FolderMailer(tmp_path / "mail", "relais@cii.ne.example"),
                    FolderSms(tmp_path / "sms"), Sources({})))
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
    install(None)


def test_notify_institutions_to_three_recipients_in_twelve_statements(
        services: CaseServices, engine: Engine, clock: Clock, installed: None,
        tmp_path: Path) -> None:
    case_id = refer(services, route="reseau-cii", person={**PERSON, "email": "j@m.ch"},
                                 actor=ORP, fields={"age": 48}).case.id
    [work] = Outbox(engine).claim("w", clock.now)
    assert work.action == "notify_institutions"

    with traced(engine) as seen:
        summary = ACTIONS[work.action](parameters(work))

    assert sorted(summary["sent"]) == ["OAI-NE", "ORP-NE", "SSR-NE"]  # three recipients
    if engine.dialect.name == "sqlite":  # PostgreSQL's cost is told in round trips
        assert len(seen) <= MAX_STATEMENTS, "\n".join(seen)
        assert not any("FROM case_event" in s for s in seen), seen  # no history replayed
        assert sum(s.startswith("BEGIN") for s in seen) == 1, seen  # one unit: the result
    done = [e for e in services.history(case_id) if e.kind == "action_done"]
    assert [e.data["key"] for e in done] == [work.key]

    assert len(list((tmp_path / "mail").glob("*.eml"))) == 3

    # run again, as after a crash (a second attempt): each mail is on record, none is sent
    # again, and the result is recorded once
    (tmp_path / "mail").rename(tmp_path / "sent")
    again = ACTIONS[work.action]({**parameters(work), "attempts": 2})
    assert again["sent"] == summary["sent"]
    assert not (tmp_path / "mail").exists()
    assert [e.kind for e in services.history(case_id)].count("action_done") == 1
