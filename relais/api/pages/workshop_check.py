"""What the workshop tells a coordinator about a route text: its problems line by line, and
when it is valid, its drawing and what it changes from the version published before it."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from markupsafe import Markup

from relais.cases.services import CaseServices
from relais.workflows.engine import diagram
from relais.workflows.engine.compare import Change, compare
from relais.workflows.engine.model import Route
from relais.workflows.engine.problems import Problem
from relais.workflows.engine.validate import parse_route


@dataclass(frozen=True)
class Line:
    number: int
    text: str
    problems: tuple[int, ...]  # indexes into the problem list, for the "see problem" links


@dataclass
class Check:
    text: str
    problems: list[Problem] = field(default_factory=list)
    route: Route | None = None
    drawing: Markup | None = None
    previous: Route | None = None  # the version this one is compared with
    changes: list[Change] = field(default_factory=list)
    diff: list[str] = field(default_factory=list)
    published: str = ""  # "" | "same": this version is already published as it is | "other"

    @property
    def lines(self) -> list[Line]:
        by_line: dict[int, list[int]] = {}
        for i, p in enumerate(self.problems):
            by_line.setdefault(p.line, []).append(i)
        return [Line(n, text, tuple(by_line.get(n, ())))
                for n, text in enumerate(self.text.split("\n"), start=1)]


def normalised(text: str) -> str:
    """Browsers send a textarea's lines ending in CRLF: line numbers and the text diff count
    lines, so every line ends in LF before anything reads it."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check(s: CaseServices, text: str, lang: str) -> Check:
    route, problems = parse_route(text, s.registry)
    out = Check(text, problems)
    if route is None:
        return out
    out.route = route
    out.drawing = Markup(diagram.svg(route, lang=lang))  # noqa: S704 (escaped inside)
    stored = s.route_digests(route.id)
    if route.version in stored:
        out.published = "same" if stored[route.version] == route.digest else "other"
    earlier = [v for v in stored if v < route.version]
    if earlier:
        out.previous = s.route(route.id, max(earlier))
        out.changes = compare(out.previous, route)
        out.diff = list(difflib.unified_diff(
            out.previous.source.splitlines(), text.splitlines(),
            f"{route.id} v{out.previous.version}", f"{route.id} v{route.version}",
            lineterm="", n=2))
    return out
