"""The case services on a real database (SQLite and PostgreSQL): one transaction per event,
optimistic concurrency, deadlines, outbox, publishing, and the audit."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select, text, update

from relais.cases.domain.decide import EventInput
from relais.cases.domain.errors import Conflict, EventRefused, NotFound, StaleVersion
from relais.cases.domain.person import InvalidPerson
from relais.cases.services import CaseServices
from relais.cases.store.audit import verify
from relais.cases.store.route_book import InvalidRoute
from relais.cases.store.tables import case_t, deadline_t, event_t, handoff_t, outbox_t, person_t
from tests.conftest import COORD, OAI, ORP, PERSON, SPEC_EXAMPLE, SSR, Clock, refer


def open_referred(services: CaseServices) -> str:
    out = refer(services, route="reseau-cii", person=PERSON, actor=ORP,
                             fields={"age": 48})
    services.fire(out.case.id, "transmettre", actor=ORP)
    services.fire(out.case.id, "retenir", actor=COORD)
    return out.case.id


def count(engine: Engine, table: object, *where: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar())


def test_opening_a_case_writes_the_case_its_first_event_and_its_deadline(
        services: CaseServices, engine: Engine) -> None:
    out = refer(services, route="reseau-cii", person=PERSON, actor=ORP,
                             fields={"age": 48})
    assert out.case.version == 1 and out.case.lead == "ORP-NE"
    assert count(engine, event_t) == 1
    assert count(engine, deadline_t, deadline_t.c.status == "open") == 1
    assert count(engine, outbox_t, outbox_t.c.action == "notify_institutions") == 1


def test_a_second_case_of_the_same_person_links_to_the_same_person(
        services: CaseServices, engine: Engine) -> None:
    services.open_case(route="reseau-cii", person=PERSON, actor=ORP, fields={})
    services.open_case(route="ne-eso", person={**PERSON, "avs": "7561234567897"}, actor=SSR,
                       fields={})
    assert count(engine, person_t) == 1 and count(engine, case_t) == 2


def test_a_bad_avs_number_is_a_clear_error(services: CaseServices, engine: Engine) -> None:
    with pytest.raises(InvalidPerson) as exc:
        services.open_case(route="reseau-cii", person={**PERSON, "avs": "756.1234.5678.98"},
                           actor=ORP)
    assert exc.value.field == "avs" and "contrôle" in exc.value.message
    assert count(engine, case_t) == 0


def test_a_stale_version_is_refused_and_changes_nothing(services: CaseServices) -> None:
    out = refer(services, route="reseau-cii", person=PERSON, actor=ORP,
                             fields={})
    services.fire(out.case.id, "transmettre", actor=ORP, expected_version=1)
    with pytest.raises(StaleVersion):
        services.fire(out.case.id, "ecarter", actor=COORD, expected_version=1,
                      data=EventInput(reason="x"))
    assert services.get(out.case.id).state == "triage"
    assert len(services.history(out.case.id)) == 2


def test_a_refused_event_leaves_case_history_and_outbox_as_they_were(
        services: CaseServices, engine: Engine) -> None:
    case_id = open_referred(services)
    before = (services.get(case_id), count(engine, event_t), count(engine, outbox_t))
    with pytest.raises(EventRefused):
        services.fire(case_id, "cloturer", actor=ORP)
    assert (services.get(case_id), count(engine, event_t), count(engine, outbox_t)) == before


def test_a_handoff_is_answered_through_its_own_id(services: CaseServices,
                                                  engine: Engine) -> None:
    case_id = open_referred(services)
    services.fire(case_id, "planifier", actor=ORP, data=EventInput(lead="OAI-NE"))
    services.fire(case_id, "planifier", actor=OAI)
    out = services.fire(case_id, "planifier", actor=SSR)
    assert out.status == "handoff"
    handoff = out.case.handoff
    assert handoff is not None
    assert count(engine, handoff_t, handoff_t.c.status == "proposed") == 1
    assert count(engine, deadline_t, deadline_t.c.kind == "handoff",
                 deadline_t.c.status == "open") == 1
    out = services.accept_handoff(handoff.id, actor=OAI)
    assert (out.case.lead, out.case.state) == ("OAI-NE", "plan")
    assert count(engine, handoff_t, handoff_t.c.status == "accepted") == 1
    assert count(engine, deadline_t, deadline_t.c.kind == "handoff",
                 deadline_t.c.status == "done") == 1
    with pytest.raises(NotFound):
        services.accept_handoff(handoff.id, actor=OAI)
    with pytest.raises(NotFound):
        services.refuse_handoff("nope", actor=OAI, reason="x")


def test_the_sweep_handles_what_is_due_once(services: CaseServices, clock: Clock) -> None:
    ids = [services.open_case(route="reseau-cii", person={**PERSON, "avs": avs}, actor=ORP,
                              fields={}).case.id
           for avs in ("7561234567897", "7569217076985")]
    clock.advance(days=2)
    assert services.sweep_deadlines().handled == 0
    clock.advance(days=10)
    report = services.sweep_deadlines()
    assert report.handled == 2 and len(report.lags_s) == 2 and min(report.lags_s) > 0
    assert services.sweep_deadlines().handled == 0  # idempotent
    assert all(services.get(i).deadline.level == 1 for i in ids)


def test_publishing_the_same_version_with_other_content_is_refused(
        services: CaseServices) -> None:
    route, new = services.publish_route(SPEC_EXAMPLE.read_text().replace(
        "id: reseau-cii", "id: exemple"), by="coord")
    assert new and route.key == ("exemple", 1)
    _, again = services.publish_route(SPEC_EXAMPLE.read_text().replace(
        "id: reseau-cii", "id: exemple") + "\n# commentaire\n", by="coord")
    assert again is False
    with pytest.raises(Conflict):
        services.publish_route(SPEC_EXAMPLE.read_text().replace("id: reseau-cii", "id: exemple")
                               .replace("5 working days", "6 working days"), by="coord")
    with pytest.raises(InvalidRoute):
        services.publish_route("id: x\n", by="coord")


def test_a_case_keeps_its_route_version_when_a_new_one_is_published(
        services: CaseServices) -> None:
    out = refer(services, route="reseau-cii", person=PERSON, actor=ORP,
                             fields={})
    v9 = (SPEC_EXAMPLE.read_text().replace("version: 1 ", "version: 9 ")
          .replace("deadline: 5 working days", "deadline: 2 working days"))
    services.publish_route(v9, by="coord")
    newer = services.open_case(route="reseau-cii", person=PERSON, actor=ORP, fields={})
    assert (out.case.route_version, newer.case.route_version) == (4, 9)
    assert services.fire(out.case.id, "transmettre", actor=ORP).case.route_version == 4


def test_the_audit_passes_and_then_catches_tampering(services: CaseServices,
                                                     engine: Engine) -> None:
    case_id = open_referred(services)
    report = verify(engine)
    assert report.ok and (report.cases, report.events) == (1, 3)
    with engine.begin() as conn:
        conn.execute(update(event_t).where(event_t.c.case_id == case_id, event_t.c.seq == 2)
                     .values(reason="réécrit"))
    assert any("content does not match its hash" in p for p in verify(engine).problems)


def test_the_audit_catches_a_case_row_changed_behind_the_engine(services: CaseServices,
                                                                engine: Engine) -> None:
    case_id = open_referred(services)
    with engine.begin() as conn:
        conn.execute(update(case_t).where(case_t.c.id == case_id).values(lead="OAI-NE"))
    problems = verify(engine).problems
    assert len(problems) == 1 and "lead" in problems[0]


def test_the_audit_catches_a_document_changed_after_it_was_recorded(
        services: CaseServices, engine: Engine) -> None:
    from relais.cases.domain.results import Document
    from relais.cases.store.tables import document_t
    case_id = open_referred(services)
    services.record_action(case_id, key=f"{case_id}:2:gather_files", action="gather_files",
                           summary={}, documents=[Document(
                               "dossier-OAI-NE-1", "file", "OAI-NE", "medical", "Dossier AI",
                               "application/pdf", b"%PDF-1.4 original")])
    assert verify(engine).ok
    with engine.begin() as conn:
        conn.execute(update(document_t).values(content=b"%PDF-1.4 altered"))
    assert verify(engine).problems == [
        f"case {case_id}: document 'dossier-OAI-NE-1' differs from what its event recorded"]


def test_a_deleted_event_breaks_the_chain(services: CaseServices, engine: Engine) -> None:
    case_id = open_referred(services)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM case_event WHERE seq = 2 AND case_id = :c"),
                     {"c": case_id})
    assert not verify(engine).ok


def test_running_cases_move_to_a_new_route_version_only_when_migrated(
        services: CaseServices, engine: Engine) -> None:
    from relais.cases.domain.actors import Actor
    from relais.institutions.registry import Kind, Role
    coordination = Actor("coord", "CII-NE", Kind.CII, Role.coordinator)
    referred = open_referred(services)  # in assessment
    fresh = refer(services, route="reseau-cii", person=PERSON, actor=ORP,
                               fields={}).case.id  # in signalement
    # v9 renames 'signalement' to 'annonce'
    v9 = (SPEC_EXAMPLE.read_text().replace("version: 1 ", "version: 9 ")
          .replace("signalement", "annonce"))
    services.publish_route(v9, by="coord")
    dry = services.migrate_cases("reseau-cii", 4, 9, mapping={}, actor=coordination)
    assert dry.problems and "signalement" in dry.problems[0][1]
    assert services.get(fresh).route_version == 4  # a dry run changes nothing
    refused = services.migrate_cases("reseau-cii", 4, 9, mapping={"signalement": "annonce"},
                                     actor=ORP, apply=True)  # a case manager may not migrate
    assert len(refused.problems) == 2 and not refused.moves
    assert all("coordination" in message for _, message in refused.problems)
    done = services.migrate_cases("reseau-cii", 4, 9, mapping={"signalement": "annonce"},
                                  actor=coordination, apply=True)
    assert done.problems == [] and done.moves == {("signalement", "annonce"): 1,
                                                  ("assessment", "assessment"): 1}
    moved = services.get(fresh)
    assert (moved.route_version, moved.state) == (9, "annonce")
    assert services.history(fresh)[-1].kind == "route_migrated"
    assert services.fire(referred, "planifier", actor=ORP,
                         data=EventInput(lead="ORP-NE")).case.route_version == 9
    assert verify(engine).ok
