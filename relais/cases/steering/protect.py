"""The small-count rule: no published figure points at a person, alone or with another.

Suppressing 1–4 as "<5" is not enough on its own: two exact totals (a year and the same year
but one route, or two overlapping periods) would give the suppressed cell back by subtraction.
So every other count is rounded to the nearest multiple of ``BASE``: the true value behind a
published figure is then only known within a band (``<5``: 1–4; ``10``: 8–12), and the
difference of any two published figures is only known within a band of at least two values.
``tests/test_steering_protection.py`` states and checks that property.
"""

from __future__ import annotations

BASE = 5  # rounding base, and the smallest count shown as a number
SMALL = "<5"

Shown = int | str


def shown(n: int) -> Shown:
    """A count as published: 0 stays 0; 1–4 become "<5"; every other count is rounded to the
    nearest multiple of 5 (5–7 → 5, 8–12 → 10, 13–17 → 15...)."""
    if n < 0:
        raise ValueError(f"a count is never negative: {n}")
    if n == 0:
        return 0
    if n < BASE:
        return SMALL
    return BASE * ((n + BASE // 2) // BASE)


def shown_by(counts: dict[str, int]) -> dict[str, Shown]:
    """Each non-zero count of a breakdown, as published, keys in order."""
    return {k: shown(n) for k, n in sorted(counts.items()) if n > 0}
