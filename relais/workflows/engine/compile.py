"""Compile a validated Route into a python-statemachine class, cached per (id, version).

States (their attribute and their value) and events get prefixes (``s_``, ``e_``) so that
no name a coordinator picks can collide with an attribute of the machine (python-statemachine
refuses to set any attribute named like a state *value*, ``configuration`` included).
Each transition's ``on`` callback records which transition fired and each state's ``enter``
callback records the actions to start:
the machine decides, the case services persist. Errors raised by callbacks propagate
(``catch_errors_as_events`` is off) and a refused event raises TransitionNotAllowed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from statemachine import State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

from .model import Route, TransitionSpec


@dataclass
class _Slot:
    """The model the machine reads and writes: the state, and what happened on the way."""

    state: str | None = None
    fired: int | None = None
    entered: list[str] | None = None


@dataclass(frozen=True, slots=True)
class Step:
    transition: TransitionSpec
    target: str
    actions: tuple[str, ...]


class RouteMachine:
    """One route's compiled machine; ``step`` is safe to call from many threads.

    The machine decides. What it decides depends only on the state, the event and which of
    the candidate transitions' guards hold (the callbacks are pure), so each distinct
    situation is sent to the machine once and its answer kept: the hot path then costs a
    few guard evaluations and a dictionary look-up instead of a run of the machine's engine.
    """

    def __init__(self, route: Route) -> None:
        self.route = route
        self.machine_class = _build_class(route)
        self._local = threading.local()
        self._candidates: dict[tuple[str, str], tuple[TransitionSpec, ...]] = {}
        for t in route.transitions:
            for src in t.sources:
                key = (src, t.event)
                self._candidates[key] = (*self._candidates.get(key, ()), t)
        self._decided: dict[tuple[str, str, tuple[bool, ...]], Step | None] = {}

    def step(self, state: str, event: str, fields: Mapping[str, Any]) -> Step | None:
        """Which transition ``event`` takes from ``state`` with ``fields``; None if refused."""
        candidates = self._candidates.get((state, event), ())
        key = (state, event, tuple(t.guard is None or t.guard(fields) for t in candidates))
        if key in self._decided:
            return self._decided[key]
        decided = self.send(state, event, fields)
        self._decided[key] = decided
        return decided

    def _instance(self) -> tuple[StateMachine, _Slot]:
        inst = getattr(self._local, "instance", None)
        if inst is None:
            slot = _Slot(state=f"s_{self.route.initial}")
            inst = (self.machine_class(model=slot), slot)
            self._local.instance = inst
        return inst

    def send(self, state: str, event: str, fields: Mapping[str, Any]) -> Step | None:
        """Run the machine itself: set ``state``, send ``event``, see where it went."""
        machine, slot = self._instance()
        slot.state, slot.fired, slot.entered = f"s_{state}", None, []
        try:
            machine.send(f"e_{event}", fields=fields)
        except TransitionNotAllowed:
            return None
        finally:
            target, fired, entered = slot.state, slot.fired, slot.entered
            slot.state = f"s_{self.route.initial}"
            if machine.is_terminated:  # a machine that reached a final state stops for good
                self._local.instance = None
        assert fired is not None and target is not None
        return Step(self.route.transitions[fired], target[2:], tuple(entered or ()))

    def allowed_events(self, state: str, fields: Mapping[str, Any]) -> list[str]:
        """Events that the machine would take now."""
        return [e for e in self.route.events_from(state)
                if self.step(state, e, fields) is not None]


def _build_class(route: Route) -> type[StateMachine]:
    states: dict[str, State] = {}
    attrs: dict[str, Any] = {"catch_errors_as_events": False,
                             "allow_event_without_transition": False}
    index = {t.index: pos for pos, t in enumerate(route.transitions)}
    for name, spec in route.states.items():
        st = State(spec.title["fr"], value=f"s_{name}", initial=name == route.initial,
                   final=spec.final)
        if spec.actions:
            st.enter(_record_actions(spec.actions))
        states[name] = attrs[f"s_{name}"] = st
    events: dict[str, Any] = {}
    for t in route.transitions:
        for src in t.sources:
            kwargs: dict[str, Any] = {"on": _record_fired(index[t.index])}
            if t.guard is not None:
                kwargs["cond"] = _condition(t)
            tl = states[src].to(states[t.target], **kwargs)
            key = f"e_{t.event}"
            events[key] = events[key] | tl if key in events else tl
    attrs.update(events)
    metaclass: Any = type(StateMachine)
    cls: type[StateMachine] = metaclass(f"Route_{route.id.replace('-', '_')}_v{route.version}",
                                        (StateMachine,), attrs)
    return cls


def _record_actions(actions: tuple[str, ...]) -> Callable[..., None]:
    def enter(model: _Slot) -> None:
        assert model.entered is not None
        model.entered.extend(actions)
    return enter


def _record_fired(position: int) -> Callable[..., None]:
    def on(model: _Slot) -> None:
        model.fired = position
    return on


def _condition(t: TransitionSpec) -> Callable[..., bool]:
    guard = t.guard
    assert guard is not None

    def cond(fields: Mapping[str, Any]) -> bool:
        return guard(fields)
    cond.__name__ = f"guard_{t.index}"
    return cond


_CACHE: dict[tuple[str, int, str], RouteMachine] = {}
_LOCK = threading.Lock()


def machine_for(route: Route) -> RouteMachine:
    """The compiled machine of ``route``, built once per (id, version, content)."""
    key = (route.id, route.version, route.digest)
    found = _CACHE.get(key)
    if found is None:
        with _LOCK:
            found = _CACHE.get(key) or RouteMachine(route)
            _CACHE[key] = found
    return found
