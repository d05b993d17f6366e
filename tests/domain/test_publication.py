"""When a cycle's result is public: its phase and its announcement time, to the second."""

from datetime import UTC, datetime, timedelta

import pytest

from capital.domain.phase import Phase
from capital.domain.publication import nominees_are_public, result_is_public, years_of

AT = datetime(2031, 3, 16, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize("phase", [Phase.ANNOUNCED, Phase.NO_CAPITAL])
def test_a_published_phase_is_public_from_its_announcement_time_to_the_second(phase):
    assert not result_is_public(phase, AT, AT - SECOND)
    assert result_is_public(phase, AT, AT)
    assert result_is_public(phase, None, AT)  # kept for the record without an announcement time


@pytest.mark.parametrize("phase", [p for p in Phase if p not in (Phase.ANNOUNCED, Phase.NO_CAPITAL)])
def test_no_other_phase_is_ever_public(phase):
    assert not result_is_public(phase, AT, AT + timedelta(days=3650))
    assert not result_is_public(phase, None, AT)


def test_nominees_are_public_once_nominations_close_unless_cancelled():
    assert [p for p in Phase if nominees_are_public(p)] == [
        Phase.NOMINATIONS_CLOSED, Phase.VOTING_OPEN, Phase.VOTING_CLOSED, Phase.TALLIED, Phase.ANNOUNCED,
        Phase.NO_CAPITAL, Phase.ASSESSMENT, Phase.ASSESSED, Phase.SHORTLIST_VOTING, Phase.SHORTLIST_COUNTED,
        Phase.SHORTLISTED]


def test_a_biennial_cycle_covers_two_celebrations():
    assert years_of(2031, False) == (2031,) and years_of(2031, True) == (2031, 2032)
