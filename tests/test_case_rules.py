"""The rules of a case, in the pure domain: owners, requirements, handoffs, signatures,
escalations and the revolving door."""

from __future__ import annotations

import pytest

from relais.cases.domain import escalations, handoff_rules
from relais.cases.domain.actors import system_actor
from relais.cases.domain.errors import (
    Conflict,
    EventRefused,
    HandoffPending,
    MissingInput,
    NotAllowed,
    NotFound,
)
from relais.cases.domain.events import replay
from relais.cases.domain.handoffs import HandoffLifecycle
from relais.cases.domain.history import chain_breaks
from relais.conventions.policy import Policy
from tests.conftest import COORD, OAI, OFIJ, ORP, ORP_LCF, SMIG, SSR, SSR_LCF, STEERING
from tests.domain_helpers import Desk, route

SYSTEM = system_actor("CII-NE")


def referred() -> Desk:
    desk = Desk(route("reseau-cii"))
    desk.open(ORP, age=48, consent=True)
    desk.fire("transmettre", ORP)
    desk.fire("retenir", COORD)
    return desk


def planned_with_lead(lead: str) -> Desk:
    desk = referred()
    desk.fire("planifier", ORP, lead=lead)
    desk.fire("planifier", OAI)
    desk.fire("planifier", SSR)
    return desk


def test_the_referring_institution_is_the_first_lead() -> None:
    desk = Desk(route("reseau-cii"))
    case = desk.open(SSR_LCF, age=31, consent=True)
    assert (case.lead, case.state, case.version, case.manager) == \
        ("SSR-LCF", "signalement", 1, "ssr2")


def test_only_an_institution_that_may_lead_on_the_route_can_open_a_case() -> None:
    with pytest.raises(NotAllowed):
        Desk(route("reseau-cii")).open(SMIG, age=20)
    with pytest.raises(NotAllowed):
        Desk(route("reseau-cii")).open(STEERING, age=20)


def test_a_non_lead_institution_cannot_move_the_case() -> None:
    desk = Desk(route("reseau-cii"))
    desk.open(ORP, age=48, consent=True)
    with pytest.raises(NotAllowed):
        desk.fire("transmettre", OAI)
    with pytest.raises(NotAllowed):
        desk.fire("transmettre", ORP_LCF)  # same kind, another office: not the lead


def test_triage_belongs_to_the_coordination() -> None:
    desk = Desk(route("reseau-cii"))
    desk.open(ORP, age=48, consent=True)
    desk.fire("transmettre", ORP)
    with pytest.raises(NotAllowed):
        desk.fire("retenir", ORP)
    assert desk.fire("retenir", COORD).state == "assessment"


def test_a_false_guard_refuses_the_event_and_lists_what_is_allowed() -> None:
    desk = Desk(route("reseau-cii"))
    desk.open(ORP, age=48)  # no consent recorded
    with pytest.raises(EventRefused) as exc:
        desk.fire("transmettre", ORP)
    assert exc.value.details["allowed_events"] == ["ecarter"]


def test_fields_sent_with_an_event_count_for_its_guard() -> None:
    desk = Desk(route("reseau-cii"))
    desk.open(ORP, consent=True)
    desk.fire("transmettre", ORP)
    with pytest.raises(EventRefused):
        desk.fire("retenir", COORD)  # consentement and age >= 18: no age yet
    assert desk.fire("retenir", COORD, fields={"age": 48}).state == "assessment"


def test_bad_field_values_are_refused_before_anything_happens() -> None:
    desk = Desk(route("reseau-cii"))
    desk.open(ORP, age=48)
    for bad in ({"age": "48"}, {"age": 500}, {"inconnu": 1}, {"signal": "autre"},
                {"fin_de_droit": "31.12.2026"}, {"consentement": "oui"},
                {"consentement": True}):  # a consent is recorded, never written
        with pytest.raises(MissingInput):
            desk.fire("transmettre", ORP, fields=bad)
    assert desk.case is not None and desk.case.version == 1


def test_a_required_reason_must_be_given() -> None:
    desk = Desk(route("reseau-cii"))
    desk.open(ORP, consent=True)
    with pytest.raises(MissingInput):
        desk.fire("ecarter", ORP)
    with pytest.raises(MissingInput):
        desk.fire("ecarter", ORP, reason="   ")
    case = desk.fire("ecarter", ORP, reason="Pas de problématique de santé")
    assert (case.state, case.outcome, case.closed_at is not None) == ("non_retenu", None, True)


