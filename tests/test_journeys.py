"""Journeys A, B and C of the CII network end to end, with the orchestration running by
itself beside them: files gathered, round tables convened, letters printed, mail to a real
SMTP server, SMS to the gateway's folder, and deadlines that fire without anyone asking."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from sqlalchemy import select

from relais import demo
from relais.cases.domain.context import DEADLINE_PASSED
from relais.cases.services import CaseServices, Outcome
from relais.cases.store.audit import verify
from relais.cases.store.documents import Documents
from relais.cases.store.tables import outbox_t
from relais.orchestration.orchestrator import Orchestrator
from tests.conftest import Clock
from tests.orchestration_helpers import MailInbox, runtime, smtp_server

pytestmark = pytest.mark.slow  # three journeys with every action doing its work: a minute
START = datetime(2026, 1, 12, 8, 30, tzinfo=UTC)  # as relais.demo starts each journey


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"not done after {timeout} s: {what}")
        time.sleep(0.1)


@pytest.fixture
def running(services: CaseServices, tmp_path: Path
            ) -> Iterator[tuple[Orchestrator, MailInbox]]:
    with smtp_server() as (inbox, port), \
            temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        orchestra = Orchestrator(runtime(services, port, tmp_path), worker="journeys",
                                 poll_s=0.05, sweep_every_s=0.0)
        orchestra.start()
        try:
            yield orchestra, inbox
        finally:
            orchestra.stop()


def by_itself(self: demo.Journey, what: str) -> None:
    """Where the demo sweeps by hand, wait for the orchestration's own sweep instead."""
    seen = self.s.get(self.case_id).version

    def fired() -> bool:
        return any(e.reason == DEADLINE_PASSED for e in self.s.history(self.case_id)[seen:])
    wait_for(fired, f"the deadline of case {self.case_id}: {what}")
    self.show(Outcome(self.s.get(self.case_id), "done", []), what)


def test_journeys_a_b_c_with_the_actions_doing_real_work(
        services: CaseServices, clock: Clock, running: tuple[Orchestrator, MailInbox],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, inbox = running
    monkeypatch.setattr(demo.Journey, "sweep", by_itself)
    ids = {}
    for name, journey in (("A", demo.journey_a), ("B", demo.journey_b),
                          ("C", demo.journey_c)):
        clock.now = START
        before = set(_cases(services))
        journey(services, clock)  # type: ignore[arg-type]
        ids[name] = (set(_cases(services)) - before).pop()

    # ~40 actions through Prefect's embedded server, whose SQLite answers "database is
    # locked" and retries after ~2 s under load: a bound, not a timing (it returns when done)
    wait_for(lambda: {s for _, s in _outbox(services)} == {"done"}, "the outbox drained",
             timeout=240.0)

    a, b, c = (services.history(ids[k]) for k in "ABC")
    # A: the assessment gathered the three partners' files and convened the round table
    docs_a = _documents(services, ids["A"])
    assert {"dossier-ORP-NE-1", "dossier-OAI-NE-1"} <= set(docs_a)
    assert {"convocation-personne", "convocation-ORP-NE", "convocation-OAI-NE"} <= set(docs_a)
    meeting = next(e.data["summary"]["meeting"] for e in a if e.kind == "action_done"
                   and e.data["action"] == "convene_assessment")
    assert meeting["time"] == "14:00"
    # Daniel Rochat has an e-mail address: his convocation came with its PDF
    mail = inbox.to("daniel.rochat@example.org")
    assert any("Convocation" in str(m["Subject"]) for m in mail)
    # the suivi's deadline passed by itself: the lead (OAI) was reminded by mail
    assert any(e.kind == "deadline_reminded" for e in a)
    assert any("Rappel" in str(m["Subject"]) for m in inbox.to("oai@cii.ne.example"))
    # B: the refused handoff told the sender; the 6-month review fired on its own
    assert any("refusé" in str(m["Subject"]) for m in inbox.to("ssr-montagnes@cii.ne.example"))
    assert any(e.kind == "transitioned" and e.event == "revoir" and e.actor == "system"
               for e in b)
    # Sarah Dubois has a mobile only: the convocation went by SMS
    sms = [p.read_text() for p in (tmp_path / "sms").glob("*.json")]
    assert any("+41795550102" in s and "Table ronde" in s for s in sms)
    # C: the AI assessment side branch gathered OFIJ's and OAI's files; Yonas Tesfaye has
    # only a postal address: his closing letter waits in the case to be printed
    docs_c = _documents(services, ids["C"])
    assert {"dossier-OFIJ-NE-1", "dossier-OAI-NE-1"} <= set(docs_c)
    assert docs_c["notify_person-personne"] == "letter"
    # every mail once, every outbox row's result recorded once, the history intact
    assert len(inbox.keys()) == len(set(inbox.keys()))
    for history in (a, b, c):
        keys = [e.data["key"] for e in history if e.kind == "action_done"]
        assert len(keys) == len(set(keys))
    assert verify(services.engine).ok


def _cases(services: CaseServices) -> list[str]:
    from relais.cases.store.tables import case_t
    with services.engine.connect() as conn:
        return [r[0] for r in conn.execute(select(case_t.c.id))]


def _outbox(services: CaseServices) -> list[tuple[str, str]]:
    with services.engine.connect() as conn:
        return [(r[0], r[1]) for r in conn.execute(select(outbox_t.c.action, outbox_t.c.status))]


def _documents(services: CaseServices, case_id: str) -> dict[str, str]:
    with services.engine.connect() as conn:
        return {d.name: d.kind for d in Documents(conn).of_case(case_id)}
