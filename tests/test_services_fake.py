"""The case services on the in-memory unit of work (``cases.store.memory``), no database:
what a use case decides and commits, in how many units, and what a failure leaves (nothing).
The same services on SQLite and PostgreSQL: tests/test_case_services.py."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from relais.cases.access import AccessPolicy
from relais.cases.domain.decide import EventInput
from relais.cases.domain.errors import EventRefused, NotFound, StaleVersion
from relais.cases.domain.results import Document
from relais.cases.queries import CaseQueries
from relais.cases.services import CaseServices
from relais.cases.sharing import Sharing
from relais.cases.sign_in import sign_in
from relais.cases.store.memory import FakeUnits
from relais.cases.store.users import StoredUser, _hasher
from relais.institutions.registry import Role, default_registry
from relais.wiring import publish_standard_routes
from tests.conftest import COORD, OAI, ORP, PERSON, SSR, Clock, refer


@pytest.fixture
def units() -> FakeUnits:
    return FakeUnits()


@pytest.fixture
def services(units: FakeUnits) -> CaseServices:
    s = CaseServices(units, clock=Clock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)))
    publish_standard_routes(s)
    return s


def triaged(services: CaseServices) -> str:
    out = refer(services, route="reseau-cii", person={**PERSON, "email": "j@example.ch"},
                             actor=ORP, fields={"age": 48})
    services.fire(out.case.id, "transmettre", actor=ORP)
    services.fire(out.case.id, "retenir", actor=COORD)
    return out.case.id


def handed_to_oai(services: CaseServices, case_id: str) -> str:
    services.fire(case_id, "planifier", actor=ORP, data=EventInput(lead="OAI-NE"))
    services.fire(case_id, "planifier", actor=OAI)
    out = services.fire(case_id, "planifier", actor=SSR)
    assert out.status == "handoff" and out.case.handoff is not None
    return out.case.handoff.id


def test_opening_a_case_commits_the_case_its_event_its_person_and_its_contact_in_one_unit(
        services: CaseServices, units: FakeUnits) -> None:
    opened, committed = units.opened, units.committed
    out = refer(services, route="reseau-cii", person={**PERSON, "email": "j@example.ch"},
                             actor=ORP, fields={"age": 48})
    assert (units.opened - opened, units.committed - committed) == (1, 1)
    m = units.memory
    assert m.cases[out.case.id] == out.case and out.case.lead == "ORP-NE"
    assert [e.kind for e in m.events[out.case.id]] == ["case_opened"]
    assert m.contacts[out.case.id]["email"] == "j@example.ch"
    assert [r["action"] for r in m.outbox] == ["notify_institutions"]
    person = CaseQueries(services).person(out.case)
    assert (person.avs, person.email) == (m.people[out.case.person].avs, "j@example.ch")


def test_events_move_the_case_one_version_at_a_time(services: CaseServices,
                                                    units: FakeUnits) -> None:
    case_id = triaged(services)
    case = services.get(case_id)
    assert (case.state, case.version) == ("assessment", 3)
    assert [e.seq for e in services.history(case_id)] == [1, 2, 3]
    assert services.allowed_events(case)


def test_a_stale_version_is_refused_and_the_memory_is_unchanged(
        services: CaseServices, units: FakeUnits) -> None:
    out = refer(services, route="reseau-cii", person=PERSON, actor=ORP,
                             fields={})
    services.fire(out.case.id, "transmettre", actor=ORP, expected_version=1)
    before = copy.deepcopy(units.memory)
    with pytest.raises(StaleVersion):
        services.fire(out.case.id, "ecarter", actor=COORD, expected_version=1,
                      data=EventInput(reason="x"))
    assert units.memory == before


def test_a_save_on_a_version_moved_on_meanwhile_is_stale(services: CaseServices,
                                                         units: FakeUnits) -> None:
    case_id = triaged(services)
    with units() as uow:
        seen = uow.cases.get(case_id)
    services.fire(case_id, "planifier", actor=ORP, data=EventInput(lead="OAI-NE"))
    assert seen is not None
    with pytest.raises(StaleVersion), units() as uow:
        uow.cases.save(seen, seen, [])


def test_a_refused_event_leaves_case_history_and_outbox_as_they_were(
        services: CaseServices, units: FakeUnits) -> None:
    case_id = triaged(services)
    before = copy.deepcopy(units.memory)
    with pytest.raises(EventRefused):
        services.fire(case_id, "cloturer", actor=ORP)
    assert units.memory == before


def test_an_error_inside_a_unit_rolls_back_what_it_wrote_before(
        services: CaseServices, units: FakeUnits) -> None:
    case_id = triaged(services)
    before = copy.deepcopy(units.memory)
    with pytest.raises(NotFound), units() as uow:
        services.fire(case_id, "planifier", actor=ORP, data=EventInput(lead="OAI-NE"),
                      within=uow)
        assert uow.cases.get(case_id) != before.cases[case_id]  # written in the unit...
        services.accept_handoff("nope", actor=OAI, within=uow)
    assert units.memory == before  # ...and gone with it


def test_a_handoff_is_accepted_through_its_own_id_then_answers_no_more(
        services: CaseServices, units: FakeUnits) -> None:
    case_id = triaged(services)
    handoff = handed_to_oai(services, case_id)
    out = services.accept_handoff(handoff, actor=OAI)
    assert (out.case.lead, out.case.state, out.case.handoff) == ("OAI-NE", "plan", None)
    assert units.memory.events[case_id][-1].kind == "handoff_accepted"
    with pytest.raises(NotFound):
        services.accept_handoff(handoff, actor=OAI)
    with pytest.raises(NotFound):
        services.refuse_handoff("nope", actor=OAI, reason="x")


def test_a_refused_handoff_leaves_the_lead_where_it_was(services: CaseServices) -> None:
    case_id = triaged(services)
    handoff = handed_to_oai(services, case_id)
    out = services.refuse_handoff(handoff, actor=OAI, reason="pas de notre ressort")
    assert out.case.lead == "ORP-NE" and out.case.handoff is None
    assert out.case.refusals == 1


def test_an_action_is_recorded_once_per_key_with_its_documents(
        services: CaseServices, units: FakeUnits) -> None:
    case_id = triaged(services)
    letter = Document("convocation-person", "letter", "ORP-NE", "situation", "Convocation",
                      "application/pdf", b"%PDF-1.7")
    first = services.record_action(case_id, key="k1", action="send_letters",
                                   summary={"letters": 1}, documents=[letter])
    again = services.record_action(case_id, key="k1", action="send_letters",
                                   summary={"letters": 1}, documents=[letter])
    assert first.status == "done" and again.status == "already"
    assert units.memory.effects["k1"]["result"]["seq"] == first.events[0].seq
    assert [d.name for d, _ in units.memory.documents] == ["convocation-person"]


def test_an_open_read_records_the_read_and_the_first_disclosure_in_one_unit(
        services: CaseServices, units: FakeUnits) -> None:
    case_id = triaged(services)
    services.fire(case_id, "planifier", actor=ORP, data=EventInput(lead="OAI-NE"))
    policy = AccessPolicy(CaseQueries(services), Sharing(services))
    opened = units.opened
    view = policy.open(OAI, case_id, "case")  # the ORP's file, read by a partner
    assert units.opened - opened == 1
    assert view.case.id == case_id
    assert [(r["case_id"], r["user"]) for r in units.memory.reads] == [(case_id, OAI.user)]
    shown = {(r["recipient"], r["category"], r["legal_basis"]) for r in units.memory.exchanges}
    assert shown == {("OAI-NE", c, b) for c, b in view.shown.items()} and shown
    with pytest.raises(NotFound):
        policy.open(OAI, "no-such-case", "case")


def test_the_sweep_handles_what_is_due_once(services: CaseServices) -> None:
    clock = services.clock
    assert isinstance(clock, Clock)
    ids = [services.open_case(route="reseau-cii", person={**PERSON, "avs": avs}, actor=ORP,
                              fields={}).case.id
           for avs in ("7561234567897", "7569217076985")]
    clock.advance(days=12)
    assert services.sweep_deadlines().handled == 2
    assert services.sweep_deadlines().handled == 0
    assert all(services.get(i).deadline.level == 1 for i in ids)


def test_signing_in_charges_the_tallies_and_opens_a_session_only_for_the_right_password(
        units: FakeUnits) -> None:
    registry = default_registry()
    units.memory.users["m.robert"] = StoredUser("m.robert", "ORP-NE", Role.case_manager, False,
                                                _hasher.hash("dix caractères"))
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    wrong = sign_in(units, registry, name="m.robert", password="faux mot de passe",
                    address="198.51.100.7", now=now)
    assert wrong.actor is None and not units.memory.sessions
    assert any(t.failures == 1 for t, _ in units.memory.tallies.values())
    right = sign_in(units, registry, name="m.robert", password="dix caractères",
                    address="198.51.100.7", now=now)
    assert right.actor is not None and right.actor.institution == "ORP-NE"
    assert units.memory.sessions == {right.session_id: ("m.robert", now)}


def test_a_version_overtaken_only_by_background_work_still_decides(
        services: CaseServices) -> None:
    """An If-Match names the case a person decided on: an action's result since then leaves
    it standing, a decision since then overtakes it."""
    out = refer(services, route="reseau-cii", person=PERSON, actor=ORP,
                             fields={"age": 48})
    read = out.case.version
    services.record_action(out.case.id, key="k1", action="notify_institutions",
                           summary={"sent": 1})
    moved = services.fire(out.case.id, "transmettre", actor=ORP, expected_version=read)
    assert moved.case.state == "triage" and moved.case.version == read + 2
    with pytest.raises(StaleVersion):
        services.fire(out.case.id, "ecarter", actor=COORD, expected_version=read,
                      data=EventInput(reason="doublon"))