def test_closing_needs_a_known_outcome_and_closes_the_case() -> None:
    desk = planned_with_lead("ORP-NE")
    with pytest.raises(MissingInput):
        desk.fire("cloturer", ORP)
    with pytest.raises(MissingInput):
        desk.fire("cloturer", ORP, outcome="loterie")
    case = desk.fire("cloturer", ORP, outcome="emploi_plein")
    assert (case.state, case.outcome, case.closed_at is not None) == ("clos", "emploi_plein",
                                                                       True)
    with pytest.raises(EventRefused):
        desk.fire("revoir", ORP)


def test_a_plan_takes_effect_only_when_every_listed_institution_has_signed() -> None:
    desk = referred()
    assert desk.fire("planifier", ORP, lead="ORP-NE").state == "assessment"
    with pytest.raises(Conflict):
        desk.fire("planifier", ORP)  # the same institution cannot sign twice
    assert desk.fire("planifier", OAI).state == "assessment"
    case = desk.fire("planifier", SSR)
    assert (case.state, case.lead, case.handoff) == ("plan", "ORP-NE", None)


def test_a_signature_must_agree_with_the_proposal_signed_so_far() -> None:
    desk = referred()
    desk.fire("planifier", ORP, lead="OAI-NE")
    with pytest.raises(Conflict):
        desk.fire("planifier", OAI, lead="SSR-NE")


def test_an_institution_outside_the_signoff_cannot_sign() -> None:
    desk = referred()
    with pytest.raises(NotAllowed):
        desk.fire("planifier", COORD, lead="OAI-NE")


def test_a_handoff_keeps_the_sender_as_lead_until_the_receiver_accepts() -> None:
    desk = planned_with_lead("OAI-NE")
    case = desk.case
    assert case is not None and case.handoff is not None
    assert (case.state, case.lead, case.handoff.receiver) == ("assessment", "ORP-NE", "OAI-NE")
    with pytest.raises(HandoffPending):
        desk.fire("planifier", ORP)
    with pytest.raises(NotAllowed):
        desk.call(handoff_rules.accept, SSR)  # only the receiver accepts
    case = desk.call(handoff_rules.accept, OAI)
    assert (case.state, case.lead, case.transfers, case.manager, case.handoff) == \
        ("plan", "OAI-NE", 1, "oai", None)


def test_a_refusal_needs_a_reason_and_leaves_the_sender_lead() -> None:
    desk = planned_with_lead("OAI-NE")
    with pytest.raises(MissingInput):
        desk.call(handoff_rules.refuse, OAI, "  ")
    case = desk.call(handoff_rules.refuse, OAI, "Dossier médical incomplet")
    assert (case.lead, case.state, case.handoff, case.escalated) == \
        ("ORP-NE", "assessment", None, False)


def test_a_second_refusal_escalates_to_the_coordination() -> None:
    desk = planned_with_lead("OAI-NE")
    desk.call(handoff_rules.refuse, OAI, "Incomplet")
    desk.fire("planifier", ORP, lead="OAI-NE")  # the plan signed by all: its handoff again
    case = desk.call(handoff_rules.refuse, OAI, "Toujours incomplet")
    assert case.escalated and case.lead == "ORP-NE"
    assert "alert_coordination" in desk.events[-1].data["actions"]


def test_an_unanswered_handoff_expires_and_escalates() -> None:
    desk = planned_with_lead("OAI-NE")
    with pytest.raises(Conflict):
        desk.call(handoff_rules.expire, SYSTEM)  # not due yet
    desk.later(days=10)
    case = desk.call(escalations.on_deadline, SYSTEM)
    assert desk.events[-1].kind == "handoff_expired"
    assert case.handoff is None and case.escalated and case.lead == "ORP-NE"


def test_the_sender_may_withdraw_a_pending_handoff() -> None:
    desk = planned_with_lead("OAI-NE")
    with pytest.raises(NotAllowed):
        desk.call(handoff_rules.withdraw, OAI, None)
    assert desk.call(handoff_rules.withdraw, ORP, "Erreur").handoff is None


def test_the_handoff_lifecycle_has_one_way_out_of_proposed() -> None:
    names = {t.event for s in HandoffLifecycle.states for t in s.transitions}
    assert names == {"accept", "refuse", "expire", "withdraw"}
    assert {s.id for s in HandoffLifecycle.final_states} == {"accepted", "refused", "expired",
                                                            "withdrawn"}
    with pytest.raises(NotFound):
        referred().call(handoff_rules.accept, OAI)


