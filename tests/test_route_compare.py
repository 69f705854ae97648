"""The comparison of two route versions the workshop shows before a coordinator publishes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relais.wiring import standard_route_texts
from relais.workflows.engine.compare import Change, compare
from relais.workflows.engine.model import Route
from relais.workflows.engine.validate import parse_route

NE_ESO = standard_route_texts()["ne-eso.yaml"]


def parsed(text: str) -> Route:
    route, problems = parse_route(text)
    assert route is not None, problems
    return route


def edited(*pairs: tuple[str, str]) -> Route:
    text = NE_ESO
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return parsed(text)


def test_a_route_compared_with_itself_has_no_change() -> None:
    assert compare(parsed(NE_ESO), parsed(NE_ESO)) == []


def test_a_new_version_number_alone_is_no_change() -> None:
    assert compare(parsed(NE_ESO), edited(("version: 2", "version: 3"))) == []


def test_a_longer_deadline_is_one_change_of_that_state() -> None:
    new = edited(("deadline: 10 working days", "deadline: 15 working days"))
    assert compare(parsed(NE_ESO), new) == [
        Change("state", "candidature", "changed", "deadline", "10 working days",
               "15 working days")]


def test_a_new_state_and_its_transitions_are_listed_as_added() -> None:
    new = edited(("  clos:\n", "  entretien:\n    title: {fr: Entretien, en: Interview}\n"
                  "    owner: SA\n    deadline: 5 working days\n  clos:\n"),
                 ("  - event: admettre_stage\n",
                  "  - event: convoquer\n    from: candidature\n    to: entretien\n"
                  "  - event: admettre_stage\n    from: entretien\n    to: stage_observation\n"
                  "  - event: admettre_stage\n"))
    changes = compare(parsed(NE_ESO), new)
    assert Change("state", "entretien", "added") in changes
    assert Change("transition", "convoquer (candidature)", "added") in changes
    assert Change("transition", "admettre_stage (entretien)", "added") in changes
    assert len(changes) == 3


def test_a_removed_state_an_owner_a_guard_and_a_field_bound_are_each_seen() -> None:
    old = parsed(NE_ESO)
    new = edited(("    owner: lead\n    deadline: 3 months",
                  "    owner: SA\n    deadline: 3 months"),
                 ("guard: taux_activite_pct >= 50", "guard: taux_activite_pct >= 40"),
                 ("min: 0, max: 100", "min: 0, max: 80"),
                 ("  abandon: {fr: Abandon, en: Dropped out}\n", ""))
    assert set(compare(old, new)) == {
        Change("state", "stage_observation", "changed", "owner", "lead", "SA"),
        Change("transition", "engager (stage_observation)", "changed", "guard",
               "taux_activite_pct >= 50", "taux_activite_pct >= 40"),
        Change("field", "taux_activite_pct", "changed", "max", "100", "80"),
        Change("outcome", "abandon", "removed"),
    }
    # and backwards, what was added is removed
    assert Change("outcome", "abandon", "added") in compare(new, old)


def test_the_route_settings_are_compared_too() -> None:
    new = edited(("calendar: CH-NE", "calendar: CH-VD"), ("initial: candidature\n",
                                                           "initial: candidature\n"
                                                           "handoff_deadline: 3 working days\n"))
    assert compare(parsed(NE_ESO), new) == [
        Change("route", "ne-eso", "changed", "calendar", "CH-NE", "CH-VD"),
        Change("route", "ne-eso", "changed", "handoff_deadline", "5 working days",
               "3 working days")]


def test_a_transition_moved_to_another_target_is_a_change_not_a_removal() -> None:
    new = edited(("    from: stage_observation\n    to: clos\n",
                  "    from: stage_observation\n    to: non_retenu\n"),
                 ("    require: [outcome, reason]", "    require: [reason]"))
    changes = compare(parsed(NE_ESO), new)
    assert Change("transition", "renoncer (stage_observation)", "changed", "target", "clos",
                  "non_retenu") in changes
    assert all(c.how == "changed" for c in changes)


@pytest.mark.parametrize("name", sorted(standard_route_texts()))
def test_every_shipped_route_differs_from_the_others_and_not_from_itself(name: str) -> None:
    route = parsed(standard_route_texts()[name])
    assert compare(route, route) == []
    for other in standard_route_texts():
        if other != name:
            assert compare(route, parsed(standard_route_texts()[other]))


DEADLINES = st.sampled_from(["5 working days", "10 working days", "2 weeks", "3 months"])


@settings(max_examples=30, deadline=None)
@given(candidature=DEADLINES, stage=DEADLINES)
def test_exactly_the_deadlines_that_differ_are_reported(candidature: str, stage: str) -> None:
    # the observation placement first: its line is unique, then the first "10 working days"
    new = edited(("deadline: 3 months\n    actions", f"deadline: {stage}\n    actions"),
                 ("deadline: 10 working days", f"deadline: {candidature}"))
    reported = {(c.name, c.after) for c in compare(parsed(NE_ESO), new)}
    expected = {(n, d) for n, old, d in (("candidature", "10 working days", candidature),
                                         ("stage_observation", "3 months", stage)) if d != old}
    assert reported == expected
