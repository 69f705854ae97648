"""The small-count rule cannot be undone by subtracting two published figures."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from relais.cases.steering import BASE, SMALL, shown

LIMIT = 2_000


def behind(published: int | str) -> set[int]:
    """Every true count that is published as ``published``: what a reader can tell."""
    return {n for n in range(LIMIT + 3 * BASE) if shown(n) == published}


def differences(a: int | str, b: int | str) -> set[int]:
    """Every value of (true A − true B) consistent with the published A and B."""
    return {x - y for x in behind(a) for y in behind(b)}


def test_small_counts_are_hidden_and_the_others_rounded_to_five() -> None:
    assert [shown(n) for n in range(14)] == [0, SMALL, SMALL, SMALL, SMALL, 5, 5, 5, 10, 10,
                                             10, 10, 10, 15]
    assert shown(1_234) == 1_235 and BASE == 5


# Two answers of the API (two periods, two routes, a route and all routes, a period and a
# day more) each publish a total: A and B, the true counts, drawn here as the events of each
# day on each route, and two scopes (a period and a route or all routes).
days = st.lists(st.tuples(st.integers(0, 59), st.sampled_from(["reseau-cii", "cmfp", "ne-eso"])),
                max_size=400)
scopes = st.tuples(st.integers(0, 60), st.integers(0, 60),
                   st.sampled_from([None, "reseau-cii", "cmfp", "ne-eso"]))


def count(events: list[tuple[int, str]], scope: tuple[int, int, str | None]) -> int:
    start, end, route = scope
    return sum(1 for day, r in events if start <= day < end and route in (None, r))


@given(days, scopes, scopes)
def test_the_difference_of_two_published_totals_never_pins_a_small_cell(
        events: list[tuple[int, str]], one: tuple[int, int, str | None],
        other: tuple[int, int, str | None]) -> None:
    """For any history and any two scopes (period, route) with true totals A and B, published
    as shown(A) and shown(B): the set D of differences a − b over every pair (a, b) that
    would be published the same way always contains A − B, and is never a single value
    from 1 to 4. So whenever A − B is a small count (the cases of one route, or of the days
    that one period has and the other lacks), a reader holding both answers can narrow it
    to no fewer than two values: the subtraction never gives the small count back."""
    a, b = count(events, one), count(events, other)
    d = differences(shown(a), shown(b))
    assert a - b in d
    assert not (len(d) == 1 and 1 <= abs(next(iter(d))) <= 4)
    if 1 <= abs(a - b) <= 4:
        assert len(d) >= 2


@given(st.integers(0, LIMIT), st.integers(0, LIMIT))
def test_the_same_holds_for_any_two_counts(a: int, b: int) -> None:
    """The property over the counts alone: whatever A and B, the differences consistent with
    shown(A) and shown(B) are never exactly one value from 1 to 4 (in absolute value)."""
    d = differences(shown(a), shown(b))
    assert a - b in d
    assert not (len(d) == 1 and 1 <= abs(next(iter(d))) <= 4)
