"""The guard language: what it accepts, how it evaluates, and what it refuses to run."""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relais.workflows.engine.guards import FieldType, GuardError, compile_guard

FIELDS = {
    "age": FieldType("integer"), "taux": FieldType("number"), "consentement": FieldType("boolean"),
    "nom": FieldType("string"), "statut": FieldType("enum", ("permis_b", "permis_c")),
    "fin_droit": FieldType("date"),
}


@pytest.mark.parametrize(("text", "values", "expected"), [
    ("consentement", {"consentement": True}, True),
    ("not consentement", {"consentement": True}, False),
    ("age >= 18 and taux < 0.5", {"age": 18, "taux": 0.2}, True),
    ("age < 18 or (taux > 0.5 and consentement)", {"age": 30, "taux": 0.9,
                                                   "consentement": True}, True),
    ('statut == "permis_b"', {"statut": "permis_b"}, True),
    ('statut in ["permis_b", "permis_c"]', {"statut": "permis_c"}, True),
    ('statut not in ["permis_b"]', {"statut": "permis_c"}, True),
    ('nom != "x"', {"nom": "y"}, True),
    ('fin_droit < "2027-01-01"', {"fin_droit": date(2026, 5, 1)}, True),
    ("age >= 18", {}, False),  # a comparison with a missing field is false
    ("not (age >= 18)", {}, True),
    ("age == -3", {"age": -3}, True),
])
def test_guards_evaluate_as_written(text: str, values: dict[str, object],
                                    expected: bool) -> None:
    assert compile_guard(text, FIELDS)(values) is expected


@pytest.mark.parametrize(("text", "code"), [
    ("age >=", "guard_syntax"),
    ("age = 18", "guard_syntax"),
    ("salaire > 3", "guard_unknown_field"),
    ('age > "18"', "guard_type"),
    ("age", "guard_type"),
    ('nom < "b"', "guard_type"),
    ('statut == "permis_x"', "guard_type"),
    ('fin_droit < "demain"', "guard_type"),
    ("consentement and age", "guard_type"),
    ("", "guard_syntax"),
])
def test_bad_guards_are_caught_at_validation(text: str, code: str) -> None:
    with pytest.raises(GuardError) as exc:
        compile_guard(text, FIELDS)
    assert exc.value.code == code


@pytest.mark.parametrize("hostile", [
    "__import__('os').system('touch /tmp/relais-pwned')",
    "age.__class__.__mro__",
    "(lambda: 1)()",
    "open('/etc/passwd')",
    "age if True else age",
    "[x for x in ()]",
    "9 ** 9 ** 9 > age",
    "age; import os",
    "exec('1')",
    "age @ age",
])
def test_hostile_guards_are_refused_and_never_run(hostile: str) -> None:
    with pytest.raises(GuardError):
        compile_guard(hostile, FIELDS)


def test_deep_parentheses_are_refused_before_parsing() -> None:
    with pytest.raises(GuardError) as exc:
        compile_guard("(" * 200 + "consentement" + ")" * 200, FIELDS)
    assert exc.value.code == "guard_too_deep"


def test_very_long_guards_are_refused() -> None:
    with pytest.raises(GuardError) as exc:
        compile_guard(" or ".join(["consentement"] * 200), FIELDS)
    assert exc.value.code == "guard_too_long"


@given(age=st.integers(-1000, 1000), limit=st.integers(-1000, 1000))
def test_comparisons_agree_with_python_on_integers(age: int, limit: int) -> None:
    for op, fn in ((">=", age >= limit), ("<", age < limit), ("==", age == limit),
                   ("!=", age != limit)):
        assert compile_guard(f"age {op} {limit}", FIELDS)({"age": age}) is fn


@given(st.text(max_size=80))
def test_arbitrary_text_never_crashes_the_compiler(text: str) -> None:
    with contextlib.suppress(GuardError):
        compile_guard(text, FIELDS)


def test_a_guard_says_which_of_its_conditions_failed_and_with_what() -> None:
    fields = {"age": FieldType("integer"), "consentement": FieldType("boolean"),
              "incapacite_travail_pct": FieldType("integer")}
    g = compile_guard("consentement and age >= 18 and (incapacite_travail_pct < 100 or "
                      "age > 60)", fields)
    assert g.failed({"consentement": True, "age": 16, "incapacite_travail_pct": 50}) == [
        "age >= 18 (age : 16)"]
    assert g.failed({"age": 30, "incapacite_travail_pct": 100}) == [
        "consentement (consentement : —)",
        "(incapacite_travail_pct < 100 or age > 60) (incapacite_travail_pct : 100, age : 30)"]
    assert g.failed({"consentement": True, "age": 30, "incapacite_travail_pct": 10}) == []


def test_a_guard_error_is_said_in_the_language_asked() -> None:
    """The detail of a guard's error is one language too: a route written in Lugano reads
    its mistakes in Italian."""
    from relais.conventions.catalogue import guard_problem
    with pytest.raises(GuardError) as exc:
        compile_guard("age", FIELDS)
    said = {lang: guard_problem(exc.value, lang) for lang in ("fr", "de", "it", "en")}
    assert said["de"].startswith("Bedingung mit falschen Typen: das Ergebnis ist")
    assert said["it"].startswith("condizione con tipi errati: il risultato è")
    assert said["fr"].startswith("condition mal typée : le résultat est")
    assert said["en"].startswith("guard has wrong types: the result is")
    assert not any(" / " in s for s in said.values())
