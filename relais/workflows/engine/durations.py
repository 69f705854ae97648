"""Deadlines written as ``N working days | N days | N weeks | N months``, or in French,
German or Italian (``15 jours ouvrables``, ``10 Arbeitstage``, ``6 mesi``).

A deadline ends at local midnight at the end of its last day. Working days skip weekends and
the calendar's public holidays. Calendar periods (days, weeks, months) that end on a day off
run to the end of the next working day, as Swiss procedural law does (ATSG art. 38 al. 3).
"""

from __future__ import annotations

import calendar as _cal
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal, Protocol

from relais.i18n import duration_words

Unit = Literal["working_days", "days", "weeks", "months"]

_PATTERN = re.compile(r"^\s*(?P<n>[1-9][0-9]{0,3})\s+(?P<unit>\S.*?)\s*$")
# the units as coordinators write them, in English and in the canton's languages
UNITS: dict[str, Unit] = {
    **dict.fromkeys(("working day", "working days", "jour ouvrable", "jours ouvrables",
                     "arbeitstag", "arbeitstage", "giorno lavorativo", "giorni lavorativi"),
                    "working_days"),
    **dict.fromkeys(("day", "days", "jour", "jours", "tag", "tage", "giorno", "giorni"),
                    "days"),
    **dict.fromkeys(("week", "weeks", "semaine", "semaines", "woche", "wochen", "settimana",
                     "settimane"), "weeks"),
    **dict.fromkeys(("month", "months", "mois", "monat", "monate", "mese", "mesi"), "months"),
}


# (singular, plural) in French, then in English


class Calendar(Protocol):
    @property
    def zone(self) -> tzinfo: ...

    def add_working_days(self, day: date, n: int) -> date: ...
    def on_or_after(self, day: date) -> date: ...


@dataclass(frozen=True, slots=True)
class Duration:
    n: int
    unit: Unit

    def __str__(self) -> str:
        return f"{self.n} {self.unit.replace('_', ' ')}"

    def said(self, lang: str) -> str:
        """As people read it, in ``lang``: « 5 jours ouvrables », "6 Monate"."""
        return duration_words(self.n, self.unit, lang)

    def last_day(self, start: date, cal: Calendar) -> date:
        if self.unit == "working_days":
            return cal.add_working_days(start, self.n)
        if self.unit == "days":
            end = start + timedelta(days=self.n)
        elif self.unit == "weeks":
            end = start + timedelta(weeks=self.n)
        else:
            end = add_months(start, self.n)
        return cal.on_or_after(end)

    def due_after(self, start: datetime, cal: Calendar) -> datetime:
        """When a period starting at ``start`` runs out, as an aware UTC datetime."""
        local_day = start.astimezone(cal.zone).date()
        end_day = self.last_day(local_day, cal) + timedelta(days=1)
        return datetime.combine(end_day, time(0), tzinfo=cal.zone).astimezone(UTC)


def parse_duration(text: str) -> Duration | None:
    """``"10 working days"`` -> ``Duration(10, "working_days")``; None when unreadable."""
    m = _PATTERN.match(text) if isinstance(text, str) else None
    unit = UNITS.get(" ".join(m["unit"].lower().split())) if m else None
    if m is None or unit is None:
        return None
    return Duration(int(m["n"]), unit)


def add_months(day: date, n: int) -> date:
    """Same day ``n`` months later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month0 = day.month - 1 + n
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, _cal.monthrange(year, month)[1]))
