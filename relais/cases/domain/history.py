"""Sealing drafts into the history: numbering, hash chain, and the case they lead to."""

from __future__ import annotations

from . import frozen
from .case import CaseState
from .events import Event, evolve


def append(case: CaseState | None, drafts: list[Event]) -> tuple[CaseState, list[Event]]:
    """Number and chain ``drafts`` after ``case``; return the new case and the sealed events."""
    version = case.version if case else 0
    prev = case.last_hash if case else ""
    sealed = []
    for draft in drafts:
        version += 1
        event = frozen.but(draft, {"seq": version, "prev_hash": prev}).sealed()
        prev = event.hash
        case = evolve(case, event)
        sealed.append(event)
    assert case is not None
    return case, sealed


def chain_faults(events: list[Event]) -> list[tuple[int, str, int]]:
    """Where a stored history is not what was written: (seq, what, number expected) for
    each event out of order (``numbering``), unlinked (``link``) or altered (``content``)."""
    faults = []
    prev = ""
    for i, e in enumerate(events, start=1):
        if e.seq != i:
            faults.append((e.seq, "numbering", i))
        if e.prev_hash != prev:
            faults.append((e.seq, "link", i))
        if e.sealed().hash != e.hash:
            faults.append((e.seq, "content", i))
        prev = e.hash
    return faults


_SAID = {"numbering": "expected number {i}", "link": "previous hash does not match",
         "content": "content does not match its hash"}


def chain_breaks(events: list[Event]) -> list[str]:
    """The faults in words."""
    return [f"event {seq}: {_SAID[what].format(i=i)}" for seq, what, i in chain_faults(events)]
