"""A route's ``age`` field, computed from the person's birth date at the referral rather
than asked beside it: whole years on the referral's day where the canton counts (the
Neuchâtel day, not UTC's). An age given explicitly is kept as given."""

from __future__ import annotations

from datetime import date
from typing import Any

from relais.workflows.engine.model import Route

AGE = "age"


def age_on(birth_date: date, day: date) -> int:
    """Whole years from ``birth_date`` to ``day``: one more on the birthday itself (a
    29 February birthday counts from 1 March in other years)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month,
                                                                 birth_date.day))


def asks_age(route: Route) -> bool:
    """Whether the route reads an integer ``age`` field (reseau-cii, cmfp)."""
    spec = route.fields.get(AGE)
    return spec is not None and spec.type.type == "integer"


def with_age(route: Route, fields: dict[str, Any] | None, birth_date: date,
             today: date) -> dict[str, Any] | None:
    """``fields`` with the age from the birth date where the route reads one and none was
    given."""
    if not asks_age(route) or (fields or {}).get(AGE) is not None:
        return fields
    return {**(fields or {}), AGE: age_on(birth_date, today)}
