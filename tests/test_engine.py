"""Compiling routes into python-statemachine classes, and drawing them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from statemachine import StateMachine

from relais.workflows.engine import diagram
from relais.workflows.engine.compile import RouteMachine, machine_for
from relais.workflows.engine.validate import parse_route
from tests.conftest import SPEC_EXAMPLE
from tests.domain_helpers import route


def spec_route():  # type: ignore[no-untyped-def]
    r, _ = parse_route(SPEC_EXAMPLE.read_text())
    assert r is not None
    return r


def test_a_route_compiles_to_a_state_machine_class_with_its_states_and_events() -> None:
    m = machine_for(spec_route())
    cls = m.machine_class
    assert issubclass(cls, StateMachine)
    assert {s.value for s in cls.states} == {f"s_{name}" for name in spec_route().states}
    assert cls.catch_errors_as_events is False
    assert cls.allow_event_without_transition is False


def test_compiled_machines_are_cached_per_route_version() -> None:
    r = spec_route()
    assert machine_for(r) is machine_for(spec_route())
    changed, _ = parse_route(SPEC_EXAMPLE.read_text().replace("version: 1 ", "version: 2 "))
    assert changed is not None and machine_for(changed) is not machine_for(r)


def test_the_machine_takes_the_first_transition_whose_guard_holds() -> None:
    m = machine_for(spec_route())
    step = m.step("triage", "evaluer", {"age": 30, "incapacite_travail_pct": 50})
    assert step is not None and step.target == "assessment"
    assert step.actions == ("gather_files", "convene_assessment")
    assert m.step("triage", "evaluer", {"age": 16, "incapacite_travail_pct": 50}) is None
    assert m.step("triage", "no_such_event", {}) is None
    assert m.step("clos", "revoir", {}) is None


def test_a_machine_keeps_working_after_a_case_reached_a_final_state() -> None:
    m = machine_for(spec_route())
    assert m.step("plan", "cloturer", {}) is not None
    assert m.step("signalement", "retenir", {"consentement": True}) is not None


def test_errors_raised_inside_the_machine_surface_instead_of_becoming_events() -> None:
    m = RouteMachine(spec_route())
    machine, slot = m._instance()
    slot.state = "s_triage"
    slot.entered = None  # the enter callback of `assessment` now fails
    with pytest.raises(AssertionError):
        machine.send("e_evaluer", fields={"age": 30, "incapacite_travail_pct": 5})


def test_event_and_state_names_cannot_collide_with_the_machine() -> None:
    text = SPEC_EXAMPLE.read_text().replace("event: lancer", "event: send") \
        .replace("event: revoir", "event: model").replace("on_deadline: revoir",
                                                          "on_deadline: model")
    r, problems = parse_route(text.replace("  plan:\n", "  configuration:\n")
                              .replace("to: plan\n", "to: configuration\n")
                              .replace("from: plan\n", "from: configuration\n")
                              .replace("[plan, mesures]", "[configuration, mesures]"))
    assert problems == [] and r is not None
    step = machine_for(r).step("configuration", "send", {})
    assert step is not None and step.target == "mesures"
    back = machine_for(r).step("mesures", "model", {})
    assert back is not None and back.target == "configuration"


@pytest.mark.parametrize("name", ["reseau-cii", "cmfp", "ne-eso"])
def test_the_svg_drawing_shows_every_state_and_highlights_the_current_one(name: str) -> None:
    r = route(name)
    current = list(r.states)[1]
    svg = diagram.svg(r, current)
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    drawn = {g.get("data-state") for g in root.iterfind(".//s:g", ns) if g.get("data-state")}
    assert drawn == set(r.states)
    highlighted = [g.get("data-state") for g in root.iterfind(".//s:g", ns)
                   if "current" in (g.get("class") or "")]
    assert highlighted == [current]
    texts = "".join(root.itertext())
    assert all(s.title["fr"] in texts for s in r.states.values())


def test_the_mermaid_drawing_lists_every_transition() -> None:
    r = route("reseau-cii")
    text = diagram.mermaid(r, "plan")
    assert text.startswith("stateDiagram-v2")
    for t in r.transitions:
        for src in t.sources:
            assert f"{src} --> {t.target}: {t.event}" in text
    assert "class plan current" in text


def test_remembered_decisions_agree_with_running_the_machine() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    r = route("reseau-cii")
    m = machine_for(r)
    events = [*sorted({t.event for t in r.transitions}), "inconnu"]

    @settings(max_examples=300, deadline=None)
    @given(state=st.sampled_from(sorted(r.states)), event=st.sampled_from(events),
           age=st.none() | st.integers(0, 99), consent=st.none() | st.booleans())
    def check(state: str, event: str, age: int | None, consent: bool | None) -> None:
        fields = {k: v for k, v in (("age", age), ("consentement", consent)) if v is not None}
        assert m.step(state, event, fields) == m.send(state, event, fields)

    check()


@pytest.mark.parametrize("name", ["reseau-cii", "cmfp", "ne-eso"])
def test_the_french_drawing_says_deadlines_and_moves_in_french_not_in_codes(name: str) -> None:
    r = route(name)
    ns = {"s": "http://www.w3.org/2000/svg"}
    root = ET.fromstring(diagram.svg(r, None, "fr"))
    texts = [t.text or "" for t in root.iterfind(".//s:text", ns)]
    said = "\n".join(texts)
    for word in ("working day", " days", " weeks", " month"):
        assert word not in said, word
    for t in r.transitions:
        if t.title:
            assert t.title["fr"] in said
        assert t.event not in texts and not any(
            t.event in part.split(", ") for part in texts), t.event
    assert not any(n in texts or f"{n} ·" in said for n in r.states if n not in {
        s.title["fr"] for s in r.states.values()})
    english = "".join(ET.fromstring(diagram.svg(r, None, "en")).itertext())
    assert all(t.title["en"] in english for t in r.transitions if t.title)


def test_the_french_drawing_of_reseau_cii_reads_jours_ouvrables_and_mois() -> None:
    said = "".join(ET.fromstring(diagram.svg(route("reseau-cii"), None, "fr")).itertext())
    assert "jours ouvrables" in said and "Ne pas retenir" in said and "Solution trouvée" in said
    assert "ecarter" not in said and "solution_trouvee" not in said
