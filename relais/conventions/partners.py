"""Who takes part in a joint step (an assessment, a round table): one institution of each
kind the step names. The agreement's rule: the institution already involved in the case;
else the one of that kind in the lead's town (the person's region); else the first listed."""

from __future__ import annotations

from collections.abc import Iterable

from relais.institutions.registry import Institution, Registry


def partners(kinds: Iterable[str], *, lead: str, involved: Iterable[str],
             registry: Registry) -> list[Institution]:
    """``kinds``: kind names (AC, AI, SA...) or institution codes, as a route's owner says."""
    known = [registry.get(code) for code in dict.fromkeys([lead, *involved]) if code in registry]
    town = registry.get(lead).city if lead in registry else ""
    chosen: list[Institution] = []
    for name in kinds:
        if name in registry:
            pick: Institution | None = registry.get(name)
        else:
            of_kind = registry.covered_by(name)
            pick = next((i for i in known if i in of_kind), None) \
                or next((i for i in of_kind if i.city == town), None) \
                or next(iter(of_kind), None)
        if pick is not None and pick not in chosen:
            chosen.append(pick)
    return chosen
