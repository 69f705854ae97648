"""The steering dashboard's choice: a period (first and last day, both included) and a route.

Read from the query string of the dashboard and of every export, so that a link carries the
same choice. A field a person can fix gets its message next to it; nothing here raises.
Dates come as ``<input type="date">`` sends them (2026-03-31), or typed the Swiss way
(31.03.2026) where a browser shows a plain text field.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

FIRST_YEAR, LAST_YEAR = 1900, 2200  # as the API accepts (api/aggregates.py)
Message = tuple[str, str]  # French, English

MALFORMED: Message = ("Date invalide : choisissez un jour ou écrivez-le jj.mm.aaaa.",
                      "Invalid date: pick a day or type it as dd.mm.yyyy.")
OUT_OF_RANGE: Message = (f"Choisissez une date entre {FIRST_YEAR} et {LAST_YEAR}.",
                         f"Choose a date between {FIRST_YEAR} and {LAST_YEAR}.")
AFTER_END: Message = ("Le début doit précéder la fin (ou tomber le même jour).",
                      "The start must come before the end (or fall on the same day).")
UNKNOWN_ROUTE: Message = ("Route inconnue : choisissez-en une dans la liste.",
                          "Unknown route: choose one from the list.")


@dataclass(frozen=True)
class Choice:
    """A valid choice: the days ``first`` to ``last`` included, on ``route`` (None: all)."""

    first: date
    last: date
    route: str | None = None

    @property
    def query(self) -> str:
        """The query string that gives this choice back (exports' links carry it)."""
        return urlencode({"from": self.first.isoformat(), "to": self.last.isoformat(),
                          "route": self.route or ""})


@dataclass(frozen=True)
class Form:
    """What the form shows: the values as typed, and a message per field that needs one."""

    start: str
    end: str
    route: str
    errors: Mapping[str, Message] = field(default_factory=dict)
    choice: Choice | None = None


def default_period(today: date) -> tuple[date, date]:
    """The last 12 months up to today: 02.12.2025 – 01.12.2026 on 1 December 2026."""
    try:
        year_ago = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        year_ago = today.replace(year=today.year - 1, day=28)
    return year_ago + timedelta(days=1), today


def parse_day(text: str) -> date | Message:
    """A day, or the message saying what is wrong with it."""
    text = text.strip()[:40]
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            day = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        return day if FIRST_YEAR <= day.year <= LAST_YEAR else OUT_OF_RANGE
    # a year of five digits is a date, only outside the range: say so rather than "invalid"
    digits = text.replace("-", "").replace(".", "")
    return OUT_OF_RANGE if digits.isdigit() and len(digits) > 8 else MALFORMED


def read(params: Mapping[str, str], today: date, routes: Collection[str]) -> Form:
    """The form of these query parameters: empty dates take the default period."""
    first, last = default_period(today)
    start, end = params.get("from", "").strip(), params.get("to", "").strip()
    route = params.get("route", "").strip()[:64]
    errors: dict[str, Message] = {}
    days: dict[str, date] = {"from": first, "to": last}
    for name, text in (("from", start), ("to", end)):
        if text:
            day = parse_day(text)
            if isinstance(day, date):
                days[name] = day
            else:
                errors[name] = day
    if not errors and days["from"] > days["to"]:
        errors["from"] = AFTER_END
    if route and route not in routes:
        errors["route"] = UNKNOWN_ROUTE
    shown = {n: (t if n in errors else days[n].isoformat()) for n, t in
             (("from", start[:40]), ("to", end[:40]))}
    choice = None if errors else Choice(days["from"], days["to"], route or None)
    return Form(shown["from"], shown["to"], route, errors, choice)
