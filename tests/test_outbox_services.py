"""The services the orchestration works through (cases.outbox_services): the case as the
event that queued an action left it, read from the case row when nothing but results came
since, and the effects ledger of an action."""

from __future__ import annotations

from sqlalchemy import Engine

from relais.cases.domain.events import KEEPS_CASE, keeps_case, replay
from relais.cases.domain.results import Document
from relais.cases.outbox_services import OutboxServices
from relais.cases.services import CaseServices
from tests.conftest import COORD, ORP, PERSON, refer
from tests.test_write_path import traced


def opened(services: CaseServices) -> str:
    return refer(services, route="reseau-cii", person={**PERSON, "email": "j@m.ch"},
                              actor=ORP, fields={"age": 48}).case.id


def result(services: CaseServices, case_id: str, key: str) -> None:
    services.record_action(case_id, key=key, action="notify_institutions",
                           summary={"sent": {}}, documents=[Document(
                               f"{key}.txt", "message", "ORP-NE", "situation", "t",
                               "text/plain", b"x")])


def test_the_kinds_that_keep_the_case_move_only_its_version_and_hash(
        services: CaseServices) -> None:
    case_id = opened(services)
    result(services, case_id, "k1")
    services.add_document(case_id, Document("f", "file", "ORP-NE", "situation", "t",
                                            "text/plain", b"y"), actor=ORP)
    services.change_contact(case_id, {"email": "autre@m.ch"}, actor=ORP, reason="adresse")
    services.add_note(case_id, "entretien", "situation", actor=ORP)
    history = services.history(case_id)
    assert {e.kind for e in history[1:]} == KEEPS_CASE
    for n, e in enumerate(history[1:], start=1):
        assert keeps_case(e)
        before = replay(history[:n])
        assert before is not None
        assert replay(history[:n + 1]) == before.but(version=e.seq, last_hash=e.hash)
    services.fire(case_id, "transmettre", actor=ORP)
    assert not keeps_case(services.history(case_id)[-1])


def test_the_case_at_its_event_is_read_from_the_row_when_only_results_came_since(
        services: CaseServices, engine: Engine) -> None:
    outbox = OutboxServices(services)
    case_id = opened(services)
    result(services, case_id, "first")  # another action of the same event, done first
    with traced(engine) as seen:
        at = outbox.case_at(case_id, 1)
    history = services.history(case_id)
    assert at.case == replay(history[:1]) and at.event == history[0]
    assert at.person.email == "j@m.ch" and at.row.version == 2
    if engine.dialect.name == "sqlite":  # the row with its event and person, then what came
        assert [s.split()[0] for s in seen] == ["SELECT", "SELECT"], seen
        assert not any("ORDER BY case_event.seq" in s and "seq >" not in s for s in seen)
    assert at.before is None  # the first event: nothing before it

    services.fire(case_id, "transmettre", actor=ORP)  # a move: the history tells
    services.fire(case_id, "retenir", actor=COORD)
    history = services.history(case_id)
    at = outbox.case_at(case_id, 3)
    assert at.case == replay(history[:3]) and at.event.event == "transmettre"
    assert at.before == replay(history[:2])
    assert outbox.case_at(case_id, len(history)).case == services.get(case_id)


def test_an_action_knows_its_effects_on_record_and_asks_nothing_at_its_first_attempt(
        services: CaseServices, engine: Engine) -> None:
    outbox = OutboxServices(services)
    case_id = opened(services)
    key = f"{case_id}:1:notify_person"
    recorded = outbox.record_effect(f"{key}/mail/a@b.ch", action="notify_person",
                                    case_id=case_id, result={"to": "a@b.ch"})
    outbox.record_effect(f"{key}_x/mail/a@b.ch", action="x", case_id=case_id, result={})
    # a second worker recording the same effect gets the first one's result back
    again = outbox.record_effect(f"{key}/mail/a@b.ch", action="notify_person",
                                 case_id=case_id, result={"to": "other"})
    assert recorded == again == {"to": "a@b.ch"}
    with traced(engine) as seen:
        assert outbox.effects_done(key, 1) == {}
    assert seen == []
    assert outbox.effects_done(key, 2) == {f"{key}/mail/a@b.ch": {"to": "a@b.ch"}}
    assert outbox.effects_done(key, None) == outbox.effects_done(key, 2)
