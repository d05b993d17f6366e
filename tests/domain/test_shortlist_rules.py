"""The shortlist's rules: the approval ballot read from its boxes, and the finalists' update window."""

from datetime import timedelta

import pytest

from capital.domain.ballots import BallotFormError
from capital.domain.shortlist import finalist_update_decision, read_approvals
from capital.domain.timeline import default_timeline

IDS = [10, 11, 12, 13]
STAGED = default_timeline(2027, has_shortlist=True)
SECOND = timedelta(seconds=1)


def test_the_ticked_boxes_are_one_equal_group():
    assert read_approvals([12, 10], IDS, 2) == ((10, 12),)
    assert read_approvals([11, 11], IDS, 1) == ((11,),)  # a box sent twice is one approval


@pytest.mark.parametrize(("approved", "code"), [
    ([], "shortlist.empty"), ([10, 11, 12], "shortlist.too_many"), ([10, 99], "ballot.unknown_nomination")])
def test_an_approval_ballot_that_cannot_be_meant_is_refused(approved, code):
    with pytest.raises(BallotFormError) as refused:
        read_approvals(approved, IDS, 2)
    assert [error.message.code for error in refused.value.errors] == [code]


def test_a_finalist_updates_from_the_publication_to_the_deadline_excluded():
    opens, closes = STAGED.shortlist_publication_dt, STAGED.finalist_update_close_dt
    assert not finalist_update_decision(True, STAGED, opens - SECOND)
    assert finalist_update_decision(True, STAGED, opens)
    assert finalist_update_decision(True, STAGED, closes - SECOND)
    assert finalist_update_decision(True, STAGED, closes).reasons[0].code == "finalist_update.closed"
    assert finalist_update_decision(False, STAGED, opens).reasons[0].code == "finalist_update.not_finalist"
    assert not finalist_update_decision(True, default_timeline(2027), opens)  # no shortlist, no window
