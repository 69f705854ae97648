"""Guards: a small, safe expression language over a route's typed fields.

Parsed by Lark with the grammar in ``guard.lark``; type-checked against the route's fields
when the route is validated; evaluated by walking the tree. No Python is ever evaluated.
A comparison that involves a field the case has not filled in is false.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from relais.i18n import Said, bi

MAX_LENGTH = 1000
MAX_PARENS = 32

Fields = Mapping[str, Any]
Evaluator = Callable[[Fields], Any]
_MISSING = object()

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
# Guard types: "number" covers integer and number fields; enum fields compare as text.
# A consent field is a yes/no computed from the case's consent records (never written).
_FIELD_TYPES = {"integer": "number", "number": "number", "boolean": "boolean", "consent": "boolean",
                "string": "text", "enum": "text", "date": "date"}


@dataclass(frozen=True, slots=True)
class FieldType:
    type: str  # integer | number | boolean | string | date | enum | consent
    values: tuple[str, ...] = ()


class GuardError(ValueError):
    """A guard that does not parse or does not type-check; ``code`` names the problem."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


@cache
def _parser() -> Lark:
    grammar = resources.files("relais.workflows.engine").joinpath("guard.lark").read_text("utf-8")
    return Lark(grammar, parser="lalr", maybe_placeholders=False, propagate_positions=True)


@dataclass(frozen=True)
class Guard:
    text: str
    fields: frozenset[str]
    _evaluate: Evaluator
    _tree: Tree[Token] | None = field(default=None, compare=False, repr=False)
    _types: Mapping[str, FieldType] | None = field(default=None, compare=False, repr=False)

    def __call__(self, fields: Fields) -> bool:
        return self._evaluate(fields) is True

    def failed(self, fields: Fields) -> list[str]:
        """The conditions that do not hold, as written, each with the values it read
        ("age >= 18 (age : 16)"): the parts of an ``and`` one by one, anything else whole.
        Empty when the guard holds."""
        if self(fields) or self._tree is None or self._types is None:
            return []
        return _failing(self._tree, fields, self.text, self._types)


def _failing(node: Tree[Token] | Token, fields: Fields, text: str,
             types: Mapping[str, FieldType]) -> list[str]:
    if isinstance(node, Tree) and node.data == "and_expr":
        return [line for kid in node.children
                for line in _failing(kid, fields, text, types)]
    if _build(node, types)(fields) is True:
        return []
    return [_described(node, fields, text)]


def _described(node: Tree[Token] | Token, fields: Fields, text: str) -> str:
    assert isinstance(node, Tree)
    start, end = node.meta.start_pos, node.meta.end_pos
    if start > 0 and end < len(text) and text[start - 1] == "(" and text[end] == ")":
        start, end = start - 1, end + 1  # the condition as written, parentheses included
    names = list(dict.fromkeys(str(t) for t in node.scan_values(
        lambda v: isinstance(v, Token) and v.type == "FIELD")))
    values = ", ".join(f"{n} : {_shown(fields.get(n, _MISSING))}" for n in names)
    return f"{text[start:end]} ({values})" if values else text[start:end]


def _shown(value: Any) -> str:
    if value is _MISSING or value is None:
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value)


def compile_guard(text: str, fields: Mapping[str, FieldType]) -> Guard:
    """Parse and type-check ``text``; raise GuardError with a code from problems.MESSAGES."""
    if not isinstance(text, str) or not text.strip():
        raise GuardError("guard_syntax", column=1, detail="vide / empty")
    if len(text) > MAX_LENGTH:
        raise GuardError("guard_too_long", size=len(text), limit=MAX_LENGTH)
    depth = deepest = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        deepest = max(deepest, depth)
    if deepest > MAX_PARENS:
        raise GuardError("guard_too_deep", limit=MAX_PARENS)
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise GuardError("guard_syntax", column=exc.column,
                         detail=_near(text, exc.column)) from None
    except LarkError as exc:  # pragma: no cover - defensive
        raise GuardError("guard_syntax", column=1, detail=str(exc)) from None
    checker = _Checker(fields)
    kind = checker.type_of(tree)
    if kind != "boolean":
        raise GuardError("guard_type", detail=bi("le résultat est %(kind)s, pas un booléen",
                                                 "the result is %(kind)s, not a boolean",
                                                 kind=kind))
    return Guard(text, frozenset(checker.used), _build(tree, fields), tree, dict(fields))


def _near(text: str, column: int) -> str | Said:
    snippet = text[max(column - 1, 0):][:20]
    if not snippet:
        return "fin inattendue / unexpected end"
    return bi("près de « %(snippet)s »", "near '%(snippet)s'", snippet=snippet)


