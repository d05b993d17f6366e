"""The optional stages on the timeline: assessment and shortlist between the review and the final vote."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from capital.domain.phase import Phase, course, deadline_for, deadlines_still_ahead
from capital.domain.phases import TransitionContext, TransitionError, check_transition, due_transition, phase_at
from capital.domain.timeline import carry_over, default_timeline, deadlines_behind, labelled_deadlines, validate_timeline

P = Phase
SECOND = timedelta(seconds=1)
STAGED = default_timeline(2027, has_assessment=True, has_shortlist=True)
ASSESSMENT_ONLY = default_timeline(2027, has_assessment=True)
SHORTLIST_ONLY = default_timeline(2027, has_shortlist=True)
PLAIN = default_timeline(2027)
EARLY = STAGED.nominations_open_dt - timedelta(days=1)
FACTS = TransitionContext(eligible_nominations=5, quorum_met=True, rounds_used=1, shortlist_drawn=True)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def codes(problems):
    return [problem.code for problem in problems]


def test_the_staged_default_timeline_for_2027():
    assert STAGED.deadlines() == {
        "nominations_open_dt": utc(2026, 7, 16, 12),
        "nominations_close_dt": utc(2026, 10, 16, 12),
        "assessment_open_dt": utc(2026, 11, 1, 12),
        "assessment_close_dt": utc(2026, 12, 1, 12),
        "shortlist_open_dt": utc(2026, 12, 15, 12),
        "shortlist_close_dt": utc(2027, 1, 12, 12),
        "shortlist_publication_dt": utc(2027, 1, 16, 12),
        "finalist_update_close_dt": utc(2027, 2, 9, 12),
        "voting_open_dt": utc(2027, 2, 16, 12),
        "voting_close_dt": utc(2027, 3, 9, 12),
        "announcement_dt": utc(2027, 3, 16, 12),
    }
    assert STAGED.assessment.is_open(utc(2026, 11, 1, 12)) and STAGED.assessment.has_closed(utc(2026, 12, 1, 12))
    assert not STAGED.finalist_update.is_open(utc(2027, 1, 16, 11, 59, 59))
    assert PLAIN.assessment is None and PLAIN.shortlist_voting is None and PLAIN.finalist_update is None


@given(st.integers(min_value=2019, max_value=2200), st.booleans(), st.booleans())
def test_every_default_timeline_with_any_stages_is_in_order_and_carries_over(year, assessment, shortlist):
    timeline = default_timeline(year, has_assessment=assessment, has_shortlist=shortlist)
    assert (timeline.has_assessment, timeline.has_shortlist) == (assessment, shortlist)
    assert validate_timeline(timeline, timeline.nominations_open_dt - SECOND, phase=P.DRAFT) == []
    assert carry_over(timeline, year + 1) == default_timeline(year + 1, has_assessment=assessment,
                                                               has_shortlist=shortlist)


def test_a_stage_has_all_its_dates_or_none():
    with pytest.raises(ValueError, match="assessment"):
        replace(PLAIN, assessment_open_dt=utc(2027, 1, 20, 12))
    with pytest.raises(ValueError, match="shortlist"):
        replace(STAGED, finalist_update_close_dt=None)
    assert STAGED.without_stages() == replace(PLAIN, nominations_open_dt=STAGED.nominations_open_dt,
                                              nominations_close_dt=STAGED.nominations_close_dt)


def test_the_course_has_the_stages_the_timeline_has():
    assert course(PLAIN) == (P.DRAFT, P.NOMINATIONS_OPEN, P.NOMINATIONS_CLOSED, P.VOTING_OPEN, P.VOTING_CLOSED,
                             P.TALLIED, P.ANNOUNCED)
    assert course(ASSESSMENT_ONLY)[2:5] == (P.NOMINATIONS_CLOSED, P.ASSESSMENT, P.ASSESSED)
    assert course(SHORTLIST_ONLY)[2:6] == (P.NOMINATIONS_CLOSED, P.SHORTLIST_VOTING, P.SHORTLIST_COUNTED,
                                           P.SHORTLISTED)
    assert len(course(STAGED)) == 12


@pytest.mark.parametrize(("timeline", "phase", "field"), [
    (STAGED, P.NOMINATIONS_CLOSED, "assessment_open_dt"),
    (STAGED, P.ASSESSMENT, "assessment_close_dt"),
    (STAGED, P.ASSESSED, "shortlist_open_dt"),
    (STAGED, P.SHORTLIST_VOTING, "shortlist_close_dt"),
    (STAGED, P.SHORTLIST_COUNTED, "shortlist_publication_dt"),
    (STAGED, P.SHORTLISTED, "voting_open_dt"),
    (ASSESSMENT_ONLY, P.ASSESSED, "voting_open_dt"),
    (SHORTLIST_ONLY, P.NOMINATIONS_CLOSED, "shortlist_open_dt"),
    (PLAIN, P.NOMINATIONS_CLOSED, "voting_open_dt"),
], ids=lambda value: getattr(value, "name", str(value)[:40]))
def test_a_phase_ends_at_its_deadline_or_the_next_one_the_timeline_has(timeline, phase, field):
    assert deadline_for(phase, timeline) == getattr(timeline, field)


def test_phase_at_walks_through_every_stage_to_the_second():
    t = STAGED
    assert phase_at(t.assessment_open_dt - SECOND, t) == P.NOMINATIONS_CLOSED
    assert phase_at(t.assessment_open_dt, t) == P.ASSESSMENT
    assert phase_at(t.assessment_close_dt, t) == P.ASSESSED
    assert phase_at(t.shortlist_open_dt, t) == P.SHORTLIST_VOTING
    assert phase_at(t.shortlist_close_dt, t) == P.SHORTLIST_COUNTED
    assert phase_at(t.shortlist_publication_dt - SECOND, t) == P.SHORTLIST_COUNTED
    assert phase_at(t.shortlist_publication_dt, t) == P.SHORTLISTED
    assert phase_at(t.finalist_update_close_dt, t) == P.SHORTLISTED  # ends no phase
    assert phase_at(t.voting_open_dt, t) == P.VOTING_OPEN
    assert phase_at(ASSESSMENT_ONLY.assessment_close_dt, ASSESSMENT_ONLY) == P.ASSESSED
    assert phase_at(ASSESSMENT_ONLY.voting_open_dt, ASSESSMENT_ONLY) == P.VOTING_OPEN


def test_the_worker_takes_every_stage_in_turn_at_its_deadline():
    phase, moments = P.NOMINATIONS_CLOSED, []
    for field in ("assessment_open_dt", "assessment_close_dt", "shortlist_open_dt", "shortlist_close_dt",
                  "shortlist_publication_dt", "voting_open_dt"):
        deadline = getattr(STAGED, field)
        assert due_transition(phase, STAGED, deadline - SECOND, FACTS) is None
        phase = due_transition(phase, STAGED, deadline, FACTS)
        moments.append(phase)
    assert moments == [P.ASSESSMENT, P.ASSESSED, P.SHORTLIST_VOTING, P.SHORTLIST_COUNTED, P.SHORTLISTED,
                       P.VOTING_OPEN]


def test_without_stages_the_review_still_leads_straight_to_the_vote():
    assert due_transition(P.NOMINATIONS_CLOSED, PLAIN, PLAIN.voting_open_dt, FACTS) == P.VOTING_OPEN
    assert due_transition(P.NOMINATIONS_CLOSED, ASSESSMENT_ONLY, ASSESSMENT_ONLY.assessment_open_dt,
                          FACTS) == P.ASSESSMENT
    assert due_transition(P.ASSESSED, ASSESSMENT_ONLY, ASSESSMENT_ONLY.voting_open_dt, FACTS) == P.VOTING_OPEN
    assert due_transition(P.NOMINATIONS_CLOSED, SHORTLIST_ONLY, SHORTLIST_ONLY.shortlist_open_dt,
                          FACTS) == P.SHORTLIST_VOTING


def _by_hand(current, target, timeline, context=FACTS):
    check_transition(current, target, timeline=timeline, now=EARLY, by_hand=True, is_secretariat=True,
                     context=context)


@pytest.mark.parametrize(("current", "target", "timeline"), [
    (P.NOMINATIONS_CLOSED, P.VOTING_OPEN, STAGED),
    (P.NOMINATIONS_CLOSED, P.SHORTLIST_VOTING, STAGED),
    (P.ASSESSED, P.VOTING_OPEN, STAGED),
], ids=lambda value: getattr(value, "name", "timeline"))
def test_a_stage_of_the_timeline_cannot_be_skipped_even_by_hand(current, target, timeline):
    with pytest.raises(TransitionError) as refused:
        _by_hand(current, target, timeline)
    assert refused.value.reason.code == "phase.skips_stage"


@pytest.mark.parametrize(("current", "target"), [
    (P.NOMINATIONS_CLOSED, P.ASSESSMENT), (P.NOMINATIONS_CLOSED, P.SHORTLIST_VOTING),
], ids=lambda phase: phase.name)
def test_a_cycle_without_a_stage_cannot_enter_it(current, target):
    with pytest.raises(TransitionError) as refused:
        _by_hand(current, target, PLAIN)
    assert refused.value.reason.code == "phase.no_such_stage"


def test_assessment_needs_the_review_finished_and_an_eligible_nomination():
    with pytest.raises(TransitionError) as refused:
        _by_hand(P.NOMINATIONS_CLOSED, P.ASSESSMENT, STAGED, TransitionContext(eligible_nominations=0))
    assert refused.value.reason.code == "phase.no_eligible"
    with pytest.raises(TransitionError) as refused:
        _by_hand(P.NOMINATIONS_CLOSED, P.ASSESSMENT, STAGED,
                 TransitionContext(eligible_nominations=2, submitted_pending_review=1))
    assert refused.value.reason.code == "phase.review_pending"


def test_a_shortlist_that_missed_its_quorum_leads_to_no_capital():
    missed = TransitionContext(shortlist_drawn=False)
    publication = STAGED.shortlist_publication_dt
    assert due_transition(P.SHORTLIST_COUNTED, STAGED, publication, missed) == P.NO_CAPITAL
    with pytest.raises(TransitionError) as refused:
        _by_hand(P.SHORTLIST_COUNTED, P.SHORTLISTED, STAGED, missed)
    assert refused.value.reason.code == "phase.shortlist_missed"
    with pytest.raises(TransitionError) as refused:
        _by_hand(P.SHORTLIST_COUNTED, P.NO_CAPITAL, STAGED)
    assert refused.value.reason.code == "phase.shortlist_drawn"
    with pytest.raises(ValueError):  # the count must exist before the step is decided
        _by_hand(P.SHORTLIST_COUNTED, P.SHORTLISTED, STAGED, TransitionContext())


def test_stage_deadlines_are_checked_in_order_and_for_the_future():
    muddled = replace(STAGED, shortlist_open_dt=STAGED.assessment_close_dt)
    assert codes(validate_timeline(muddled, EARLY, phase=P.DRAFT)) == ["timeline.order.shortlist_open_dt"]
    late_final = replace(STAGED, voting_open_dt=STAGED.finalist_update_close_dt)
    assert codes(validate_timeline(late_final, EARLY, phase=P.DRAFT)) == ["timeline.order.voting_open_dt"]
    during_assessment = STAGED.assessment_open_dt + SECOND
    assert validate_timeline(STAGED, during_assessment, phase=P.ASSESSMENT) == []
    assert codes(validate_timeline(STAGED, during_assessment, phase=P.NOMINATIONS_CLOSED)) == [
        "timeline.past.assessment_open_dt"]
    # The finalists' deadline may pass while the shortlist stays published.
    assert validate_timeline(STAGED, STAGED.finalist_update_close_dt + SECOND, phase=P.SHORTLISTED) == []
    assert deadlines_still_ahead(P.SHORTLIST_COUNTED, STAGED)[:2] == ("shortlist_publication_dt",
                                                                      "finalist_update_close_dt")


def test_the_deadlines_behind_and_their_labels_include_the_stages():
    assert deadlines_behind(P.ASSESSED, STAGED) == ("nominations_open_dt", "nominations_close_dt",
                                                    "assessment_open_dt", "assessment_close_dt")
    labels = [label for label, _ in labelled_deadlines(STAGED)]
    assert labels[2:4] == ["Assessment opens", "Assessment deadline"] and len(labels) == 11
    assert len(labelled_deadlines(PLAIN)) == 5


def test_phases_compare_by_their_place_in_the_course_not_their_number():
    assert P.SHORTLISTED.has_reached(P.NOMINATIONS_CLOSED) and not P.SHORTLISTED.has_reached(P.VOTING_OPEN)
    assert P.VOTING_OPEN.has_reached(P.ASSESSMENT)
    assert not P.ASSESSMENT.has_reached(P.VOTING_OPEN)
