"""Sealing drafts into the history: numbering, hash chain, and the case they lead to."""

from __future__ import annotations

from dataclasses import replace

from .case import CaseState
from .events import Event, evolve


def append(case: CaseState | None, drafts: list[Event]) -> tuple[CaseState, list[Event]]:
    """Number and chain ``drafts`` after ``case``; return the new case and the sealed events."""
    version = case.version if case else 0
    prev = case.last_hash if case else ""
    sealed = []
    for draft in drafts:
        version += 1
        event = replace(draft, seq=version, prev_hash=prev).sealed()
        prev = event.hash
        case = evolve(case, event)
        sealed.append(event)
    assert case is not None
    return case, sealed


def chain_breaks(events: list[Event]) -> list[str]:
    """Where a stored history is not what was written: numbering, links or hashes."""
    problems = []
    prev = ""
    for i, e in enumerate(events, start=1):
        if e.seq != i:
            problems.append(f"event {e.seq}: expected number {i}")
        if e.prev_hash != prev:
            problems.append(f"event {e.seq}: previous hash does not match")
        if e.sealed().hash != e.hash:
            problems.append(f"event {e.seq}: content does not match its hash")
        prev = e.hash
    return problems
