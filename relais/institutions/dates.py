"""How people here read dates: Swiss format, in Neuchâtel's time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

ZURICH = ZoneInfo("Europe/Zurich")


def local_day(d: date | datetime) -> date:
    return d.astimezone(ZURICH).date() if isinstance(d, datetime) else d


def swiss_date(d: date | datetime | None) -> str:
    return local_day(d).strftime("%d.%m.%Y") if d else "—"


def deadline_end(d: datetime | None) -> str:
    """A deadline ends at midnight: people read the last day on which it still runs."""
    return swiss_date(d - timedelta(microseconds=1)) if d else "—"
