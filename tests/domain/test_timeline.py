"""A cycle's timeline: the defaults, their order, validation by phase, carry-over and windows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from capital.domain.phase import ALL_DEADLINE_FIELDS, FINAL_PHASES, Phase, deadline_for, dossiers_visible
from capital.domain.timeline import (
    DEADLINE_FIELDS,
    DEADLINE_LABELS,
    Timeline,
    Window,
    carry_over,
    default_timeline,
    next_cycle_year,
    validate_timeline,
)

SECOND = timedelta(seconds=1)
T2027 = default_timeline(2027)
BEFORE_EVERYTHING = datetime(2026, 1, 1, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def codes(problems):
    return [problem.code for problem in problems]


def test_default_timeline_for_2027():
    assert T2027 == Timeline(
        nominations_open_dt=utc(2026, 10, 16, 12),
        nominations_close_dt=utc(2027, 1, 16, 12),
        voting_open_dt=utc(2027, 2, 16, 12),
        voting_close_dt=utc(2027, 3, 9, 12),
        announcement_dt=utc(2027, 3, 16, 12),
        celebration_date=date(2027, 5, 16),
    )
    assert T2027.voting_close_dt - T2027.voting_open_dt == timedelta(weeks=3)
    assert validate_timeline(T2027, BEFORE_EVERYTHING, phase=Phase.DRAFT) == []


@given(st.integers(min_value=2019, max_value=2200))
def test_every_default_timeline_is_in_order_and_before_16_may(year):
    timeline = default_timeline(year)
    moments = list(timeline.deadlines().values())
    assert moments == sorted(moments) and len(set(moments)) == len(moments)
    assert moments[-1] < timeline.celebration_starts
    assert timeline.celebration_date == date(year, 5, 16)
    assert all(moment.tzinfo is UTC and moment.hour == 12 for moment in moments)
    assert validate_timeline(timeline, timeline.nominations_open_dt - SECOND, phase=Phase.DRAFT) == []


def test_datetimes_must_be_aware_and_are_stored_in_utc():
    with pytest.raises(ValueError, match="aware"):
        replace(T2027, voting_open_dt=datetime(2027, 2, 16, 12))
    paris_winter = timezone(timedelta(hours=1))
    moved = replace(T2027, voting_open_dt=datetime(2027, 2, 16, 13, tzinfo=paris_winter))
    assert moved.voting_open_dt == T2027.voting_open_dt and moved.voting_open_dt.tzinfo is UTC


@pytest.mark.parametrize("field", DEADLINE_FIELDS[1:])
@pytest.mark.parametrize("shift", [timedelta(0), -SECOND], ids=["equal", "before"])
def test_each_deadline_must_be_strictly_after_the_previous(field, shift):
    previous = DEADLINE_FIELDS[DEADLINE_FIELDS.index(field) - 1]
    timeline = replace(T2027, **{field: getattr(T2027, previous) + shift})
    assert f"timeline.order.{field}" in codes(validate_timeline(timeline, BEFORE_EVERYTHING, phase=Phase.DRAFT))


def test_the_announcement_must_come_before_the_celebration():
    midnight = utc(2027, 5, 16)
    late = replace(T2027, announcement_dt=midnight)
    assert codes(validate_timeline(late, BEFORE_EVERYTHING, phase=Phase.DRAFT)) == ["timeline.after_celebration"]
    just_in_time = replace(T2027, announcement_dt=midnight - SECOND)
    assert validate_timeline(just_in_time, BEFORE_EVERYTHING, phase=Phase.DRAFT) == []


def test_the_celebration_is_on_16_may():
    wrong = replace(T2027, celebration_date=date(2027, 5, 17))
    assert codes(validate_timeline(wrong, BEFORE_EVERYTHING, phase=Phase.DRAFT)) == ["timeline.celebration_date"]


@pytest.mark.parametrize(
    ("phase", "may_be_past"),
    [
        (Phase.DRAFT, 0),
        (Phase.NOMINATIONS_OPEN, 1),
        (Phase.NOMINATIONS_CLOSED, 2),
        (Phase.VOTING_OPEN, 3),
        (Phase.VOTING_CLOSED, 4),
        (Phase.TALLIED, 4),
    ],
    ids=lambda value: getattr(value, "name", str(value)),
)
def test_only_deadlines_behind_the_phase_may_be_past(phase, may_be_past):
    for index, field in enumerate(DEADLINE_FIELDS):
        passed = [f"timeline.past.{name}" for name in DEADLINE_FIELDS[may_be_past : index + 1]]
        for now in (getattr(T2027, field), getattr(T2027, field) + SECOND):  # at the deadline counts as past
            assert codes(validate_timeline(T2027, now, phase=phase)) == passed
        assert codes(validate_timeline(T2027, getattr(T2027, field) - SECOND, phase=phase)) == passed[:-1]


def test_editing_a_closed_nomination_period_does_not_complain_about_its_past():
    during_review = utc(2027, 1, 20)
    assert validate_timeline(T2027, during_review, phase=Phase.NOMINATIONS_CLOSED) == []
    assert codes(validate_timeline(T2027, during_review, phase=Phase.NOMINATIONS_OPEN)) == [
        "timeline.past.nominations_close_dt"
    ]


@pytest.mark.parametrize("phase", sorted(FINAL_PHASES), ids=lambda phase: phase.name)
def test_a_finished_cycle_checks_the_order_only(phase):
    assert validate_timeline(T2027, utc(2030, 1, 1), phase=phase) == []
    muddled = replace(T2027, voting_close_dt=T2027.voting_open_dt)
    assert codes(validate_timeline(muddled, utc(2030, 1, 1), phase=phase)) == ["timeline.order.voting_close_dt"]


def test_all_problems_are_reported_together():
    broken = replace(T2027, nominations_close_dt=T2027.nominations_open_dt, celebration_date=date(2027, 6, 1))
    assert codes(validate_timeline(broken, utc(2026, 12, 1), phase=Phase.DRAFT)) == [
        "timeline.order.nominations_close_dt",
        "timeline.celebration_date",
        "timeline.past.nominations_open_dt",
        "timeline.past.nominations_close_dt",
    ]


def test_carry_over_of_the_default_gives_the_next_default_across_leap_years():
    for year in range(2019, 2040):
        assert carry_over(default_timeline(year), year + 1) == default_timeline(year + 1)
        assert carry_over(default_timeline(year), year + 2) == default_timeline(year + 2)  # biennial cycles


def test_carry_over_keeps_custom_days_and_hours():
    custom = Timeline(
        nominations_open_dt=utc(2026, 9, 1, 8, 30),
        nominations_close_dt=utc(2027, 1, 31, 23, 59, 59),
        voting_open_dt=utc(2027, 2, 10, 9),
        voting_close_dt=utc(2027, 3, 1, 17),
        announcement_dt=utc(2027, 4, 1, 10),
        celebration_date=date(2027, 5, 16),
    )
    assert carry_over(custom, 2028) == Timeline(
        nominations_open_dt=utc(2027, 9, 1, 8, 30),
        nominations_close_dt=utc(2028, 1, 31, 23, 59, 59),
        voting_open_dt=utc(2028, 2, 10, 9),
        voting_close_dt=utc(2028, 3, 1, 17),
        announcement_dt=utc(2028, 4, 1, 10),
        celebration_date=date(2028, 5, 16),
    )


def test_carry_over_moves_29_february_to_28_february():
    leap = replace(default_timeline(2028), voting_close_dt=utc(2028, 2, 29, 12))
    assert carry_over(leap, 2029).voting_close_dt == utc(2029, 2, 28, 12)


def test_a_window_is_open_from_its_opening_to_just_before_its_close():
    window = T2027.nominations
    assert window == Window(T2027.nominations_open_dt, T2027.nominations_close_dt)
    assert not window.is_open(window.opens - SECOND)
    assert window.is_open(window.opens)
    assert window.is_open(window.closes - SECOND)
    assert not window.is_open(window.closes)  # exactly at the deadline is already too late
    assert not window.is_open(window.closes + SECOND)
    assert window.has_closed(window.closes) and not window.has_closed(window.closes - SECOND)
    assert T2027.voting == Window(T2027.voting_open_dt, T2027.voting_close_dt)


@pytest.mark.parametrize(
    ("phase", "field"),
    [
        (Phase.DRAFT, "nominations_open_dt"),
        (Phase.NOMINATIONS_OPEN, "nominations_close_dt"),
        (Phase.NOMINATIONS_CLOSED, "voting_open_dt"),
        (Phase.VOTING_OPEN, "voting_close_dt"),
        (Phase.VOTING_CLOSED, "announcement_dt"),
        (Phase.TALLIED, "announcement_dt"),
        (Phase.ANNOUNCED, None),
        (Phase.CANCELLED, None),
        (Phase.NO_CAPITAL, None),
    ],
    ids=lambda value: getattr(value, "name", str(value)),
)
def test_deadline_for_each_phase(phase, field):
    assert deadline_for(phase, T2027) == (getattr(T2027, field) if field else None)


def test_dossiers_are_visible_from_the_close_of_nominations_unless_the_cycle_is_cancelled():
    visible = {phase for phase in Phase if dossiers_visible(phase)}
    assert visible == {Phase.NOMINATIONS_CLOSED, Phase.VOTING_OPEN, Phase.VOTING_CLOSED, Phase.TALLIED,
                       Phase.ANNOUNCED, Phase.NO_CAPITAL, Phase.ASSESSMENT, Phase.ASSESSED, Phase.SHORTLIST_VOTING,
                       Phase.SHORTLIST_COUNTED, Phase.SHORTLISTED}


def test_second_round_opens_now_for_a_week_and_moves_the_announcement_as_much():
    closed = T2027.voting_close_dt + timedelta(hours=1)
    second = T2027.second_round(closed)
    assert second.voting.opens == closed and second.voting_close_dt == closed + timedelta(weeks=1)
    assert second.announcement_dt - second.voting_close_dt == T2027.announcement_dt - T2027.voting_close_dt
    assert second.nominations == T2027.nominations
    assert validate_timeline(second, closed, phase=Phase.VOTING_OPEN) == []

    too_late = T2027.second_round(utc(2027, 5, 5), duration=timedelta(days=6))
    assert "timeline.after_celebration" in codes(validate_timeline(too_late, utc(2027, 5, 5), phase=Phase.VOTING_OPEN))


def test_every_deadline_has_a_label():
    assert set(DEADLINE_LABELS) == set(ALL_DEADLINE_FIELDS)


@pytest.mark.parametrize(("today", "latest", "year"), [
    (date(2027, 1, 10), None, 2027),   # before 16 May: this year's celebration
    (date(2027, 5, 16), None, 2027),   # on the day itself
    (date(2027, 5, 17), None, 2028),   # after it: next year's
    (date(2027, 3, 1), 2027, 2028),    # this year's cycle exists: the one after it
    (date(2027, 3, 1), 2030, 2031),
    (date(2027, 12, 1), 2019, 2028),   # an old cycle does not pull the year back
])
def test_the_next_cycle_is_for_the_next_celebration_no_cycle_covers(today, latest, year):
    assert next_cycle_year(today, latest) == year
