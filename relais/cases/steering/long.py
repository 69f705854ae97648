"""The steering figures in a long format for BI tools: one row per published number, with
keys that never change with the reader's language (``indicator``, ``breakdown``), the period
and the route on every row, and a suppressed count as an empty value flagged ``suppressed``,
never the text "<5" in a number column."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .protect import SMALL

FIELDS = ("indicator", "period_from", "period_to", "route", "breakdown", "value", "unit",
          "suppressed")
# the breakdowns: an indicator's figure per institution, kind, state, outcome
BREAKDOWNS = ("referred_by", "referred_by_kind", "refused_at_triage_by_state", "open_by_state",
              "closed_by_outcome", "closed_without_outcome_by_state",
              "deadline_breaches_by_state")
NOT_FIGURES = {"from", "to", "route", "small_counts"}


@dataclass(frozen=True)
class Figure:
    indicator: str
    breakdown: str  # "" for the indicator's total
    value: int | float | None  # None: suppressed
    unit: str  # count | days

    def row(self, f: dict[str, Any]) -> dict[str, Any]:
        return {"indicator": self.indicator, "period_from": f["from"][:10],
                "period_to": last_day(f["to"]), "route": f["route"] or "",
                "breakdown": self.breakdown, "value": self.value, "unit": self.unit,
                "suppressed": self.value is None}


def _count(indicator: str, breakdown: str, shown: Any) -> Figure:
    return Figure(indicator, breakdown, None if shown == SMALL else shown, "count")


def figures(f: dict[str, Any]) -> Iterator[Figure]:
    """Every number of ``steering.indicators``' answer ``f``, as published (rounded, small
    counts suppressed): nothing is recomputed here."""
    for key, value in f.items():
        if key in NOT_FIGURES:
            continue
        if key in BREAKDOWNS:
            yield from (_count(key, k, v) for k, v in value.items())
        elif key == "durations":
            for state, d in value.items():
                yield _count("stays", state, d["stays"])
                yield Figure("stay_median_days", state, d["median_days"], "days")
                yield Figure("stay_p90_days", state, d["p90_days"], "days")
        elif key == "transfers_between_kinds":
            yield from (_count(key, f"{m['from']}>{m['to']}", m["count"]) for m in value)
        else:
            yield _count(key, "", value)


def last_day(end: str) -> str:
    """The period's last day, from its end (the next day at midnight, exclusive)."""
    return (datetime.fromisoformat(end) - timedelta(microseconds=1)).date().isoformat()


def rows(f: dict[str, Any]) -> list[dict[str, Any]]:
    return [x.row(f) for x in figures(f)]
