"""Many case managers at once on one case: exactly one wins each version, no gap in history."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import Engine

from relais.cases.domain.decide import EventInput
from relais.cases.domain.errors import StaleVersion
from relais.cases.services import CaseServices
from relais.cases.store.audit import verify
from relais.wiring import publish_standard_routes
from tests.conftest import (
    COORD,
    OAI,
    ORP,
    PERSON,
    SSR,
    Clock,
    emptied_postgres,
    refer,
    require_postgres,
)

THREADS, ROUNDS = 20, 15


@pytest.mark.postgres
def test_twenty_threads_firing_at_one_case_have_one_winner_per_version(
        postgres_url: str, clock: Clock) -> None:
    require_postgres()
    engine: Engine = emptied_postgres(postgres_url)
    services = CaseServices(engine, clock=clock)
    publish_standard_routes(services)
    case_id = refer(services, route="reseau-cii", person=PERSON, actor=ORP,
                                 fields={"age": 40}).case.id
    services.fire(case_id, "transmettre", actor=ORP)
    services.fire(case_id, "retenir", actor=COORD)
    for who in (ORP, OAI, SSR):
        services.fire(case_id, "planifier", actor=who,
                      data=EventInput(lead="ORP-NE") if who is ORP else None)
    start_version = services.get(case_id).version
    wins: list[int] = []
    stale = Counter[str]()
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(ROUNDS):
                case = services.get(case_id)
                event = "lancer" if case.state == "plan" else "revoir"
                try:
                    out = services.fire(case_id, event, actor=ORP,
                                        expected_version=case.version)
                except StaleVersion:
                    stale["stale"] += 1
                else:
                    wins.append(out.case.version - 1)  # the version it was fired against
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    final = services.get(case_id)
    assert len(wins) == len(set(wins)), "two writers won the same version"
    assert sorted(wins) == list(range(start_version, final.version))
    assert stale["stale"] == THREADS * ROUNDS - len(wins) > 0
    history = services.history(case_id)
    assert [e.seq for e in history] == list(range(1, final.version + 1))
    assert verify(engine).ok
    engine.dispose()