def test_a_passed_deadline_first_reminds_then_escalates() -> None:
    desk = Desk(route("reseau-cii"))
    desk.open(ORP, age=48, consent=True)
    desk.later(days=3)
    assert desk.call(escalations.on_deadline, SYSTEM).version == 1  # not due yet: nothing
    desk.later(days=10)
    case = desk.call(escalations.on_deadline, SYSTEM)
    assert (case.deadline.level, case.deadline.status) == (1, "open")
    assert case.deadline.due_at is not None and case.deadline.due_at > desk.now
    desk.later(days=5)
    case = desk.call(escalations.on_deadline, SYSTEM)
    assert (case.deadline.level, case.deadline.status, case.escalated) == (2, "escalated", True)
    assert desk.call(escalations.on_deadline, SYSTEM).version == case.version  # idempotent


def test_a_passed_deadline_fires_the_states_on_deadline_event() -> None:
    desk = planned_with_lead("ORP-NE")
    desk.fire("lancer", ORP)
    desk.later(days=200)
    case = desk.call(escalations.on_deadline, SYSTEM)
    assert case.state == "plan" and desk.events[-1].event == "revoir"
    assert desk.events[-1].actor == "system"


def test_the_coordination_settles_an_escalation_and_may_decide_competence() -> None:
    desk = Desk(route("reseau-cii"))
    desk.open(ORP, age=48, consent=True)
    desk.later(days=30)
    desk.call(escalations.on_deadline, SYSTEM)
    desk.later(days=30)
    desk.call(escalations.on_deadline, SYSTEM)
    with pytest.raises(NotAllowed):
        desk.call(escalations.settle, ORP, "moi", None)
    case = desk.call(escalations.settle, COORD, "Compétence AI", "OAI-NE")
    assert (case.lead, case.escalated, case.transfers) == ("OAI-NE", False, 1)
    assert case.deadline.due_at is not None and case.deadline.due_at > desk.now


def test_coming_back_to_an_institution_that_handed_the_case_on_is_a_revolving_door() -> None:
    desk = planned_with_lead("OAI-NE")
    desk.call(handoff_rules.accept, OAI)
    desk.fire("confier", OAI, lead="ORP-NE", reason="Capacité retrouvée")
    case = desk.call(handoff_rules.accept, ORP)
    assert case.revolving_door is not None and "ORP-NE" in case.revolving_door
    assert "alert_coordination" in desk.events[-1].data["actions"]


def test_too_many_transfers_is_a_revolving_door() -> None:
    desk = Desk(route("reseau-cii"), Policy(revolving_door_transfers=1))
    desk.open(ORP, age=48, consent=True)
    desk.fire("transmettre", ORP)
    desk.fire("retenir", COORD)
    for who in (ORP, OAI, SSR):
        desk.fire("planifier", who, lead="OAI-NE") if who is ORP else desk.fire("planifier", who)
    desk.call(handoff_rules.accept, OAI)
    assert desk.case is not None and desk.case.revolving_door is None
    desk.fire("confier", OAI, lead="SSR-NE", reason="Aide sociale")
    assert desk.call(handoff_rules.accept, SSR).revolving_door == "2 transferts / transfers"


def test_a_joint_step_lets_each_listed_institution_act_without_changing_the_lead() -> None:
    desk = Desk(route("cmfp"))
    desk.open(SMIG, age=19, problematiques_multiples=True, suivi_deja_assure=False)
    desk.fire("transmettre", SMIG)
    desk.call(handoff_rules.accept, OFIJ)
    desk.fire("admettre", OFIJ)
    desk.fire("accompagner", OFIJ)
    desk.fire("demander_bilan_ai", OFIJ, reason="Dyslexie")
    case = desk.fire("bilan_rendu", OAI)
    assert (case.state, case.lead) == ("accompagnement", "OFIJ-NE")


def test_the_history_replays_to_the_case_and_its_chain_holds() -> None:
    desk = planned_with_lead("OAI-NE")
    desk.call(handoff_rules.accept, OAI)
    assert replay(desk.events) == desk.case
    assert chain_breaks(desk.events) == []
    from dataclasses import replace
    tampered = list(desk.events)
    tampered[2] = replace(tampered[2], reason="réécrit")
    assert chain_breaks(tampered) == ["event 3: content does not match its hash"]


def test_entering_a_state_queues_its_actions() -> None:
    desk = referred()
    assert desk.events[-1].data["actions"] == ["gather_files", "convene_assessment"]


def test_there_is_nothing_to_settle_on_a_case_that_is_not_escalated() -> None:
    desk = referred()
    with pytest.raises(Conflict):
        desk.call(escalations.settle, COORD, "Rien", None)
