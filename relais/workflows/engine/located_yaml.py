"""Strict YAML reading that remembers the line of every key and item.

Route files come from people, and sometimes from hostile people. We compose the YAML into
nodes (never constructing arbitrary Python objects), refuse anchors and aliases outright (no
alias bomb can expand), refuse duplicate keys, custom tags, numbers no column holds and
control characters, and bound size and depth.

Depth is bounded *before* composing: libyaml's parser is a loop over an explicit stack, but
the composers (PyYAML's, and the C one) recurse once per level on the C stack, and ~30,000
nested ``[`` in a 60 KB body killed the process (SIGSEGV) before any check of ours ran.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import yaml

from .problems import Problem, format_path

MAX_BYTES = 512 * 1024
MAX_DEPTH = 40
MAX_DIGITS = 30  # an integer or number written longer is no quantity a route means
Path = tuple[str | int, ...]


class _Rejected:
    """Stands for a value already reported (an alias, a tag): later checks stay quiet."""

    def __repr__(self) -> str:
        return "REJECTED"


REJECTED: Any = _Rejected()

_NUMBER_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_PLAIN_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq",
}

try:  # the C loader when libyaml is there; both compose the same nodes
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


@dataclass
class Located:
    """Plain data (dicts, lists, scalars) and the line of every path in it."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line(self, path: Path) -> int:
        """The line of ``path``, or of its nearest ancestor that exists."""
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)

    def problem(self, path: Path, code: str, **params: Any) -> None:
        self.problems.append(Problem(self.line(path), format_path(path), code, params))


class _Builder:
    def __init__(self, doc: Located) -> None:
        self.doc = doc
        self.seen: set[int] = set()
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, path: Path, depth: int) -> Any:
        line = node.start_mark.line + 1
        self.doc.lines.setdefault(path, line)
        if id(node) in self.seen:  # composed aliases share their node: refuse, never expand
            self.doc.problem(path, "alias")
            return REJECTED
        self.seen.add(id(node))
        if depth > MAX_DEPTH:
            self.doc.problem(path, "too_deep")
            return REJECTED
        if node.tag not in _PLAIN_TAGS:
            self.doc.problem(path, "tag", tag=node.tag)
            return REJECTED
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _scalar(self, node: yaml.Node, path: Path) -> Any:
        text = str(node.value)
        if node.tag in _NUMBER_TAGS and sum(c.isdigit() for c in text) > MAX_DIGITS:
            # int("9" * 5000) raises; 2**63 overflows every integer column; 1e400 is inf
            self.doc.problem(path, "too_long_number", limit=MAX_DIGITS)
            return REJECTED
        value = self.constructor.construct_object(node)
        if isinstance(value, float) and not math.isfinite(value):
            self.doc.problem(path, "not_finite")
            return REJECTED
        if isinstance(value, str) and any(unicodedata.category(c) == "Cc" and c not in "\t\n"
                                           for c in value):
            # NUL cannot be stored by PostgreSQL; the other control characters are no text
            self.doc.problem(path, "control_character")
            return REJECTED
        return value

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode) or id(key_node) in self.seen:
                self.doc.problems.append(
                    Problem(key_line, format_path(path), "wrong_type",
                            {"expected": "une clé simple / a plain key", "found": "?"}))
                continue
            self.seen.add(id(key_node))
            key = str(key_node.value)  # keys stay text: `no:` is a key, not False
            if key in out:
                self.doc.problems.append(Problem(key_line, format_path((*path, key)),
                                                 "duplicate_key",
                                                 {"key": key, "first": first_line[key]}))
                continue
            first_line[key] = key_line
            self.doc.lines[(*path, key)] = key_line
            out[key] = self.build(value_node, (*path, key), depth + 1)
        return out


def read_document(text: str | bytes) -> Located:
    """Read a YAML document strictly; problems are collected, never raised."""
    doc = Located(data=None)
    size = len(text.encode("utf-8") if isinstance(text, str) else text)
    if size > MAX_BYTES:
        doc.problem((), "too_large", size=size, limit=MAX_BYTES)
        return doc
    try:
        too_deep_at = _deeper_than(MAX_DEPTH, text)
        if too_deep_at:
            doc.problems.append(Problem(too_deep_at, "", "too_deep", {}))
            return doc
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        detail = " ".join(filter(None, [exc.context, exc.problem]))
        doc.problems.append(Problem(line, "", "yaml_syntax", {"detail": detail}))
        return doc
    except yaml.YAMLError as exc:
        doc.problems.append(Problem(1, "", "yaml_syntax", {"detail": str(exc)}))
        return doc
    except RecursionError:  # pragma: no cover (the pre-scan above refuses it first)
        doc.problem((), "too_deep")
        return doc
    if node is not None:
        doc.data = _Builder(doc).build(node, (), 0)
    return doc


def _deeper_than(limit: int, text: str | bytes) -> int | None:
    """The line where collections nest deeper than ``limit``, read on the parser's events
    (flat, linear, no recursion) so that the composer never meets such a document."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > limit:
                return int(event.start_mark.line) + 1 if event.start_mark else 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None
