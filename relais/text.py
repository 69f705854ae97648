"""How people read dates and times here: Swiss format, Swiss time."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

ZURICH = ZoneInfo("Europe/Zurich")


def swiss_date(d: date | datetime | None) -> str:
    if d is None:
        return "—"
    if isinstance(d, datetime):
        d = d.astimezone(ZURICH)
    return d.strftime("%d.%m.%Y")


def swiss_datetime(d: datetime | None) -> str:
    return d.astimezone(ZURICH).strftime("%d.%m.%Y %H:%M") if d else "—"


def deadline_end(d: datetime | None) -> str:
    """A deadline ends at midnight: people read the last day on which it still runs."""
    if d is None:
        return "—"
    return swiss_date(d.astimezone(ZURICH) - timedelta(microseconds=1))
