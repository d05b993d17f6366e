"""The factory cycle of tests/conftest.py is valid whatever day the suite runs on."""

from datetime import UTC, datetime, timedelta

import pytest

from capital.domain.phase import Phase

from capital.domain.phases import phase_at
from capital.domain.timeline import Timeline, validate_timeline
from tests.conftest import fixture_timeline

START = datetime(2027, 1, 1, 0, 0, 7, tzinfo=UTC)
# Every ten days over two years (a leap year included), at a time of day that moves too.
RUN_DATES = [START + timedelta(days=10 * n, hours=5 * n) for n in range(74)]


@pytest.mark.parametrize("now", RUN_DATES, ids=lambda now: now.strftime("%Y-%m-%d"))
@pytest.mark.parametrize("close_in", [timedelta(days=10), timedelta(days=-1), timedelta(days=60)],
                         ids=["open", "closed", "far"])
def test_the_fixture_timeline_is_ordered_and_before_the_celebration(now, close_in):
    values = fixture_timeline(now, close_in)
    timeline = Timeline(**{name: value for name, value in values.items() if name != "year"})
    assert values["celebration_date"].year == values["year"]
    # Ordered, before 16 May, nothing in the past for a cycle still in draft a day before it opens.
    assert validate_timeline(timeline, timeline.nominations_open_dt - timedelta(days=1), phase=Phase.DRAFT) == []
    assert timeline.nominations_close_dt == now + close_in
    expected = Phase.NOMINATIONS_OPEN if close_in > timedelta(0) else Phase.NOMINATIONS_CLOSED
    assert phase_at(now, timeline) == expected


def test_the_run_dates_cover_every_month_of_a_year():
    assert {(now.year, now.month) for now in RUN_DATES} >= {(2027, month) for month in range(1, 13)}
