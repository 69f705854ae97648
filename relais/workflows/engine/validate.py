"""Validate a route file in one pass and build a ``Route`` from it.

``parse_route`` reports every problem it can find, each with a line, a key path and a
sentence; it returns a Route only when there is none. Nothing in the file is ever run.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from relais.institutions.calendar import is_known as calendar_is_known
from relais.institutions.registry import Kind, Registry, default_registry

from . import located_yaml
from .actions import known_actions
from .durations import Duration, parse_duration
from .guards import FieldType, GuardError, compile_guard
from .located_yaml import Located, Path
from .model import CHOOSE, COORDINATION, ESCALATE, LEAD, FieldSpec, Route, StateSpec, TransitionSpec
from .problems import Problem
from .reachability import check_graph
from .schema import (
    FIELD_CATEGORIES,
    FIELD_KEYS,
    FIELD_TYPES,
    MAX_VERSION,
    STATE_KEYS,
    TOP_KEYS,
    TOP_REQUIRED,
    TRANSITION_KEYS,
    TRANSITION_REQUIRED,
    Shape,
)


def parse_route(text: str | bytes, registry: Registry | None = None
                ) -> tuple[Route | None, list[Problem]]:
    doc = located_yaml.read_document(text)
    if doc.problems and doc.data is None:
        return None, doc.problems
    route = _Parser(doc, registry or default_registry()).route(
        text.decode("utf-8", "replace") if isinstance(text, bytes) else text)
    problems = sorted(doc.problems, key=lambda p: (p.line, p.path))
    return (route if not problems else None), problems


def digest_of(data: Any) -> str:
    """Content identity of a route: comments and layout do not count."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _Parser:
    def __init__(self, doc: Located, registry: Registry) -> None:
        self.doc = doc
        self.shape = Shape(doc)
        self.registry = registry
        self.institutions: tuple[str, ...] = ()
        self.dangling = False  # a transition names a missing state: graph checks would cascade

    def route(self, source: str) -> Route | None:
        data, shape = self.doc.data, self.shape
        if not shape.mapping((), data):
            return None
        shape.keys((), data, TOP_KEYS, TOP_REQUIRED)
        route_id = data.get("id")
        if "id" in data and shape.text(("id",), route_id):
            shape.name(("id",), route_id, "bad_slug")
        version = data.get("version")
        if "version" in data and shape.integer(("version",), version):
            if version < 1:
                self.doc.problem(("version",), "not_positive")
            elif version > MAX_VERSION:
                self.doc.problem(("version",), "version_range", limit=MAX_VERSION)
        title = shape.lang_text(("title",), data["title"]) if "title" in data else None
        description = (shape.lang_text(("description",), data["description"])
                       if "description" in data else None)
        self.institutions = self._institutions(data.get("institutions"))
        calendar = data.get("calendar")
        if "calendar" in data and shape.text(("calendar",), calendar) \
                and not calendar_is_known(calendar):
            self.doc.problem(("calendar",), "unknown_calendar", value=calendar)
        handoff_deadline = self._duration(("handoff_deadline",), data.get("handoff_deadline",
                                                                          "5 working days"))
        outcomes = self._outcomes(data.get("outcomes", {}))
        fields = self._fields(data.get("fields", {}))
        states = self._states(data.get("states"), outcomes)
        transitions = self._transitions(data.get("transitions"), states, fields)
        initial = data.get("initial")
        if "initial" in data and shape.text(("initial",), initial) and states is not None \
                and initial not in states:
            self.doc.problem(("initial",), "unknown_state", name=initial)
        if states is not None and transitions is not None:
            self._on_deadline(states, transitions)
            if isinstance(initial, str) and initial in states and not self.dangling:
                check_graph(self.doc, initial, states, transitions)
        if self.doc.problems:
            return None
        assert title is not None and states is not None and transitions is not None
        return Route(id=route_id, version=version, title=title, description=description,
                     institutions=self.institutions, calendar=calendar, initial=initial,
                     states=states, transitions=tuple(transitions), outcomes=outcomes or {},
                     fields=fields or {}, handoff_deadline=handoff_deadline or
                     Duration(5, "working_days"), source=source, digest=digest_of(data))

    # -- top-level pieces -------------------------------------------------------------------

    def _institutions(self, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        names = self.shape.names(("institutions",), value)
        for i, name in enumerate(names or ()):
            if not self.registry.knows(name):
                self.doc.problem(("institutions", i) if isinstance(value, list)
                                 else ("institutions",), "unknown_institution", name=name,
                                 kinds=", ".join(Kind.__members__))
        return names or ()

    def _duration(self, path: Path, value: Any) -> Duration | None:
        if not self.shape.text(path, value):
            return None
        duration = parse_duration(value)
        if duration is None:
            self.doc.problem(path, "bad_deadline", value=value)
        return duration

    def _outcomes(self, value: Any) -> dict[str, dict[str, str]] | None:
        if not self.shape.mapping(("outcomes",), value):
            return None
        out = {}
        for name, text in value.items():
            self.shape.name(("outcomes", name), name)
            label = self.shape.lang_text(("outcomes", name), text)
            if label:
                out[name] = label
        return out

    def _fields(self, value: Any) -> dict[str, FieldSpec] | None:
        if not self.shape.mapping(("fields",), value):
            return None
        out = {}
        for name, spec in value.items():
            path: Path = ("fields", name)
            self.shape.name(path, name)
            if not self.shape.mapping(path, spec):
                continue
            self.shape.keys(path, spec, FIELD_KEYS, ("type",))
            kind = spec.get("type")
            if "type" in spec and kind not in FIELD_TYPES:
                self.doc.problem((*path, "type"), "wrong_type",
                                 expected=" | ".join(FIELD_TYPES), found=str(kind))
                continue
            values: tuple[str, ...] = ()
            if kind == "enum":
                names = (self.shape.names((*path, "values"), spec["values"], allow_one=False)
                         if "values" in spec else None)
                if not names:
                    self.doc.problem(path, "enum_values")
                values = names or ()
            bounds = [spec.get(k) for k in ("min", "max")]
            for key, bound in zip(("min", "max"), bounds, strict=True):
                if bound is not None and self.shape.number((*path, key), bound) \
                        and kind not in ("integer", "number"):
                    self.doc.problem((*path, key), "bounds")
            if all(isinstance(b, int | float) for b in bounds) and bounds[0] > bounds[1]:
                self.doc.problem((*path, "min"), "bounds")
            title = self.shape.lang_text((*path, "title"), spec["title"]) if "title" in spec \
                else None
            category = spec.get("category", "situation")
            if category not in FIELD_CATEGORIES:
                self.doc.problem((*path, "category"), "wrong_type",
                                 expected=" | ".join(FIELD_CATEGORIES), found=str(category))
            recipients: tuple[str, ...] = ()
            if "recipients" in spec:
                if kind != "consent":
                    self.doc.problem((*path, "recipients"), "recipients_not_consent")
                recipients = self.shape.names((*path, "recipients"), spec["recipients"]) or ()
                for i, who in enumerate(recipients):
                    if not self.registry.knows(who):
                        self.doc.problem((*path, "recipients", i), "unknown_institution",
                                         name=who, kinds=", ".join(Kind.__members__))
            value_titles: dict[str, dict[str, str]] = {}
            if "titles" in spec:
                if kind != "enum":
                    self.doc.problem((*path, "titles"), "titles_not_enum")
                elif self.shape.mapping((*path, "titles"), spec["titles"]):
                    for value, said in spec["titles"].items():
                        at = (*path, "titles", value)
                        if value not in values:
                            self.doc.problem(at, "enum_title_unknown", name=str(value),
                                             known=", ".join(values))
                        elif (text := self.shape.lang_text(at, said)) is not None:
                            value_titles[value] = text
            if kind:
                out[name] = FieldSpec(name, FieldType(kind, values), spec.get("min"),
                                      spec.get("max"), title, str(category), recipients,
                                      value_titles)
        return out

    # -- states --------------------------------------------------------------------------

    def _states(self, value: Any, outcomes: dict[str, Any] | None) -> dict[str, StateSpec] | None:
        if value is None or not self.shape.mapping(("states",), value):
            return None
        if not value:
            self.doc.problem(("states",), "empty")
            return None
        return {name: self._state(name, spec, outcomes) for name, spec in value.items()}

    def _state(self, name: str, spec: Any, outcomes: dict[str, Any] | None) -> StateSpec:
        path: Path = ("states", name)
        shape = self.shape
        shape.name(path, name)
        if not shape.mapping(path, spec):
            return StateSpec(name, {"fr": name})
        shape.keys(path, spec, STATE_KEYS)
        final = spec.get("final", False)
        if not shape.boolean((*path, "final"), final):
            final = False
        title = shape.lang_text((*path, "title"), spec["title"]) if "title" in spec else None
        owner = self._owner((*path, "owner"), spec["owner"]) if "owner" in spec else ()
        deadline = self._duration((*path, "deadline"), spec["deadline"]) \
            if "deadline" in spec else None
        on_deadline = spec.get("on_deadline", ESCALATE)
        shape.text((*path, "on_deadline"), on_deadline)
        actions = self._actions((*path, "actions"), spec.get("actions", []))
        needs_outcome = True
        if "outcome" in spec:
            needs_outcome = False
            if spec["outcome"] != "none":
                self.doc.problem((*path, "outcome"), "bad_outcome_setting")
        if final:
            for key in ("deadline", "on_deadline"):
                if key in spec:
                    self.doc.problem((*path, key), "final_has", key=key)
            if needs_outcome and outcomes is not None and not outcomes:
                self.doc.problem(path, "no_outcomes", state=name)
        else:
            if "owner" not in spec:
                self.doc.problem(path, "needs_owner")
            if "deadline" not in spec:
                self.doc.problem(path, "needs_deadline")
        return StateSpec(name, title or {"fr": name}, owner, deadline,
                         on_deadline if isinstance(on_deadline, str) else ESCALATE,
                         actions, bool(final), needs_outcome)

    def _owner(self, path: Path, value: Any) -> tuple[str, ...]:
        names = self.shape.names(path, value) or ()
        for i, name in enumerate(names):
            if name in (LEAD, COORDINATION) and len(names) == 1:
                continue
            self._check_institution(path if isinstance(value, str) else (*path, i), name)
        return names

    def _check_institution(self, path: Path, name: str) -> None:
        if not self.registry.knows(name):
            self.doc.problem(path, "unknown_institution", name=name,
                             kinds=", ".join(Kind.__members__))
        elif not self._in_route(name):
            self.doc.problem(path, "institution_not_in_route", name=name,
                             listed=", ".join(self.institutions) or "-")

    def _in_route(self, name: str) -> bool:
        if name in self.institutions:
            return True
        return name in self.registry and self.registry.get(name).kind in self.institutions

    def _actions(self, path: Path, value: Any) -> tuple[str, ...]:
        if value == []:
            return ()
        names = self.shape.names(path, value, allow_one=False) or ()
        known = known_actions()
        for i, name in enumerate(names):
            if name not in known:
                self.doc.problem((*path, i), "unknown_action", name=name,
                                 known=", ".join(sorted(known)))
        return names

    # -- transitions ---------------------------------------------------------------------

    def _transitions(self, value: Any, states: dict[str, StateSpec] | None,
                     fields: dict[str, FieldSpec] | None) -> list[TransitionSpec] | None:
        if value is None:
            return None
        if not isinstance(value, list):
            self.shape.wrong(("transitions",), "list", value)
            return None
        out = []
        for i, spec in enumerate(value):
            t = self._transition(i, spec, states, fields)
            if t is not None:
                out.append(t)
        self._shadowed(out)
        return out

    def _transition(self, i: int, spec: Any, states: dict[str, StateSpec] | None,
                    fields: dict[str, FieldSpec] | None) -> TransitionSpec | None:
        path: Path = ("transitions", i)
        shape = self.shape
        if not shape.mapping(path, spec):
            return None
        shape.keys(path, spec, TRANSITION_KEYS, TRANSITION_REQUIRED)
        event = spec.get("event")
        if "event" in spec and shape.text((*path, "event"), event):
            shape.name((*path, "event"), event)
        sources = shape.names((*path, "from"), spec["from"]) if "from" in spec else None
        target = spec.get("to")
        if "to" in spec:
            shape.text((*path, "to"), target)
        if states is not None:
            for j, src in enumerate(sources or ()):
                p = (*path, "from", j) if isinstance(spec["from"], list) else (*path, "from")
                if src not in states:
                    self.dangling = True
                    self.doc.problem(p, "unknown_state", name=src)
                elif states[src].final:
                    self.doc.problem(p, "from_final", state=src)
            if isinstance(target, str) and target not in states:
                self.dangling = True
                self.doc.problem((*path, "to"), "unknown_state", name=target)
        guard = None
        if "guard" in spec and shape.text((*path, "guard"), spec["guard"]):
            types = {n: f.type for n, f in (fields or {}).items()}
            try:
                guard = compile_guard(spec["guard"], types)
            except GuardError as exc:
                self.doc.problem((*path, "guard"), exc.code, **exc.params)
        require = shape.names((*path, "require"), spec.get("require", []) or ["reason"],
                              allow_one=False) if "require" in spec else ()
        for j, item in enumerate(require or ()):
            if item not in ("reason", "outcome") and item not in (fields or {}):
                self.doc.problem((*path, "require", j), "bad_require", name=item)
        signoff = shape.names((*path, "signoff"), spec["signoff"], allow_one=False) \
            if "signoff" in spec else ()
        for j, name in enumerate(signoff or ()):
            self._check_institution((*path, "signoff", j), name)
        lead = spec.get("lead")
        if "lead" in spec and shape.text((*path, "lead"), lead) and lead != CHOOSE:
            self._check_institution((*path, "lead"), lead)
        title = shape.lang_text((*path, "title"), spec["title"]) if "title" in spec else None
        if not (isinstance(event, str) and sources and isinstance(target, str)):
            self.dangling = True
            return None
        return TransitionSpec(i, event, sources, target, guard, tuple(require or ()),
                              tuple(signoff or ()), lead if isinstance(lead, str) else None,
                              title)

    def _shadowed(self, transitions: list[TransitionSpec]) -> None:
        """First match wins (declaration order): an unguarded one hides later twins."""
        unguarded: dict[tuple[str, str], int] = {}
        for t in transitions:
            for src in t.sources:
                first = unguarded.get((t.event, src))
                if first is not None:
                    self.doc.problem(("transitions", t.index), "shadowed",
                                     first=f"transitions[{first}]", event=t.event, state=src)
                elif t.guard is None:
                    unguarded[(t.event, src)] = t.index

    def _on_deadline(self, states: dict[str, StateSpec],
                     transitions: list[TransitionSpec]) -> None:
        events = {t.event for t in transitions}
        for name, state in states.items():
            if state.final or state.on_deadline == ESCALATE:
                continue
            path: Path = ("states", name, "on_deadline")
            if state.on_deadline not in events:
                self.doc.problem(path, "unknown_event", name=state.on_deadline)
            elif not any(t.event == state.on_deadline and name in t.sources
                         for t in transitions):
                self.doc.problem(path, "event_not_from_state", name=state.on_deadline,
                                 state=name)
