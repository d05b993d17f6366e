"""The shortlist's rules: the approval ballot read from its boxes, and the finalists' update window."""

from datetime import timedelta

import pytest

from capital.domain.ballots import BallotFormError
from capital.domain.shortlist import (
    CountLine, KthPlaceTie, finalist_update_decision, read_approvals, read_shortlist_count,
)
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


def _tally(scores: dict[str, int], ranking: list[str], shortlist: list[str], used: list[dict]) -> dict:
    """A stored approval count: the candidates are numbered in the order of ``scores``."""
    ids = {name: n for n, name in enumerate(scores, 1)}
    return {"candidates": list(scores), "candidate_ids": list(ids.values()), "scores": scores,
            "ranking": [[name] for name in ranking], "shortlist_ids": [ids[name] for name in shortlist],
            "tie_break_used": used}


def _used(*resolved: str) -> dict:
    return {"stage": "final ranking", "tied": sorted(resolved), "resolved": list(resolved)}


def test_the_count_reads_in_its_order_and_explains_only_a_tie_across_the_last_place():
    scores = {"Lyon": 2, "Palermo": 2, "Tunis": 0, "Venlo": 3, "Graz": 1, "Oslo": 1}
    ranking = ["Venlo", "Palermo", "Lyon", "Oslo", "Graz", "Tunis"]
    count = read_shortlist_count(_tally(scores, ranking, ["Venlo", "Palermo"],
                                        [_used("Palermo", "Lyon"), _used("Oslo", "Graz")]), is_quorum_met=True)
    assert count.lines[:2] == (CountLine(1, "Venlo", 3, True), CountLine(2, "Palermo", 2, True))
    assert [line.name for line in count.lines] == ranking and sum(line.is_finalist for line in count.lines) == 2
    assert count.tie == KthPlaceTie(2, ("Palermo",), ("Lyon",))
    # A tie that falls wholly inside the shortlist, or wholly below it, decided nothing about it.
    inside = read_shortlist_count(_tally(scores, ranking, ["Venlo", "Palermo", "Lyon"], [_used("Palermo", "Lyon"),
                                                                                         _used("Oslo", "Graz")]),
                                  is_quorum_met=True)
    assert inside.tie is None
    # Without the quorum there is no shortlist, whatever the count would have drawn.
    missed = read_shortlist_count(_tally(scores, ranking, ["Venlo", "Palermo"], [_used("Palermo", "Lyon")]),
                                  is_quorum_met=False)
    assert missed.tie is None and not any(line.is_finalist for line in missed.lines)
