"""Deadlines said as time left, in working days of the route's calendar: « 3 jours ouvrables
restants », « dernier jour », « échu depuis 2 jours ouvrables ».

A deadline ends at local midnight: its last day is the day before. Today counts as a day left
when it is a working day; an overdue deadline counts the working days since its last day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from relais.institutions.calendar import WorkingCalendar


def _working_days(cal: WorkingCalendar, after: date, upto: date) -> int:
    """The working days in (``after``, ``upto``]."""
    n, day = 0, after
    while day < upto:
        day += timedelta(days=1)
        n += cal.is_working_day(day)
    return n


def _days(n: int, lang: str) -> str:
    if lang == "en":
        return f"{n} working day" + ("s" if n != 1 else "")
    return f"{n} jour ouvrable" if n == 1 else f"{n} jours ouvrables"


def time_left(due_at: datetime | None, now: datetime, cal: WorkingCalendar, lang: str) -> str:
    if due_at is None:
        return ""
    last = (due_at - timedelta(microseconds=1)).astimezone(cal.zone).date()
    today = now.astimezone(cal.zone).date()
    en = lang == "en"
    if due_at <= now:
        late = _working_days(cal, last, today)
        if late == 0:
            return "overdue" if en else "échu"
        return f"overdue by {_days(late, lang)}" if en else f"échu depuis {_days(late, lang)}"
    if last == today:
        return "last day" if en else "dernier jour"
    left = _working_days(cal, today - timedelta(days=1), last)
    if left == 0:
        return "no working day left" if en else "aucun jour ouvrable restant"
    if left == 1:
        return "1 working day left" if en else "1 jour ouvrable restant"
    return f"{_days(left, lang)} left" if en else f"{_days(left, lang)} restants"