class _Checker:
    def __init__(self, fields: Mapping[str, FieldType]) -> None:
        self.fields = fields
        self.used: set[str] = set()

    def type_of(self, node: Tree[Token] | Token) -> str:
        assert isinstance(node, Tree)
        rule = node.data
        if rule == "field":
            name = str(node.children[0])
            if name not in self.fields:
                raise GuardError("guard_unknown_field", name=name,
                                 known=", ".join(sorted(self.fields)) or "(aucun / none)")
            self.used.add(name)
            return _FIELD_TYPES[self.fields[name].type]
        if rule in ("number", "string", "true", "false"):
            return {"number": "number", "string": "text"}.get(str(rule), "boolean")
        if rule in ("or_expr", "and_expr", "negation"):
            for child in node.children:
                self._expect(child, "boolean", str(rule))
            return "boolean"
        if rule == "compare":
            left, op, right = node.children
            self._compare(left, str(op), right)
            return "boolean"
        if rule in ("member", "not_member"):
            left, items = node.children
            assert isinstance(items, Tree)
            for item in items.children:
                self._compare(left, "==", item)
            return "boolean"
        raise GuardError("guard_syntax", column=1, detail=str(rule))  # pragma: no cover

    def _expect(self, node: Tree[Token] | Token, wanted: str, where: str) -> None:
        got = self.type_of(node)
        if got != wanted:
            raise GuardError("guard_type", detail=bi(
                "« %(where)s » attend un booléen, trouvé %(got)s",
                "'%(where)s' needs a boolean, found %(got)s", where=where, got=got))

    def _compare(self, left: Tree[Token] | Token, op: str, right: Tree[Token] | Token) -> None:
        lt, rt = self.type_of(left), self.type_of(right)
        # a date field compares with a quoted ISO date
        for a_type, b_type, lit in ((lt, rt, right), (rt, lt, left)):
            if a_type == "date" and b_type == "text":
                _date_literal(lit)
                return
        if lt != rt:
            raise GuardError("guard_type", detail=f"{lt} {op} {rt}")
        if lt in ("boolean", "text") and op not in ("==", "!="):
            raise GuardError("guard_type", detail=bi("« %(op)s » ne compare pas des %(type)s",
                                                     "'%(op)s' cannot order %(type)s values",
                                                     op=op, type=lt))
        for one, other in ((left, right), (right, left)):
            self._check_enum(one, other)

    def _check_enum(self, field_node: Tree[Token] | Token, lit: Tree[Token] | Token) -> None:
        if not (isinstance(field_node, Tree) and field_node.data == "field"):
            return
        spec = self.fields[str(field_node.children[0])]
        if spec.type == "enum" and isinstance(lit, Tree) and lit.data == "string":
            value = _string(lit)
            if value not in spec.values:
                raise GuardError("guard_type", detail=f"« {value} » n'est pas une valeur de "
                                 f"{field_node.children[0]} ({', '.join(spec.values)})")


def _string(node: Tree[Token]) -> str:
    raw = str(node.children[0])[1:-1]
    return raw.replace('\\"', '"').replace("\\\\", "\\")


def _date_literal(node: Tree[Token] | Token) -> date:
    if not (isinstance(node, Tree) and node.data == "string"):
        raise GuardError("guard_type",
                         detail="une date se compare à une date écrite \"AAAA-MM-JJ\" "
                                "/ a date compares with a quoted \"YYYY-MM-DD\"")
    try:
        return date.fromisoformat(_string(node))
    except ValueError:
        raise GuardError("guard_type", detail=bi("date illisible %(date)s",
                                                 "unreadable date %(date)s",
                                                 date=repr(_string(node)))) from None


def _build(node: Tree[Token] | Token, fields: Mapping[str, FieldType]) -> Evaluator:
    """Turn the checked tree into nested closures: evaluation is a walk, never eval."""
    assert isinstance(node, Tree)
    rule = node.data
    kids = node.children
    if rule == "field":
        name = str(kids[0])
        return lambda f: f.get(name, _MISSING)
    if rule == "number":
        text = str(kids[0])
        num: float | int = float(text) if any(c in text for c in ".eE") else int(text)
        return lambda f: num
    if rule == "string":
        s = _string(node)
        return lambda f: s
    if rule in ("true", "false"):
        b = rule == "true"
        return lambda f: b
    if rule == "negation":
        inner = _build(kids[0], fields)
        return lambda f: inner(f) is not True
    if rule in ("or_expr", "and_expr"):
        parts = [_build(k, fields) for k in kids]
        if rule == "or_expr":
            return lambda f: any(p(f) is True for p in parts)
        return lambda f: all(p(f) is True for p in parts)
    if rule == "compare":
        left, right = _operand(kids[0], kids[2], fields), _operand(kids[2], kids[0], fields)
        op = _OPS[str(kids[1])]
        return lambda f: _safe(op, left(f), right(f))
    if rule in ("member", "not_member"):
        left = _build(kids[0], fields)
        items_tree = kids[1]
        assert isinstance(items_tree, Tree)
        items = [_operand(i, kids[0], fields)({}) for i in items_tree.children]
        negate = rule == "not_member"

        def member(f: Fields) -> bool:
            value = left(f)
            if value is _MISSING or value is None:
                return False
            return (value in items) != negate

        return member
    raise AssertionError(rule)  # pragma: no cover - the checker refused it


def _operand(node: Tree[Token] | Token, other: Tree[Token] | Token,
             fields: Mapping[str, FieldType]) -> Evaluator:
    """A string literal compared with a date field is read as a date."""
    if (isinstance(node, Tree) and node.data == "string" and isinstance(other, Tree)
            and other.data == "field" and fields[str(other.children[0])].type == "date"):
        d = _date_literal(node)
        return lambda f: d
    return _build(node, fields)


def _safe(op: Callable[[Any, Any], bool], a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING or a is None or b is None:
        return False
    return op(a, b)
