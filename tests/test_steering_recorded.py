"""What the steering figures read from columns recorded with each event (``entered_at``,
``lead_from``, ``lead_to``, ``revolving_door``: cases/store/derived.py) is what the history
says: as the services write it, as migration 0009 backfills it, as the steering bench's
simulated history fills it. The history is the one of tests/test_steering.py."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, select, text

from bench.steering_history import NULL, Case
from relais.cases.domain.events import Event
from relais.cases.services import CaseServices
from relais.cases.store.audit import verify
from relais.cases.store.codec import aware
from relais.cases.store.derived import COLUMNS
from relais.cases.store.tables import event_t
from relais.migrate import alembic_config
from tests.conftest import Clock
from tests.test_steering import MARCH, World, build, figures

AFTER_REFERRALS = datetime(2026, 3, 6, tzinfo=MARCH.tzinfo)


@pytest.fixture
def world(services: CaseServices, clock: Clock) -> World:
    return build(services, clock)


def recorded(engine: Engine) -> dict[tuple[str, int], tuple[Any, ...]]:
    cols = [event_t.c[name] for name in COLUMNS]
    with engine.connect() as conn:
        rows = conn.execute(select(event_t.c.case_id, event_t.c.seq, *cols))
        return {(r[0], r[1]): (aware(r[2]), r[3], r[4], None if r[5] is None else bool(r[5]))
                for r in rows}


def histories(world: World) -> list[list[Event]]:
    with world.s.engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text('SELECT id FROM "case" ORDER BY id'))]
    return [world.s.history(case_id) for case_id in ids]


def migrate(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        if revision == "head":
            command.upgrade(cfg, revision)
        else:
            command.downgrade(cfg, revision)


def test_each_move_records_when_the_state_it_leaves_was_entered(world: World) -> None:
    stored = recorded(world.s.engine)
    stays = 0
    for events in histories(world):
        entered: datetime | None = None  # the case's last move into another state
        for e in events:
            changes = e.kind in ("case_opened", "transitioned", "handoff_accepted") and \
                e.from_state != e.to_state
            ends = changes and e.from_state is not None
            assert stored[e.case_id, e.seq][0] == (entered if ends else None), (e.kind, e.seq)
            stays += ends
            entered = e.at if changes else entered
    # out of signalement 9 (R1–R8, C1), of the entry checks 9 (R1–R8, C1), R2 interrupted,
    # R1 into plan, mesures and closed (its self-loop within mesures is not one): 22
    assert stays == 22


def test_each_change_of_lead_records_its_sender_new_lead_and_flag(world: World) -> None:
    stored = recorded(world.s.engine)
    changes = {}
    for events in histories(world):
        for e in events:
            if e.kind in ("handoff_accepted", "escalation_settled"):
                changes[e.data["handed_on"][-1], e.data["lead"]] = \
                    changes.get((e.data["handed_on"][-1], e.data["lead"]), 0) + 1
                assert stored[e.case_id, e.seq][1:] == (
                    e.data["handed_on"][-1], e.data["lead"], e.data.get("revolving_door")
                    is not None)
            else:
                assert stored[e.case_id, e.seq][1:] == (None, None, None)
    assert changes == {("SMIG-NE", "OFIJ-NE"): 1, ("SSR-NE", "OAI-NE"): 1,
                       ("ORP-NE", "OAI-NE"): 1, ("OAI-NE", "ORP-NE"): 1}


def test_a_database_at_0008_with_history_upgraded_gives_the_same_figures(world: World) -> None:
    engine = world.s.engine
    before, columns = figures(world.s), recorded(engine)
    later = figures(world.s, start=AFTER_REFERRALS)
    migrate(engine, "0008")  # the columns and their indexes gone: the history as it was
    try:
        with engine.connect() as conn:
            names = {c["name"] for c in inspect(conn).get_columns("case_event")}
        assert not names & set(COLUMNS)
    finally:
        migrate(engine, "head")
    assert recorded(engine) == columns
    assert figures(world.s) == before
    assert figures(world.s, start=AFTER_REFERRALS) == later
    assert verify(engine).ok  # derived data, outside the hash chain


def test_the_bench_fills_the_columns_as_the_services_record_them(world: World) -> None:
    stored = recorded(world.s.engine)
    for events in histories(world):
        first = events[0]
        case = Case(first.case_id, _route(world, first), first.institution,
                    random.Random(0), first.at)
        for e in events:
            case.at = e.at
            case.add(e.kind, e.institution, ev=e.event, frm=e.from_state, to=e.to_state,
                     reason=e.reason, **e.data)
            *_, entered, lead_from, lead_to, flag = case.events[-1].rstrip("\n").split("\t")
            copied = (None if entered == NULL else datetime.fromisoformat(entered),
                      None if lead_from == NULL else lead_from,
                      None if lead_to == NULL else lead_to,
                      None if flag == NULL else flag == "t")
            assert copied == stored[e.case_id, e.seq], (e.kind, e.seq)


def _route(world: World, opened: Event) -> Any:
    with world.s.engine.connect() as conn:
        return world.s.routes.get(conn, opened.data["route"], opened.route_version)
