"""Validation of route files: the spec's example and the shipped routes are valid; every bad
file gets exactly its problems, with line and key path; hostile files fail fast."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from relais.wiring import standard_route_texts
from relais.workflows.engine.problems import MESSAGES
from relais.workflows.engine.validate import parse_route
from tests.conftest import SPEC_EXAMPLE

BAD = Path(__file__).parent / "routes" / "bad"
EXPECTED: dict[str, list[str]] = yaml.safe_load((BAD / "expected.yaml").read_text())


def problems_of(text: str) -> list[str]:
    _, problems = parse_route(text)
    return sorted(f"{p.line} {p.path or '-'} {p.code}" for p in problems)


def test_the_spec_example_validates() -> None:
    route, problems = parse_route(SPEC_EXAMPLE.read_text())
    assert problems == []
    assert route is not None and route.key == ("reseau-cii", 1)


@pytest.mark.parametrize("name", sorted(standard_route_texts()))
def test_every_shipped_route_validates(name: str) -> None:
    assert problems_of(standard_route_texts()[name]) == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_bad_file_gets_exactly_its_problems(name: str) -> None:
    assert problems_of((BAD / name).read_text()) == sorted(EXPECTED[name])


def test_every_bad_file_is_listed_with_its_expectations() -> None:
    assert sorted(p.name for p in BAD.glob("*.yaml") if p.name != "expected.yaml") == \
        sorted(EXPECTED)


def test_all_problems_of_a_file_are_reported_in_one_pass() -> None:
    text = SPEC_EXAMPLE.read_text().replace("owner: coordination", "owner: coordinaton") \
        .replace("deadline: 10 working days", "deadline: ten days") \
        .replace("guard: consentement", "guard: consent")
    found = {p.split()[2] for p in problems_of(text)}
    assert {"unknown_institution", "bad_deadline", "guard_unknown_field"} <= found


def test_every_message_exists_in_french_and_english() -> None:
    for code, (fr, en) in MESSAGES.items():
        assert fr and en and fr != en, code


def test_a_problem_renders_as_file_line_path_message() -> None:
    _, problems = parse_route((BAD / "to_unknown_state.yaml").read_text())
    line = problems[0].render("route.yaml", "en")
    assert line == "route.yaml:23: transitions[0].to: 'suit' names no state"


def test_an_alias_bomb_is_refused_quickly() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n"
        for i in range(9))
    start = time.perf_counter()
    found = problems_of(bomb)
    assert time.perf_counter() - start < 1.0
    assert any(p.endswith(" alias") for p in found)


def test_a_huge_file_is_refused_without_parsing() -> None:
    assert problems_of("a: " + "x" * 600_000) == ["1 - too_large"]


def test_deep_nesting_is_refused_without_crashing() -> None:
    start = time.perf_counter()
    found = {p.split()[2] for p in problems_of("a: " + "[" * 5000 + "]" * 5000)}
    assert time.perf_counter() - start < 2.0
    assert found & {"too_deep", "yaml_syntax"}


def test_a_python_object_tag_never_runs(tmp_path: Path) -> None:
    marker = Path("/tmp/relais-pwned")
    marker.unlink(missing_ok=True)
    problems_of((BAD / "python_tag.yaml").read_text())
    problems_of((BAD / "guard_python_code.yaml").read_text())
    assert not marker.exists()


def test_keys_stay_text_even_when_yaml_would_read_a_boolean() -> None:
    text = SPEC_EXAMPLE.read_text().replace("  clos:\n", "  no:\n")
    route, problems = parse_route(text.replace("to: clos", 'to: "no"'))
    assert problems == [] and route is not None and "no" in route.states
    # as a value, YAML 1.1 reads `no` as false: the coordinator is told where
    assert problems_of(text.replace("to: clos", "to: no")) == ["79 transitions[7].to wrong_type"]


def test_content_identity_ignores_comments_and_layout() -> None:
    a, _ = parse_route(SPEC_EXAMPLE.read_text())
    b, _ = parse_route("# a comment\n" + SPEC_EXAMPLE.read_text())
    assert a is not None and b is not None and a.digest == b.digest


# -- titles for enum values (issue 13: words, not codes) -----------------------------------

ENUM = """id: titres
version: 1
title: {fr: Titres, en: Titles}
institutions: [AC]
calendar: CH-NE
initial: a
outcomes:
  fait: {fr: Fait, en: Done}
fields:
  statut:
    type: enum
    values: [permis_b, refugie]
    titles:
      refugie: {fr: Réfugié·e reconnu·e, en: Recognised refugee}
      permis_b: Permis B
states:
  a: {title: {fr: A, en: A}, owner: lead, deadline: 5 working days}
  b: {title: {fr: B, en: B}, final: true}
transitions:
  - event: finir
    from: a
    to: b
    guard: statut == "refugie"
"""


def test_enum_values_may_carry_titles_and_files_without_them_stay_valid() -> None:
    route, problems = parse_route(ENUM)
    assert problems == [] and route is not None
    spec = route.fields["statut"]
    assert spec.value_titles == {"refugie": {"fr": "Réfugié·e reconnu·e",
                                             "en": "Recognised refugee"},
                                 "permis_b": {"fr": "Permis B"}}
    untitled, problems = parse_route(ENUM.split("    titles:")[0] + "states:" +
                                     ENUM.split("states:")[1])
    assert problems == [] and untitled is not None
    assert untitled.fields["statut"].value_titles == {}


def test_titles_name_only_values_of_an_enum_field() -> None:
    assert problems_of(ENUM.replace("      permis_b: Permis B", "      permis_c: Permis C")) \
        == ["15 fields.statut.titles.permis_c enum_title_unknown"]
    not_enum = ENUM.replace("type: enum\n    values: [permis_b, refugie]", "type: string")
    assert "titles_not_enum" in {p.split()[2] for p in problems_of(not_enum)}
    assert problems_of(ENUM.replace("      refugie: {fr: Réfugié·e reconnu·e, en: Recognised "
                                    "refugee}", "      refugie: {en: Refugee}")) \
        == ["14 fields.statut.titles.refugie fr_required"]
