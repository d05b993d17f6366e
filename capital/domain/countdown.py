"""How far away the next celebration of 16 May is (standard library only)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from capital.domain.timeline import celebration_day


def next_celebration(today: date) -> date:
    """The next 16 May on or after ``today``."""
    this_year = celebration_day(today.year)
    return this_year if today <= this_year else celebration_day(today.year + 1)


def days_to_celebration(today: date) -> int:
    """Whole days from ``today`` to the next 16 May (0 on the day itself)."""
    return (next_celebration(today) - today).days


def next_day_start(now: datetime) -> datetime:
    """The first moment of the day after ``now``'s, in ``now``'s time zone: a day count changes then."""
    return datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=now.tzinfo)
