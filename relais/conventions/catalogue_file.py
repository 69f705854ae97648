"""Reading a catalogue file: programmes and their places, every problem with its line.

The same strict YAML reading as route files (no aliases, no tags, bounded size), the same
``FILE:LINE: KEY.PATH: message`` problems. Eligibility guards are type-checked against the
fields of every route a programme lists, so a guard naming a field a route lacks is refused
when the file is loaded, not when a case manager needs the place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from relais.i18n import said
from relais.institutions.registry import Kind, Registry, default_registry
from relais.workflows.engine import located_yaml
from relais.workflows.engine.located_yaml import Located, Path
from relais.workflows.engine.problems import MESSAGES as ENGINE_MESSAGES
from relais.workflows.engine.problems import Problem
from relais.workflows.engine.schema import SLUG, Shape

from .catalogue import (
    FieldTypes,
    Period,
    Places,
    Programme,
    ProgrammeType,
    guard_for,
    guard_problem,
)

MESSAGES: dict[str, tuple[str, str]] = {
    "duplicate_code": ("le programme « {name} » est déjà défini à la ligne {first}",
                       "programme '{name}' is already defined at line {first}"),
    "unknown_route": ("route inconnue « {name} » ; routes publiées : {known}",
                      "unknown route '{name}'; published routes: {known}"),
    "bad_type": ("type « {value} » inconnu ; types : {known}",
                 "unknown type '{value}'; types: {known}"),
    "bad_date": ("date illisible « {value} » ; écrire AAAA-MM-JJ",
                 "cannot read date '{value}'; write YYYY-MM-DD"),
    "period_order": ("la période finit ({end}) avant de commencer ({start})",
                     "the period ends ({end}) before it starts ({start})"),
    "period_overlap": ("la période chevauche celle de la ligne {other}",
                       "the period overlaps the one at line {other}"),
    "out_of_range": ("doit être entre {low} et {high}", "must be between {low} and {high}"),
    "eligibility_route": ("pour la route « {route} » : {fr}", "for route '{route}': {en}"),
}

TOP_KEYS = {"programmes"}
PROGRAMME_KEYS = {"code", "title", "provider", "type", "payer", "unit_cost_chf",
                  "duration_months", "routes", "eligibility", "places", "description"}
PROGRAMME_REQUIRED = ("code", "title", "provider", "type", "payer", "unit_cost_chf",
                      "duration_months", "routes", "places")
PLACE_KEYS = {"from", "to", "capacity"}
MAX_CODE = 40
MAX_COST = 100_000
MAX_MONTHS = 36
MAX_CAPACITY = 10_000
YEARS = (1900, 2200)


@dataclass(frozen=True, slots=True)
class CatalogueProblem(Problem):
    def message(self, lang: str = "fr") -> str:
        fr, en = MESSAGES.get(self.code) or ENGINE_MESSAGES[self.code]
        return said(lang, fr, en).format(**self.params)


def parse_catalogue(text: str | bytes, routes: dict[str, FieldTypes],
                    registry: Registry | None = None
                    ) -> tuple[list[Programme] | None, list[CatalogueProblem]]:
    """The programmes of a catalogue file, or None and every problem found.

    ``routes``: the field types of each route a programme may name (route id -> fields)."""
    doc = located_yaml.read_document(text)
    programmes = None
    if doc.data is not None or not doc.problems:
        programmes = _Reader(doc, routes, registry or default_registry()).catalogue()
    problems = sorted((CatalogueProblem(p.line, p.path, p.code, p.params) for p in doc.problems),
                      key=lambda p: (p.line, p.path))
    return (programmes if not problems else None), problems


class _Reader:
    def __init__(self, doc: Located, routes: dict[str, FieldTypes], registry: Registry) -> None:
        self.doc, self.shape, self.routes, self.registry = doc, Shape(doc), routes, registry

    def catalogue(self) -> list[Programme]:
        data = self.doc.data
        if not self.shape.mapping((), data):
            return []
        self.shape.keys((), data, TOP_KEYS, ("programmes",))
        items = data.get("programmes")
        if items is None:
            return []
        if not isinstance(items, list):
            self.shape.wrong(("programmes",), "list", items)
            return []
        out: list[Programme] = []
        first: dict[str, int] = {}
        for i, item in enumerate(items):
            code = item.get("code") if isinstance(item, dict) else None
            if isinstance(code, str) and code in first:
                self.doc.problem(("programmes", i, "code"), "duplicate_code", name=code,
                                 first=first[code])
            elif isinstance(code, str):
                first[code] = self.doc.line(("programmes", i, "code"))
            programme = self.programme(("programmes", i), item)
            if programme is not None:
                out.append(programme)
        return out

    def programme(self, path: Path, spec: Any) -> Programme | None:
        shape, before = self.shape, len(self.doc.problems)
        if not shape.mapping(path, spec):
            return None
        shape.keys(path, spec, PROGRAMME_KEYS, PROGRAMME_REQUIRED)
        code = spec.get("code")
        if "code" in spec and shape.text((*path, "code"), code) and (
                not SLUG.match(code) or len(code) > MAX_CODE):
            self.doc.problem((*path, "code"), "bad_slug", value=code)
        title = shape.lang_text((*path, "title"), spec["title"]) if "title" in spec else None
        provider = spec.get("provider")
        if "provider" in spec and shape.text((*path, "provider"), provider) \
                and len(provider) > 200:
            self.doc.problem((*path, "provider"), "out_of_range", low=1, high=200)
        kind = spec.get("type")
        if "type" in spec and kind not in ProgrammeType.__members__:
            self.doc.problem((*path, "type"), "bad_type", value=kind,
                             known=", ".join(ProgrammeType.__members__))
        payer = spec.get("payer")
        if "payer" in spec and shape.text((*path, "payer"), payer) \
                and not self.registry.knows(payer):
            self.doc.problem((*path, "payer"), "unknown_institution", name=payer,
                             kinds=", ".join(Kind.__members__))
        cost = self._bounded((*path, "unit_cost_chf"), spec.get("unit_cost_chf"), 0, MAX_COST)
        months = self._bounded((*path, "duration_months"), spec.get("duration_months"), 1,
                               MAX_MONTHS)
        routes = self._routes((*path, "routes"), spec.get("routes"))
        eligibility = spec.get("eligibility")
        if eligibility is not None and shape.text((*path, "eligibility"), eligibility):
            self._eligibility((*path, "eligibility"), eligibility, routes)
        places = self._places((*path, "places"), spec.get("places"),
                              code if isinstance(code, str) else "")
        if len(self.doc.problems) > before:
            return None
        assert title is not None and cost is not None and months is not None
        return Programme(code=code, title=title, provider=provider, type=ProgrammeType(kind),
                         payer=payer, unit_cost_chf=cost, duration_months=months,
                         routes=routes, eligibility=eligibility, places=places)

    def _bounded(self, path: Path, value: Any, low: int, high: int) -> int | None:
        if value is None or not self.shape.integer(path, value):
            return None
        if not low <= value <= high:
            self.doc.problem(path, "out_of_range", low=low, high=high)
            return None
        return int(value)

    def _routes(self, path: Path, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        names = self.shape.names(path, value) or ()
        for j, name in enumerate(names):
            if name not in self.routes:
                self.doc.problem((*path, j) if isinstance(value, list) else path,
                                 "unknown_route", name=name,
                                 known=", ".join(sorted(self.routes)) or "-")
        return names

    def _eligibility(self, path: Path, text: str, routes: tuple[str, ...]) -> None:
        for route in routes:
            if route not in self.routes:
                continue
            guard = guard_for(text, self.routes[route])
            if not callable(guard):
                self.doc.problem(path, "eligibility_route", route=route,
                                 fr=guard_problem(guard, "fr"), en=guard_problem(guard, "en"))

    def _places(self, path: Path, value: Any, code: str) -> tuple[Places, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not value:
            if isinstance(value, list):
                self.doc.problem(path, "empty")
            else:
                self.shape.wrong(path, "list", value)
            return ()
        out: list[tuple[int, Places]] = []
        for j, item in enumerate(value):
            p: Path = (*path, j)
            if not self.shape.mapping(p, item):
                continue
            self.shape.keys(p, item, PLACE_KEYS, tuple(sorted(PLACE_KEYS)))
            start, end = self._date((*p, "from"), item.get("from")), \
                self._date((*p, "to"), item.get("to"))
            capacity = self._bounded((*p, "capacity"), item.get("capacity"), 0, MAX_CAPACITY)
            if start is None or end is None or capacity is None:
                continue
            if end < start:
                self.doc.problem((*p, "to"), "period_order", start=start, end=end)
                continue
            places = Places(code, Period(start, end), capacity)
            for line, other in out:
                if other.period.overlaps(places.period):
                    self.doc.problem((*p, "from"), "period_overlap", other=line)
            out.append((self.doc.line((*p, "from")), places))
        return tuple(sorted((pl for _, pl in out), key=lambda pl: pl.period.start))

    def _date(self, path: Path, value: Any) -> date | None:
        if value is None:
            return None
        day: date | None = value if type(value) is date else None  # not a datetime
        if isinstance(value, str):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                day = None
        if day is None:
            self.doc.problem(path, "bad_date", value=value)
            return None
        if not YEARS[0] <= day.year <= YEARS[1]:
            self.doc.problem(path, "out_of_range", low=f"{YEARS[0]}-01-01",
                             high=f"{YEARS[1]}-12-31")
            return None
        return day
