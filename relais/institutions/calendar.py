"""Working-day calendars: a country (and subdivision) whose public holidays are days off.

Backed by the ``holidays`` library, so any country or subdivision it knows can be used
(``CH-NE``, ``CH-VD``, ``CH``, ``FR``, ``AZ``...).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

import holidays
import yaml
from dateutil.easter import easter

# The local time zone in which a day starts and ends, by country. Deadlines end at local
# midnight, so this matters only around midnight; unknown countries fall back to UTC.
_ZONES = {
    "CH": "Europe/Zurich", "LI": "Europe/Vaduz", "FR": "Europe/Paris", "DE": "Europe/Berlin",
    "AT": "Europe/Vienna", "IT": "Europe/Rome", "AZ": "Asia/Baku", "BE": "Europe/Brussels",
    "LU": "Europe/Luxembourg", "GB": "Europe/London", "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon", "NL": "Europe/Amsterdam",
}


class UnknownCalendar(ValueError):
    pass


@cache
def _closures() -> dict[str, dict[str, dict[int, str]]]:
    text = resources.files("relais.institutions").joinpath("data/calendars.yaml").read_text("utf-8")
    return yaml.safe_load(text) or {}


def _split(code: str) -> tuple[str, str | None]:
    country, _, subdiv = code.partition("-")
    return country, subdiv or None


def is_known(code: str) -> bool:
    country, subdiv = _split(code)
    supported = holidays.list_supported_countries()
    if country not in supported:
        return False
    return subdiv is None or subdiv in supported[country]


class WorkingCalendar:
    """Saturdays, Sundays and the public holidays of one country or subdivision are off."""

    def __init__(self, code: str) -> None:
        if not is_known(code):
            raise UnknownCalendar(code)
        self.code = code
        country, subdiv = _split(code)
        self._holidays = holidays.country_holidays(country, subdiv=subdiv, language="fr")
        self._easter_offsets = _closures().get(code, {}).get("easter_offsets", {})
        self._extra_by_year: dict[int, dict[date, str]] = {}
        self._days_off: dict[int, frozenset[date]] = {}  # deadlines ask this a lot
        self.zone = ZoneInfo(_ZONES.get(country, "UTC"))

    def _extra(self, year: int) -> dict[date, str]:
        if year not in self._extra_by_year:
            sunday = easter(year)
            self._extra_by_year[year] = {
                sunday + timedelta(days=int(k)): v for k, v in self._easter_offsets.items()
            }
        return self._extra_by_year[year]

    def holiday_name(self, day: date) -> str | None:
        name = self._holidays.get(day) or self._extra(day.year).get(day)
        return str(name) if name else None

    def today(self, now: datetime) -> date:
        """The calendar day ``now`` falls on where the calendar counts, not in UTC: from
        midnight to one in the morning in Neuchâtel, UTC still says yesterday."""
        return now.astimezone(self.zone).date()

    def is_working_day(self, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        off = self._days_off.get(day.year)
        if off is None:
            self._holidays.get(date(day.year, 1, 1))  # makes the library fill in that year
            off = frozenset(d for d in self._holidays if d.year == day.year) \
                | frozenset(self._extra(day.year))
            self._days_off[day.year] = off
        return day not in off

    def add_working_days(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``day`` itself is not counted)."""
        while n > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def on_or_after(self, day: date) -> date:
        """``day`` if it is a working day, else the next one."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day


@cache
def calendar(code: str) -> WorkingCalendar:
    return WorkingCalendar(code)
