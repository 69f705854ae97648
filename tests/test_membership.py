"""Membership in the pure domain: who takes part in a case, how one leaves, and the roster
read from the history (since when, by which event)."""

from __future__ import annotations

import pytest

from relais.cases.domain import handoff_rules, membership
from relais.cases.domain.errors import Conflict, MissingInput, NotAllowed
from relais.cases.domain.events import replay
from relais.cases.domain.visibility import takes_part
from tests.conftest import COORD, OAI, ORP, SSR
from tests.domain_helpers import Desk, route


def accepted() -> Desk:
    """Journey C: referred, taken on, the plan signed with the OAI as lead, accepted."""
    desk = Desk(route("reseau-cii"))
    desk.open(ORP, consent=True, age=48)
    desk.fire("transmettre", ORP)
    desk.fire("retenir", COORD)
    for who in (ORP, OAI, SSR):
        case = desk.fire("planifier", who, lead="OAI-NE")
    assert case.handoff is not None
    desk.call(handoff_rules.accept, OAI)
    return desk


def test_the_signatories_keep_taking_part_once_the_plan_takes_effect() -> None:
    desk = accepted()
    case = desk.case
    assert case is not None and (case.lead, case.state) == ("OAI-NE", "plan")
    for code in ("OAI-NE", "SSR-NE", "ORP-NE"):
        assert takes_part(code, case, desk.route, desk.ctx().registry), code
    assert not takes_part("SSR-LCF", case, desk.route, desk.ctx().registry)
    case = desk.fire("lancer", OAI)
    assert takes_part("SSR-NE", case, desk.route, desk.ctx().registry)


def test_a_partner_and_a_past_lead_leave_on_record_and_may_come_back() -> None:
    desk = accepted()
    reg = desk.ctx().registry
    case = desk.call(membership.leave, COORD, "SSR-NE", "plus de mesure SA")
    assert "SSR-NE" not in case.partners and not takes_part("SSR-NE", case, desk.route, reg)
    assert desk.events[-1].kind == "partners_left" and desk.events[-1].reason
    case = desk.call(membership.leave, COORD, "ORP-NE", "fin de droit")
    assert not takes_part("ORP-NE", case, desk.route, reg)
    assert case.handed_on == ("ORP-NE",)  # still a past lead for the revolving door
    assert replay(desk.events) == case  # a fact of the history
    assert [m.institution for m in membership.roster(desk.events, case)] == ["OAI-NE"]
    case = desk.call(membership.join, COORD, ["SSR-NE"], "reprise")
    assert takes_part("SSR-NE", case, desk.route, reg) and case.left == ("ORP-NE",)
    [lead, ssr] = membership.roster(desk.events, case)
    assert (lead.institution, lead.role, lead.kind, lead.event) == (
        "OAI-NE", "lead", "transitioned", "retenir")
    assert (ssr.institution, ssr.kind, ssr.by, ssr.reason) == (
        "SSR-NE", "partners_joined", "CII-NE", "reprise")


def test_a_signatory_of_a_pending_proposal_does_not_leave() -> None:
    desk = Desk(route("reseau-cii"))
    desk.open(ORP, consent=True, age=48)
    desk.fire("transmettre", ORP)
    desk.fire("retenir", COORD)
    case = desk.fire("planifier", SSR, lead="OAI-NE")
    with pytest.raises(Conflict, match="signé"):
        membership.leave(desk.ctx(), case, COORD, "SSR-NE", "motif")
    assert membership.leave(desk.ctx(), case, COORD, "OAI-NE", "motif")  # not signed yet


def test_who_may_not_leave_or_make_leave() -> None:
    desk = accepted()
    case = desk.case
    assert case is not None
    with pytest.raises(NotAllowed):
        membership.leave(desk.ctx(), case, OAI, "SSR-NE", "non")
    with pytest.raises(MissingInput):
        membership.leave(desk.ctx(), case, COORD, "SSR-NE", "  ")
    for code in ("OAI-NE", "SSR-LCF"):  # the lead; one that never took part
        with pytest.raises(Conflict):
            membership.leave(desk.ctx(), case, COORD, code, "motif")
    with pytest.raises(Conflict, match="tâche ouverte"):  # its file is still awaited
        membership.leave(desk.ctx(), case, COORD, "SSR-NE", "motif", tasked=True)
