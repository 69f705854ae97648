"""Graph checks: every state reachable from the initial one; a final state reachable from each."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .located_yaml import Located
from .model import StateSpec, TransitionSpec


def _closure(start: Iterable[str], edges: Mapping[str, set[str]]) -> set[str]:
    seen = set(start)
    todo = list(seen)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def check_graph(doc: Located, initial: str, states: Mapping[str, StateSpec],
                transitions: Iterable[TransitionSpec]) -> None:
    forward: dict[str, set[str]] = {}
    backward: dict[str, set[str]] = {}
    for t in transitions:
        for src in t.sources:
            forward.setdefault(src, set()).add(t.target)
            backward.setdefault(t.target, set()).add(src)
    reachable = _closure([initial], forward)
    can_finish = _closure([n for n, s in states.items() if s.final], backward)
    for name, state in states.items():
        if name not in reachable:
            doc.problem(("states", name), "unreachable", state=name, initial=initial)
        elif not state.final and name not in can_finish:
            doc.problem(("states", name), "dead_end", state=name)
