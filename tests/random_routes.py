"""Hypothesis strategies for route files: any route that validates must keep the invariants."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import strategies as st

OWNERS: list[Any] = ["lead", "lead", "coordination", ["AC", "AI"], ["AC", "AI", "SA"], "AI",
                     "ORP-NE"]
LEADS = [None, None, None, "choose", "AI", "SA", "OAI-NE"]


@st.composite
def route_texts(draw: st.DrawFn) -> str:
    n = draw(st.integers(2, 5))
    # names that python-statemachine uses itself are fair game for a coordinator
    pool = ["etape", "configuration", "model", "send", "states", "initial_state", "accueil"]
    names = draw(st.permutations(pool))[:n]
    states: dict[str, Any] = {}
    for name in names:
        unit = draw(st.sampled_from(["working days", "days"]))
        owner = draw(st.sampled_from(OWNERS))
        states[name] = {"title": {"fr": name.replace("_", " ").capitalize()},
                        "owner": list(owner) if isinstance(owner, list) else owner,
                        "deadline": f"{draw(st.integers(1, 15))} {unit}"}
    states["fin"] = {"title": {"fr": "Fin"}, "final": True}
    states["abandon"] = {"title": {"fr": "Abandon"}, "final": True, "outcome": "none"}
    transitions: list[dict[str, Any]] = []

    def add(event: str, src: str, dst: str) -> None:
        t: dict[str, Any] = {"event": event, "from": src, "to": dst}
        lead = draw(st.sampled_from(LEADS))
        if lead:
            t["lead"] = lead
        if draw(st.booleans()) and dst != "fin":
            t["guard"] = f"score >= {draw(st.integers(0, 10))}"
        if dst == "fin":
            t["require"] = ["outcome"]
        transitions.append(t)

    for i, name in enumerate(names):  # a path to the end, so every state can finish
        add(f"suivant{i}", name, names[i + 1] if i + 1 < n else "fin")
        transitions[-1].pop("guard", None)
    for j in range(draw(st.integers(0, 4))):
        src = draw(st.sampled_from(names))
        dst = draw(st.sampled_from([*names, "fin", "abandon"]))
        add(f"saut{j}", src, dst)
    transitions.append({"event": "arreter", "from": list(names), "to": "abandon",
                        "require": ["reason"]})
    for name in names:  # sometimes the deadline fires the path onwards
        if draw(st.booleans()):
            states[name]["on_deadline"] = f"suivant{names.index(name)}"
    doc = {"id": "aleatoire", "version": 1, "title": {"fr": "Route aléatoire"},
           "institutions": ["AC", "AI", "SA"], "calendar": "CH-NE", "initial": names[0],
           "outcomes": {"ok": {"fr": "Réussi"}},
           "fields": {"score": {"type": "integer", "min": 0, "max": 10}},
           "states": states, "transitions": transitions}
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
