"""What a reader without the situation reads of a sign-off in the history: who signed and
which lead was proposed (the case's course), never the proposal's reason, nor its fields
beyond the categories the reader sees, nor a refusal's reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from relais.cases.access import CaseView
from relais.cases.domain.case import CaseState
from relais.cases.domain.events import Event
from relais.institutions.registry import default_registry
from relais.workflows.engine.validate import parse_route
from tests.conftest import SSR

ROUTE = parse_route((Path(__file__).parents[1] / "workflows" / "routes" / "reseau-cii.yaml")
                    .read_text("utf-8"))[0]
AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_a_reader_without_the_situation_reads_no_reason_of_a_proposal() -> None:
    assert ROUTE is not None
    case = CaseState("c1", 1, "reseau-cii", ROUTE.version, "assessment", "ORP-NE", None, AT)
    signoff = {"event": "planifier", "transition": 4, "names": ["AC", "AI", "SA"],
               "signed": [["AC", "ORP-NE"]],
               "proposal": [["lead", "OAI-NE"], ["reason", "atteinte à la santé"],
                            ["fields", {"incapacite_travail_pct": 80, "demande_ai": True}]],
               "refusal": [["by", "s"], ["institution", "SSR-NE"],
                           ["reason", "budget d'aide sociale épuisé"]]}
    e = Event("c1", 5, AT, "signed", "orp", "ORP-NE", "planifier", "assessment", None,
              "atteinte à la santé", {"signoff": signoff})
    blind = CaseView(SSR, case, ROUTE, {"identite": "x"}, ["situation", "medical"])
    shown = blind.event(e)
    proposal = dict(shown.data["signoff"]["proposal"])
    assert proposal["lead"] == "OAI-NE"  # how the case moves: kept
    assert proposal.get("reason") is None and proposal.get("fields") == {}
    assert dict(shown.data["signoff"]["refusal"]).get("reason") is None
    assert "épuisé" not in repr(shown.data) and "santé" not in repr(shown.data)
    assert default_registry().get("SSR-NE").code == SSR.institution
