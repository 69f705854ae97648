"""Deadlines said as time left, in working days of the route's calendar: « 3 jours ouvrables
restants », « dernier jour », « échu depuis 2 jours ouvrables ».

A deadline ends at local midnight: its last day is the day before. Today counts as a day left
when it is a working day; an overdue deadline counts the working days since its last day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from relais.i18n import ntr, said, tr
from relais.institutions.calendar import WorkingCalendar


def _working_days(cal: WorkingCalendar, after: date, upto: date) -> int:
    """The working days in (``after``, ``upto``]."""
    n, day = 0, after
    while day < upto:
        day += timedelta(days=1)
        n += cal.is_working_day(day)
    return n


def _days(n: int, lang: str) -> str:
    return ntr(lang, "%(n)d working day", "%(n)d working days", n)


def time_left(due_at: datetime | None, now: datetime, cal: WorkingCalendar, lang: str) -> str:
    if due_at is None:
        return ""
    last = (due_at - timedelta(microseconds=1)).astimezone(cal.zone).date()
    today = cal.today(now)
    if due_at <= now:
        late = _working_days(cal, last, today)
        if late == 0:
            return said(lang, "échu", "overdue")
        return tr(lang, "overdue by %(days)s") % {"days": _days(late, lang)}
    if last == today:
        return said(lang, "dernier jour", "last day")
    left = _working_days(cal, today - timedelta(days=1), last)
    if left == 0:
        return said(lang, "aucun jour ouvrable restant", "no working day left")
    if left == 1:
        return said(lang, "1 jour ouvrable restant", "1 working day left")
    return tr(lang, "%(days)s left") % {"days": _days(left, lang)}
