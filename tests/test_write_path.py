"""The write path of an event, statement by statement (issue 14: no statement whose answer is
already known, as few round trips as the driver allows).

SQLite: the driver's own trace of the SQL it runs. PostgreSQL: libpq's trace of the protocol,
where a round trip is the client waiting for the server (frontend messages, then backend)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, event

from relais.cases.domain.decide import EventInput
from relais.cases.services import CaseServices
from tests.conftest import COORD, OAI, ORP, PERSON, SSR, refer


@contextmanager
def traced(engine: Engine) -> Iterator[list[str]]:
    """What the connections checked out meanwhile sent: SQL texts on SQLite, the protocol's
    lines (``F``/``B`` message kinds) on PostgreSQL."""
    seen: list[str] = []
    files: list[Path] = []

    def checkout(dbapi: Any, _record: Any, _proxy: Any) -> None:
        if engine.dialect.name == "sqlite":
            dbapi.set_trace_callback(seen.append)
        else:
            path = Path(tempfile.mkstemp(suffix=".pgtrace")[1])
            files.append(path)
            dbapi._relais_trace = path.open("w")
            dbapi.pgconn.trace(dbapi._relais_trace.fileno())
            dbapi.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)

    def checkin(dbapi: Any, _record: Any) -> None:
        if engine.dialect.name == "sqlite":
            dbapi.set_trace_callback(None)
        elif getattr(dbapi, "_relais_trace", None) is not None:
            dbapi.pgconn.untrace()
            dbapi._relais_trace.close()
            dbapi._relais_trace = None

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)
        for path in files:
            seen += path.read_text().splitlines()
            path.unlink()


def round_trips(protocol: list[str]) -> int:
    """Times the client sent and then waited for an answer."""
    directions = [line.split("\t")[0] for line in protocol if line[:2] in ("F\t", "B\t")]
    return sum(1 for a, b in pairwise(directions)
               if (a, b) == ("F", "B"))


def referred(services: CaseServices) -> str:
    case_id = refer(services, route="reseau-cii", person=PERSON, actor=ORP,
                                 fields={"age": 48}).case.id
    services.fire(case_id, "transmettre", actor=ORP)
    return case_id


def test_an_event_reads_the_case_once_and_never_its_history(
        services: CaseServices, engine: Engine) -> None:
    case_id = referred(services)
    with traced(engine) as seen:
        services.fire(case_id, "retenir", actor=COORD)  # ends the stay in triage
    if engine.dialect.name == "sqlite":
        words = [" ".join(s.split()[:3]) for s in seen]
        assert words[0] == "BEGIN IMMEDIATE" and words[-1] == "COMMIT", words
        # the case row, once, and (retenir's guard reads the consent) its consents, once
        selects = [s for s in seen if s.startswith("SELECT")]
        assert len(selects) == 2 and "FROM consent" in selects[1], seen
        assert not any("FROM case_event" in s for s in seen), seen
        # the event's rows, and one outbox row per action the step starts (executemany)
        assert sorted(set(words)) == sorted({
            "BEGIN IMMEDIATE", 'SELECT * FROM', 'SELECT consent.id, consent.person_id,',
            'UPDATE "case" SET', 'INSERT INTO "case_event"',
            'UPDATE "deadline" SET', 'INSERT INTO "outbox"', "COMMIT"}), words
        assert len(seen) == 7 + words.count('INSERT INTO "outbox"'), words
    else:
        # BEGIN, the case, its consents, every write in one batch, COMMIT (the pool's
        # liveness check comes before the checkout, outside the trace)
        assert round_trips(seen) <= 5, "\n".join(seen)
        assert not any(re.search(r"FROM case_event", line) for line in seen)


def test_an_accepted_handoff_finds_its_case_in_the_unit_that_acts_on_it(
        services: CaseServices, engine: Engine) -> None:
    case_id = referred(services)
    services.fire(case_id, "retenir", actor=COORD)
    services.fire(case_id, "planifier", actor=ORP, data=EventInput(lead="OAI-NE"))
    services.fire(case_id, "planifier", actor=OAI)
    handoff = services.fire(case_id, "planifier", actor=SSR).case.handoff
    assert handoff is not None
    with traced(engine) as seen:
        services.accept_handoff(handoff.id, actor=OAI)
    if engine.dialect.name == "sqlite":
        assert sum(s.startswith("BEGIN") for s in seen) == 1, seen  # one unit
        assert sum(s.startswith("SELECT") for s in seen) == 1, seen  # the case, by its handoff
    else:
        assert round_trips(seen) <= 4, "\n".join(seen)
