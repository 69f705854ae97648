"""Deadlines in the canton's working days, and the calendars behind them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relais.institutions.calendar import UnknownCalendar, calendar, is_known
from relais.workflows.engine.durations import Duration, add_months, parse_duration

NE = calendar("CH-NE")


@pytest.mark.parametrize(("text", "expected"), [
    ("5 working days", Duration(5, "working_days")), ("1 working day", Duration(1, "working_days")),
    ("10 days", Duration(10, "days")), ("2 weeks", Duration(2, "weeks")),
    ("6 months", Duration(6, "months")), ("  3   months ", Duration(3, "months")),
    # as coordinators write them in the canton's languages
    ("15 jours ouvrables", Duration(15, "working_days")),
    ("1 jour ouvrable", Duration(1, "working_days")), ("10 jours", Duration(10, "days")),
    ("2 semaines", Duration(2, "weeks")), ("6 mois", Duration(6, "months")),
    ("15 Arbeitstage", Duration(15, "working_days")), ("1 Arbeitstag", Duration(1, "working_days")),
    ("10 Tage", Duration(10, "days")), ("2 Wochen", Duration(2, "weeks")),
    ("6 Monate", Duration(6, "months")), ("1 Monat", Duration(1, "months")),
    ("15 giorni lavorativi", Duration(15, "working_days")), ("10 giorni", Duration(10, "days")),
    ("2 settimane", Duration(2, "weeks")), ("6 mesi", Duration(6, "months")),
    ("1 mese", Duration(1, "months")), ("5 Jours Ouvrables", Duration(5, "working_days")),
])
def test_deadlines_are_read_as_written(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["5", "five days", "0 days", "-1 days", "5 workdays",
                                  "5 working", "10 years", "12345 days", "", "5 ouvrables",
                                  "5 jours ouvrés de plus", "3 ans"])
def test_unreadable_deadlines_are_refused(text: str) -> None:
    assert parse_duration(text) is None


def test_neuchatel_holidays_are_not_working_days() -> None:
    for day in (date(2026, 1, 1), date(2026, 3, 1), date(2026, 4, 3), date(2026, 4, 6),
                date(2026, 5, 14), date(2026, 5, 25), date(2026, 8, 1), date(2026, 12, 25)):
        assert not NE.is_working_day(day), day
    assert NE.is_working_day(date(2026, 3, 2))


def test_five_working_days_from_the_thursday_before_easter_skip_the_long_weekend() -> None:
    # Thu 2 April 2026 → Good Friday 3 and Easter Monday 6 are off → Tue 7, Wed 8, Thu 9,
    # Fri 10, Mon 13: the deadline runs to the end of Monday 13 April (local time).
    due = Duration(5, "working_days").due_after(datetime(2026, 4, 2, 10, tzinfo=UTC), NE)
    assert due == datetime(2026, 4, 13, 22, 0, tzinfo=UTC)  # midnight in Neuchâtel (CEST)


def test_a_calendar_period_ending_on_a_day_off_runs_to_the_next_working_day() -> None:
    # 10 days from Wed 22 July 2026 ends Sat 1 August (a holiday and a Saturday) → Mon 3
    due = Duration(10, "days").due_after(datetime(2026, 7, 22, 9, tzinfo=UTC), NE)
    assert due.astimezone(NE.zone).date() == date(2026, 8, 4)


def test_months_clamp_to_the_end_of_shorter_months() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2027, 12, 15), 3) == date(2028, 3, 15)


@pytest.mark.parametrize("code", ["CH-NE", "CH-VD", "CH", "FR", "AZ", "DE-BY"])
def test_any_calendar_the_holidays_library_knows_can_be_used(code: str) -> None:
    assert is_known(code)
    assert calendar(code).add_working_days(date(2026, 6, 1), 3) > date(2026, 6, 1)


@pytest.mark.parametrize("code", ["XX", "CH-XX", "", "ch-ne"])
def test_unknown_calendars_are_refused(code: str) -> None:
    assert not is_known(code)
    with pytest.raises(UnknownCalendar):
        calendar(code)


@given(start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31),
                          timezones=st.just(UTC)),
       n=st.integers(1, 60))
def test_a_working_day_deadline_ends_after_exactly_n_working_days(start: datetime,
                                                                  n: int) -> None:
    due = Duration(n, "working_days").due_after(start, NE)
    first = start.astimezone(NE.zone).date()
    last = due.astimezone(NE.zone).date()
    days = [date.fromordinal(o) for o in range(first.toordinal() + 1, last.toordinal())]
    assert sum(NE.is_working_day(d) for d in days) == n
    assert NE.is_working_day(days[-1])
    assert due.astimezone(NE.zone).time().hour == 0


def test_today_is_neuchatels_day_not_utcs() -> None:
    """From midnight to one in the morning (two in summer) in Neuchâtel, UTC still says
    yesterday: a consent valid until yesterday has ended, a birth date of today is not future."""
    assert NE.today(datetime(2026, 12, 6, 23, 30, tzinfo=UTC)) == date(2026, 12, 7)
    assert NE.today(datetime(2026, 6, 30, 22, 30, tzinfo=UTC)) == date(2026, 7, 1)
    assert NE.today(datetime(2026, 12, 6, 22, 59, tzinfo=UTC)) == date(2026, 12, 6)
