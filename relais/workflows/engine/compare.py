"""What changed between two versions of a route, for a coordinator about to publish.

A pure comparison of two ``Route`` values, section by section: the route's own settings
(institutions, calendar, initial state, handoff deadline), states (added, removed, and for a
state kept its owner, deadline, what its deadline does, its actions, whether it is final),
transitions (keyed by event and source state, since the same event may leave several
states), fields and outcomes. Each difference is one ``Change``; the pages put the words
around it. Titles are left out on purpose: a changed label does not change a case's path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from .model import FieldSpec, Route, StateSpec, TransitionSpec

Section = Literal["route", "state", "transition", "field", "outcome"]
How = Literal["added", "removed", "changed"]
T = TypeVar("T")


@dataclass(frozen=True)
class Change:
    section: Section
    name: str  # the state, field or outcome name; "event (from state)" for a transition
    how: How
    aspect: str = ""  # for a change: what changed (owner, deadline, target, guard...)
    before: str = ""
    after: str = ""


def _names(items: tuple[str, ...]) -> str:
    return ", ".join(items)


def _state_aspects(s: StateSpec) -> dict[str, str]:
    return {"owner": _names(s.owner), "deadline": str(s.deadline) if s.deadline else "",
            "on_deadline": "" if s.final else s.on_deadline, "actions": _names(s.actions),
            "final": "final" if s.final else "",
            "outcome": "" if not s.final or s.needs_outcome else "none"}


def _bound(v: float | None) -> str:
    return "" if v is None else f"{v:g}"


def _field_aspects(f: FieldSpec) -> dict[str, str]:
    values = f" [{_names(f.type.values)}]" if f.type.values else ""
    return {"type": f.type.type + values,
            "min": _bound(f.minimum), "max": _bound(f.maximum), "category": f.category}


def _transition_aspects(t: TransitionSpec) -> dict[str, str]:
    return {"target": t.target, "guard": t.guard.text if t.guard else "",
            "require": _names(t.require), "signoff": _names(t.signoff), "lead": t.lead or ""}


def _route_aspects(r: Route) -> dict[str, str]:
    return {"institutions": _names(r.institutions), "calendar": r.calendar,
            "initial": r.initial, "handoff_deadline": str(r.handoff_deadline)}


def _transitions(r: Route) -> dict[str, TransitionSpec]:
    """One entry per (event, source): the first in file order, the one that is taken when
    guards allow (first match wins); a twin with another guard gets a numbered key."""
    out: dict[str, TransitionSpec] = {}
    for t in r.transitions:
        for src in t.sources:
            key, n = f"{t.event} ({src})", 2
            while key in out:
                key, n = f"{t.event} ({src}) #{n}", n + 1
            out[key] = t
    return out


def _aspect_changes(section: Section, name: str, old: Mapping[str, str],
                    new: Mapping[str, str]) -> list[Change]:
    return [Change(section, name, "changed", aspect, old[aspect], new[aspect])
            for aspect in old if old[aspect] != new[aspect]]


def _keyed(section: Section, old: Mapping[str, T], new: Mapping[str, T],
           aspects: Callable[[T], dict[str, str]]) -> list[Change]:
    changes = [Change(section, name, "removed") for name in old if name not in new]
    for name, item in new.items():
        if name not in old:
            changes.append(Change(section, name, "added"))
        else:
            changes += _aspect_changes(section, name, aspects(old[name]), aspects(item))
    return changes


def compare(old: Route, new: Route) -> list[Change]:
    """Every difference from ``old`` to ``new``, route settings first, then states,
    transitions, fields and outcomes; removals before additions and changes."""
    return [*_aspect_changes("route", new.id, _route_aspects(old), _route_aspects(new)),
            *_keyed("state", old.states, new.states, _state_aspects),
            *_keyed("transition", _transitions(old), _transitions(new), _transition_aspects),
            *_keyed("field", old.fields, new.fields, _field_aspects),
            *_keyed("outcome", old.outcomes, new.outcomes, lambda _: {})]
