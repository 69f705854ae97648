"""Which states of a route are its entry check, and what leaving them means.

The rule, from the route alone (no route names its triage):

- a *refusing* state is a final state with ``outcome: none`` (not taken on, sent elsewhere,
  outside the criteria);
- a *deciding* state is a non-final state with a way into a refusing state and a way into
  a non-final state;
- the *entry check* is a deciding state with a way on into a non-final state that is not
  itself deciding. (In ``reseau-cii`` a referral can be dropped before triage: the referral
  is deciding but leads only on to the triage, so the triage is the check.)

Leaving an entry check into a non-final state is **accepted**; into a final state, **refused**
(by the state entered); staying (a self-loop) is neither.
"""

from __future__ import annotations

from relais.workflows.engine.model import Route


def entry_checks(route: Route) -> frozenset[str]:
    states = route.states
    refusing = {name for name, s in states.items() if s.final and not s.needs_outcome}

    def onward(name: str) -> set[str]:
        return {t.target for t in route.transitions_from(name)
                if t.target != name and not states[t.target].final}

    deciding = {name for name, s in states.items() if not s.final and onward(name)
                and any(t.target in refusing for t in route.transitions_from(name))}
    return frozenset(name for name in deciding if onward(name) - deciding)


def verdict(route: Route, from_state: str, to_state: str) -> str | None:
    """``accepted``, ``refused`` or None (not a move out of the entry check)."""
    if from_state not in entry_checks(route) or to_state == from_state:
        return None
    target = route.states.get(to_state)
    if target is None:
        return None
    return "refused" if target.final else "accepted"
