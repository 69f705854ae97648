"""The sign-off as a decision among equals, in the pure domain: each signatory approves the
proposal as it stands or refuses it with a reason; a refusal returns it to its author, who
proposes again or withdraws; what takes effect is credited to the proposal's author; and a
settlement by the coordination resumes the signed step without new signatures."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relais.cases.domain import escalations, handoff_rules, signoffs
from relais.cases.domain.errors import Conflict, MissingInput, NotAllowed
from relais.cases.domain.events import replay
from tests.conftest import COORD, OAI, ORP, SSR, STEERING
from tests.domain_helpers import Desk, route


def referred() -> Desk:
    desk = Desk(route("reseau-cii"))
    desk.open(ORP, consent=True, age=48)
    desk.fire("transmettre", ORP)
    desk.fire("retenir", COORD)
    return desk


def proposed_by_oai(lead: str = "OAI-NE") -> Desk:
    desk = referred()
    desk.fire("planifier", OAI, lead=lead, reason="Atteinte à la santé au premier plan")
    return desk


# -- 3. the signatories see and answer the proposal -------------------------------------------

def test_the_signoff_carries_the_proposal_its_author_and_when() -> None:
    desk = proposed_by_oai()
    s = desk.case.signoff if desk.case else None
    assert s is not None
    assert (s.get("lead"), s.get("reason")) == ("OAI-NE", "Atteinte à la santé au premier plan")
    assert (s.author, s.author_institution, s.proposed_at) == ("oai", "OAI-NE", desk.now)
    assert s.status == "open"


def test_a_signatory_approves_without_naming_the_lead_again() -> None:
    desk = proposed_by_oai()
    desk.call(signoffs.approve, SSR, "D'accord")
    case = desk.call(signoffs.approve, ORP, None)
    assert case.handoff is not None and case.handoff.receiver == "OAI-NE"


def test_naming_another_lead_than_the_proposal_says_what_to_do_instead() -> None:
    desk = proposed_by_oai()
    with pytest.raises(Conflict) as exc:
        desk.fire("planifier", SSR, lead="SSR-NE")
    assert "OAI-NE" in exc.value.message and "refuser" in exc.value.message


def test_a_refusal_needs_a_reason_and_returns_the_proposal_to_its_author() -> None:
    desk = proposed_by_oai()
    desk.call(signoffs.approve, ORP, None)
    with pytest.raises(MissingInput):
        desk.call(signoffs.refuse, SSR, "  ")
    case = desk.call(signoffs.refuse, SSR, "Les mesures d'aide sociale manquent au plan")
    s = case.signoff
    assert s is not None and s.status == "refused" and s.signed == ()
    assert s.refusal_by == ("ssr", "SSR-NE")
    assert s.refusal_reason == "Les mesures d'aide sociale manquent au plan"
    assert desk.events[-1].kind == "signoff_refused"
    with pytest.raises(Conflict):  # a refused proposal is not signed any more
        desk.call(signoffs.approve, ORP, None)
    with pytest.raises(Conflict):  # it is its author's to propose again
        desk.fire("planifier", SSR, lead="SSR-NE")


def test_the_author_proposes_again_and_all_sign_the_new_proposal() -> None:
    desk = proposed_by_oai()
    desk.call(signoffs.refuse, SSR, "Les mesures d'aide sociale manquent")
    desk.fire("planifier", OAI, reason="Plan complété des mesures SSR")
    s = desk.case.signoff if desk.case else None
    assert s is not None and s.status == "open" and s.get("lead") == "OAI-NE"
    assert s.get("reason") == "Plan complété des mesures SSR" and s.refusal == ()
    desk.call(signoffs.approve, SSR, None)
    case = desk.call(signoffs.approve, ORP, None)
    assert case.handoff is not None and case.handoff.receiver == "OAI-NE"


def test_only_the_author_or_the_coordination_withdraws_a_proposal() -> None:
    desk = proposed_by_oai()
    with pytest.raises(NotAllowed):
        desk.call(signoffs.withdraw, SSR, None)
    case = desk.call(signoffs.withdraw, OAI, "Attendre l'expertise")
    assert case.signoff is None and desk.events[-1].kind == "signoff_withdrawn"
    desk.fire("planifier", SSR, lead="SSR-NE", reason="Aide sociale d'abord")
    with pytest.raises(NotAllowed):  # the steering reads figures, it does not decide
        desk.call(signoffs.withdraw, STEERING, "Non")
    assert desk.call(signoffs.withdraw, COORD, "Doublon").signoff is None


def test_the_author_cannot_refuse_its_own_proposal_and_others_outside_cannot_refuse() -> None:
    desk = proposed_by_oai()
    with pytest.raises(Conflict):
        desk.call(signoffs.refuse, OAI, "Non")
    with pytest.raises(NotAllowed):
        desk.call(signoffs.refuse, COORD, "Non")


def test_who_may_do_what_is_told_to_each_reader() -> None:
    desk = proposed_by_oai()
    ctx, case = desk.ctx(), desk.case
    assert case is not None
    assert signoffs.allowed(ctx, case, OAI) == ["withdraw"]
    assert signoffs.allowed(ctx, case, SSR) == ["approve", "refuse"]
    assert signoffs.allowed(ctx, case, COORD) == ["withdraw"]
    case = desk.call(signoffs.refuse, SSR, "Non")
    assert signoffs.allowed(ctx, case, OAI) == ["propose", "withdraw"]
    assert signoffs.allowed(ctx, case, SSR) == []


# -- 4. what takes effect is credited to the proposal's author --------------------------------

def test_the_last_signature_credits_the_handoff_to_the_author_with_its_reason() -> None:
    desk = proposed_by_oai()
    desk.call(signoffs.approve, ORP, "Vu avec la conseillère")
    desk.call(signoffs.approve, SSR, "Accord du service social")
    signed, proposed = desk.events[-2:]
    assert (signed.kind, signed.actor, signed.institution, signed.reason) == \
        ("signed", "ssr", "SSR-NE", "Accord du service social")
    assert (proposed.kind, proposed.actor, proposed.institution, proposed.reason) == \
        ("handoff_proposed", "oai", "OAI-NE", "Atteinte à la santé au premier plan")


def test_a_plan_that_keeps_the_lead_is_credited_to_its_author() -> None:
    desk = referred()
    desk.fire("planifier", SSR, lead="ORP-NE", reason="L'ORP garde le suivi")
    desk.call(signoffs.approve, OAI, None)
    case = desk.call(signoffs.approve, ORP, "Oui")
    last = desk.events[-1]
    assert (case.state, last.kind, last.actor, last.institution, last.reason) == \
        ("plan", "transitioned", "ssr", "SSR-NE", "L'ORP garde le suivi")


# -- 5. a settlement that settles -------------------------------------------------------------

def refused_twice() -> Desk:
    desk = proposed_by_oai()
    desk.call(signoffs.approve, ORP, None)
    desk.call(signoffs.approve, SSR, None)
    desk.call(handoff_rules.refuse, OAI, "Dossier médical incomplet")
    return desk


def test_a_signed_proposal_outlives_a_refused_handoff() -> None:
    desk = refused_twice()
    s = desk.case.signoff if desk.case else None
    assert s is not None and s.status == "complete"
    case = desk.fire("planifier", ORP)  # proposed again: the signatures still hold
    assert case.handoff is not None and case.handoff.receiver == "OAI-NE"
    assert desk.events[-1].kind == "handoff_proposed"


def test_a_signed_proposal_outlives_an_expired_handoff_until_the_lead_changes_by_it() -> None:
    desk = proposed_by_oai()
    desk.call(signoffs.approve, ORP, None)
    desk.call(signoffs.approve, SSR, None)
    desk.later(days=10)
    case = desk.call(escalations.on_deadline, desk_system())
    assert desk.events[-1].kind == "handoff_expired"
    assert case.signoff is not None and case.signoff.status == "complete"
    case = desk.fire("planifier", SSR)  # any signatory proposes it again
    assert case.handoff is not None and desk.events[-1].actor == "ssr"
    case = desk.call(handoff_rules.accept, OAI)
    assert (case.state, case.lead, case.signoff) == ("plan", "OAI-NE", None)


def test_another_lead_on_a_signed_proposal_starts_a_new_one() -> None:
    desk = refused_twice()
    case = desk.fire("planifier", SSR, lead="SSR-NE", reason="L'aide sociale reprend")
    s = case.signoff
    assert case.handoff is None and s is not None
    assert (s.status, s.get("lead"), s.author_institution, s.signed) == \
        ("open", "SSR-NE", "SSR-NE", (("SA", "SSR-NE"),))


def test_settling_with_the_signed_lead_and_step_enters_it_without_new_signatures() -> None:
    desk = refused_twice()
    desk.fire("planifier", ORP)
    case = desk.call(handoff_rules.refuse, OAI, "Toujours incomplet")
    assert case.escalated
    case = desk.call(escalations.settle, COORD, "Compétence AI", "OAI-NE", "plan")
    assert (case.state, case.lead, case.escalated, case.signoff, case.handoff) == \
        ("plan", "OAI-NE", False, None, None)
    settled = desk.events[-1]
    assert (settled.kind, settled.from_state, settled.to_state) == \
        ("escalation_settled", "assessment", "plan")
    assert replay(desk.events) == desk.case


def test_settling_with_another_lead_cannot_claim_the_signatures() -> None:
    desk = refused_twice()
    desk.fire("planifier", ORP)
    desk.call(handoff_rules.refuse, OAI, "Toujours incomplet")
    with pytest.raises(Conflict) as exc:
        desk.call(escalations.settle, COORD, "Compétence SSR", "SSR-NE", "plan")
    assert "OAI-NE" in exc.value.message
    with pytest.raises(MissingInput):  # no transition leads from the step to there
        desk.call(escalations.settle, COORD, "Compétence AI", "OAI-NE", "suivi")
    case = desk.call(escalations.settle, COORD, "Compétence SSR", "SSR-NE", None)
    assert (case.state, case.lead) == ("assessment", "SSR-NE")  # the lead only, as before


def test_settling_into_a_signed_step_needs_the_signatures() -> None:
    desk = referred()
    desk.later(days=60)
    desk.call(escalations.on_deadline, desk_system())
    desk.later(days=30)
    desk.call(escalations.on_deadline, desk_system())
    assert desk.case is not None and desk.case.escalated
    with pytest.raises(Conflict) as exc:
        desk.call(escalations.settle, COORD, "Plan", "OAI-NE", "plan")
    assert "signatures" in exc.value.message


def desk_system():  # type: ignore[no-untyped-def]
    from relais.cases.domain.actors import system_actor
    return system_actor("CII-NE")


# -- the property: a refusal or a withdrawal never changes the lead or the state ---------------

ANSWERS = st.lists(st.tuples(st.sampled_from(["approve", "refuse", "withdraw", "propose"]),
                             st.sampled_from(["ORP", "OAI", "SSR", "COORD"]),
                             st.sampled_from(["ORP-NE", "OAI-NE", "SSR-NE"])),
                   max_size=8)
WHO = {"ORP": ORP, "OAI": OAI, "SSR": SSR, "COORD": COORD}


@settings(max_examples=60, deadline=None)
@given(ANSWERS)
def test_a_refusal_or_a_withdrawal_never_changes_lead_or_state(steps: list[tuple[str, str, str]]
                                                              ) -> None:
    desk = proposed_by_oai()
    for what, who, lead in steps:
        before = desk.case
        assert before is not None
        try:
            if what == "approve":
                desk.call(signoffs.approve, WHO[who], None)
            elif what == "refuse":
                desk.call(signoffs.refuse, WHO[who], "Non")
            elif what == "withdraw":
                desk.call(signoffs.withdraw, WHO[who], None)
            else:
                desk.fire("planifier", WHO[who], lead=lead, reason="Proposition")
        except Exception as exc:  # only the rules' refusals are expected
            assert exc.__class__.__name__ in ("Conflict", "MissingInput", "NotAllowed",
                                              "HandoffPending", "NotFound", "EventRefused")
            continue
        if what in ("refuse", "withdraw"):
            after = desk.case
            assert after is not None
            assert (after.lead, after.state, after.handoff) == \
                (before.lead, before.state, before.handoff)
    assert replay(desk.events) == desk.case
