"""The cycle's state machine: every pair of phases, by hand and automatic, at the deadline edges."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from itertools import product

import pytest

from capital.domain.phase import FINAL_PHASES, PHASE_TITLES, STAGE_PHASES, Phase

from capital.domain.phases import (

    ALLOWED_TRANSITIONS,

    TransitionContext,

    TransitionError,

    check_transition,

    due_transition,

    phase_at,

    transition_deadline,

)
from capital.domain.timeline import default_timeline

TIMELINE = default_timeline(2027)
# The timelines of a cycle with both stages, with assessment only and with a shortlist only.
STAGED = default_timeline(2027, has_assessment=True, has_shortlist=True)
ASSESSED_ONLY = default_timeline(2027, has_assessment=True)
SHORTLIST_ONLY = default_timeline(2027, has_shortlist=True)
SECOND = timedelta(seconds=1)
EARLY = TIMELINE.nominations_open_dt - timedelta(days=1)  # every deadline still ahead

P = Phase
EXPECTED_EDGES = {
    (P.DRAFT, P.NOMINATIONS_OPEN),
    (P.NOMINATIONS_OPEN, P.NOMINATIONS_CLOSED),
    (P.NOMINATIONS_CLOSED, P.VOTING_OPEN),
    (P.NOMINATIONS_CLOSED, P.NO_CAPITAL),
    (P.VOTING_OPEN, P.VOTING_CLOSED),
    (P.VOTING_CLOSED, P.TALLIED),
    (P.VOTING_CLOSED, P.VOTING_OPEN),
    (P.VOTING_CLOSED, P.NO_CAPITAL),
    (P.TALLIED, P.ANNOUNCED),
    (P.TALLIED, P.NO_CAPITAL),
}
# The steps of the optional stages, each with a timeline whose course has it.
STAGE_EDGES = {
    (P.NOMINATIONS_CLOSED, P.ASSESSMENT): STAGED,
    (P.NOMINATIONS_CLOSED, P.SHORTLIST_VOTING): SHORTLIST_ONLY,
    (P.ASSESSMENT, P.ASSESSED): STAGED,
    (P.ASSESSED, P.SHORTLIST_VOTING): STAGED,
    (P.ASSESSED, P.VOTING_OPEN): ASSESSED_ONLY,
    (P.SHORTLIST_VOTING, P.SHORTLIST_COUNTED): STAGED,
    (P.SHORTLIST_COUNTED, P.SHORTLISTED): STAGED,
    (P.SHORTLIST_COUNTED, P.NO_CAPITAL): STAGED,
    (P.SHORTLISTED, P.VOTING_OPEN): STAGED,
}
EXPECTED_EDGES |= set(STAGE_EDGES) | {(phase, P.CANCELLED) for phase in Phase if phase not in FINAL_PHASES}

# For each allowed step, facts under which it may happen.
FACTS = {
    (P.NOMINATIONS_CLOSED, P.VOTING_OPEN): TransitionContext(eligible_nominations=3),
    (P.NOMINATIONS_CLOSED, P.NO_CAPITAL): TransitionContext(eligible_nominations=0),
    (P.VOTING_CLOSED, P.TALLIED): TransitionContext(quorum_met=True, rounds_used=1),
    (P.VOTING_CLOSED, P.VOTING_OPEN): TransitionContext(quorum_met=False, rounds_used=1, max_rounds=2),
    (P.VOTING_CLOSED, P.NO_CAPITAL): TransitionContext(quorum_met=False, rounds_used=2, max_rounds=2),
    (P.TALLIED, P.ANNOUNCED): TransitionContext(quorum_met=True, rounds_used=1),
    (P.TALLIED, P.NO_CAPITAL): TransitionContext(quorum_met=False, rounds_used=2, max_rounds=2),
    (P.SHORTLIST_COUNTED, P.NO_CAPITAL): TransitionContext(shortlist_drawn=False),
}
ANY_FACTS = TransitionContext(eligible_nominations=1, quorum_met=True, rounds_used=1, shortlist_drawn=True)

ALL_PAIRS = list(product(Phase, Phase))


def code_of(error: pytest.ExceptionInfo[TransitionError]) -> str:
    return error.value.reason.code


def by_hand(current, target, *, now=EARLY, context=None, is_secretariat=True, timeline=None):
    check_transition(
        current,
        target,
        timeline=timeline or STAGE_EDGES.get((current, target), TIMELINE),
        now=now,
        by_hand=True,
        is_secretariat=is_secretariat,
        context=context or FACTS.get((current, target), ANY_FACTS),
    )


def automatic(current, target, *, now, context=None, timeline=TIMELINE):
    check_transition(
        current,
        target,
        timeline=timeline,
        now=now,
        by_hand=False,
        is_secretariat=False,
        context=context or FACTS.get((current, target), ANY_FACTS),
    )


def test_the_table_has_exactly_the_expected_edges():
    edges = {(current, target) for current, targets in ALLOWED_TRANSITIONS.items() for target in targets}
    assert edges == EXPECTED_EDGES
    assert set(ALLOWED_TRANSITIONS) == set(Phase)
    assert FINAL_PHASES == {P.ANNOUNCED, P.CANCELLED, P.NO_CAPITAL}
    assert all(not ALLOWED_TRANSITIONS[phase] for phase in FINAL_PHASES)


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=lambda phase: phase.name)
def test_every_pair_by_the_secretariat(current, target):
    if (current, target) in EXPECTED_EDGES:
        by_hand(current, target)  # the secretariat may force any allowed step before its deadline
        return
    with pytest.raises(TransitionError) as error:
        by_hand(current, target)
    if current in FINAL_PHASES:
        assert code_of(error) == "phase.final"
    elif current == target:
        assert code_of(error) == "phase.same"
    else:
        assert code_of(error) == "phase.not_allowed"


@pytest.mark.parametrize(("current", "target"), sorted(EXPECTED_EDGES), ids=lambda phase: phase.name)
def test_only_the_secretariat_changes_phases_by_hand(current, target):
    with pytest.raises(TransitionError) as error:
        by_hand(current, target, is_secretariat=False)
    assert code_of(error) == "phase.not_secretariat"


@pytest.mark.parametrize("current", sorted(set(Phase) - FINAL_PHASES), ids=lambda phase: phase.name)
def test_cancelling_is_never_automatic(current):
    with pytest.raises(TransitionError) as error:
        automatic(current, P.CANCELLED, now=TIMELINE.announcement_dt + timedelta(days=30))
    assert code_of(error) == "phase.cancel_by_hand"


DEADLINE_STEPS = [
    (P.DRAFT, P.NOMINATIONS_OPEN, "nominations_open_dt"),
    (P.NOMINATIONS_OPEN, P.NOMINATIONS_CLOSED, "nominations_close_dt"),
    (P.NOMINATIONS_CLOSED, P.VOTING_OPEN, "voting_open_dt"),
    (P.NOMINATIONS_CLOSED, P.NO_CAPITAL, "voting_open_dt"),
    (P.VOTING_OPEN, P.VOTING_CLOSED, "voting_close_dt"),
    (P.TALLIED, P.ANNOUNCED, "announcement_dt"),
]


@pytest.mark.parametrize(("current", "target", "field"), DEADLINE_STEPS, ids=lambda value: str(value))
def test_automatic_steps_wait_for_their_deadline(current, target, field):
    deadline = getattr(TIMELINE, field)
    assert transition_deadline(current, target, TIMELINE) == deadline
    with pytest.raises(TransitionError) as error:
        automatic(current, target, now=deadline - SECOND)
    assert code_of(error) == "phase.too_early"
    automatic(current, target, now=deadline)
    automatic(current, target, now=deadline + SECOND)


@pytest.mark.parametrize(("current", "target", "field"), DEADLINE_STEPS, ids=lambda value: str(value))
def test_the_secretariat_may_act_before_the_deadline(current, target, field):
    by_hand(current, target, now=getattr(TIMELINE, field) - SECOND)


@pytest.mark.parametrize(
    ("current", "target"),
    [(P.VOTING_CLOSED, P.TALLIED), (P.VOTING_CLOSED, P.VOTING_OPEN), (P.VOTING_CLOSED, P.NO_CAPITAL),
     (P.TALLIED, P.NO_CAPITAL)],
    ids=lambda phase: phase.name,
)
def test_steps_that_follow_facts_have_no_deadline(current, target):
    assert transition_deadline(current, target, TIMELINE) is None
    automatic(current, target, now=TIMELINE.voting_close_dt)


def test_opening_nominations_needs_a_valid_timeline():
    late = TIMELINE.nominations_close_dt  # the worker was down for the whole nomination period
    with pytest.raises(TransitionError) as error:
        automatic(P.DRAFT, P.NOMINATIONS_OPEN, now=late)
    assert code_of(error) == "phase.invalid_timeline"
    assert [reason.code for reason in error.value.reasons[1:]] == ["timeline.past.nominations_close_dt"]

    muddled = TIMELINE.__class__(**{**TIMELINE.__dict__, "voting_open_dt": TIMELINE.nominations_close_dt})
    with pytest.raises(TransitionError) as error:
        by_hand(P.DRAFT, P.NOMINATIONS_OPEN, timeline=muddled)
    assert "timeline.order.voting_open_dt" in [reason.code for reason in error.value.reasons]


def test_a_shortlist_closed_and_published_early_by_hand_lets_the_final_vote_open():
    """Published by hand a day into its vote, the shortlist's publication lies before the planned close
    of that vote: history, which leaves opening the final vote (by hand, or at its date) alone."""
    published = STAGED.shortlist_open_dt + timedelta(days=1)
    early = replace(STAGED, shortlist_publication_dt=published)
    by_hand(P.SHORTLISTED, P.VOTING_OPEN, now=published + SECOND, timeline=early)
    automatic(P.SHORTLISTED, P.VOTING_OPEN, now=early.voting_open_dt, timeline=early)
    # A deadline still ahead out of order is refused as before.
    muddled = replace(early, voting_close_dt=early.voting_open_dt - SECOND)
    with pytest.raises(TransitionError) as error:
        by_hand(P.SHORTLISTED, P.VOTING_OPEN, now=published + SECOND, timeline=muddled)
    assert "timeline.order.voting_close_dt" in [reason.code for reason in error.value.reasons]


def test_opening_voting_needs_the_voting_deadline_ahead():
    with pytest.raises(TransitionError) as error:
        automatic(P.NOMINATIONS_CLOSED, P.VOTING_OPEN, now=TIMELINE.voting_close_dt)
    assert code_of(error) == "phase.invalid_timeline"


@pytest.mark.parametrize("target", [P.VOTING_OPEN, P.NO_CAPITAL], ids=lambda phase: phase.name)
def test_the_review_must_be_finished_before_the_vote_or_no_capital(target):
    pending = TransitionContext(eligible_nominations=2, submitted_pending_review=1)
    with pytest.raises(TransitionError) as error:
        by_hand(P.NOMINATIONS_CLOSED, target, context=pending)
    assert code_of(error) == "phase.review_pending"


def test_no_vote_without_an_eligible_nomination():
    with pytest.raises(TransitionError) as error:
        by_hand(P.NOMINATIONS_CLOSED, P.VOTING_OPEN, context=TransitionContext(eligible_nominations=0))
    assert code_of(error) == "phase.no_eligible"


def test_no_capital_refused_while_there_is_an_eligible_nomination():
    with pytest.raises(TransitionError) as error:
        by_hand(P.NOMINATIONS_CLOSED, P.NO_CAPITAL, context=TransitionContext(eligible_nominations=1))
    assert code_of(error) == "phase.has_eligible"


@pytest.mark.parametrize(
    ("current", "target", "facts", "code"),
    [
        (P.VOTING_CLOSED, P.VOTING_OPEN, TransitionContext(quorum_met=True, rounds_used=1), "phase.quorum_met"),
        (P.VOTING_CLOSED, P.VOTING_OPEN, TransitionContext(quorum_met=False, rounds_used=2), "phase.no_rounds_left"),
        (P.VOTING_CLOSED, P.TALLIED, TransitionContext(quorum_met=False, rounds_used=1), "phase.round_available"),
        (P.VOTING_CLOSED, P.NO_CAPITAL, TransitionContext(quorum_met=False, rounds_used=1), "phase.round_available"),
        (P.VOTING_CLOSED, P.NO_CAPITAL, TransitionContext(quorum_met=True, rounds_used=2), "phase.quorum_met"),
        (P.TALLIED, P.ANNOUNCED, TransitionContext(quorum_met=False, rounds_used=2), "phase.quorum_missed"),
        (P.TALLIED, P.NO_CAPITAL, TransitionContext(quorum_met=True, rounds_used=1), "phase.quorum_met"),
    ],
)
def test_the_steps_after_the_vote_follow_quorum_and_rounds(current, target, facts, code):
    with pytest.raises(TransitionError) as error:
        by_hand(current, target, now=TIMELINE.voting_close_dt, context=facts)
    assert code_of(error) == code


def test_a_single_round_cycle_tallies_even_without_quorum():
    by_hand(P.VOTING_CLOSED, P.TALLIED, context=TransitionContext(quorum_met=False, rounds_used=1, max_rounds=1))


@pytest.mark.parametrize(
    ("current", "target"),
    [(P.NOMINATIONS_CLOSED, P.VOTING_OPEN), (P.VOTING_CLOSED, P.TALLIED), (P.TALLIED, P.ANNOUNCED)],
    ids=lambda phase: phase.name,
)
def test_steps_that_depend_on_facts_need_them(current, target):
    with pytest.raises(ValueError):
        check_transition(current, target, timeline=TIMELINE, now=EARLY, by_hand=True, is_secretariat=True)
    if current != P.NOMINATIONS_CLOSED:
        with pytest.raises(ValueError):
            by_hand(current, target, context=TransitionContext(quorum_met=None))


def test_transition_error_carries_a_translatable_message():
    with pytest.raises(TransitionError) as error:
        by_hand(P.DRAFT, P.VOTING_OPEN)
    assert error.value.reason.message == "The cycle can't move directly from its current phase to that one."
    assert error.value.reasons == (error.value.reason,)


def run_worker(times, context_for):
    """Tick like the periodic worker, applying each due step; returns the phases visited."""
    phase, timeline, visited = P.DRAFT, TIMELINE, [P.DRAFT]
    for now in times:
        while (step := due_transition(phase, timeline, now, context_for(phase, visited))) is not None:
            if phase == P.VOTING_CLOSED and step == P.VOTING_OPEN:
                timeline = timeline.second_round(now)
            phase = step
            visited.append(phase)
    return visited


def worker_times(timeline=TIMELINE):
    """Hourly ticks from a month before nominations open to a month after the announcement."""
    now, end = timeline.nominations_open_dt - timedelta(days=30), timeline.announcement_dt + timedelta(days=30)
    while now < end:
        yield now
        now += timedelta(hours=1)


def test_the_worker_runs_a_cycle_to_its_announcement():
    visited = run_worker(worker_times(), lambda phase, visited: TransitionContext(eligible_nominations=4,
                                                                                  quorum_met=True, rounds_used=1))
    assert visited == [P.DRAFT, P.NOMINATIONS_OPEN, P.NOMINATIONS_CLOSED, P.VOTING_OPEN, P.VOTING_CLOSED,
                       P.TALLIED, P.ANNOUNCED]


def test_the_worker_holds_a_second_round_then_gives_up():
    def facts(phase, visited):
        rounds = visited.count(P.VOTING_OPEN)
        return TransitionContext(eligible_nominations=4, quorum_met=False, rounds_used=rounds, max_rounds=2)

    visited = run_worker(worker_times(), facts)
    assert visited == [P.DRAFT, P.NOMINATIONS_OPEN, P.NOMINATIONS_CLOSED, P.VOTING_OPEN, P.VOTING_CLOSED,
                       P.VOTING_OPEN, P.VOTING_CLOSED, P.TALLIED, P.NO_CAPITAL]


def test_the_worker_designates_no_capital_without_eligible_nominations():
    visited = run_worker(worker_times(), lambda phase, visited: TransitionContext(eligible_nominations=0))
    assert visited == [P.DRAFT, P.NOMINATIONS_OPEN, P.NOMINATIONS_CLOSED, P.NO_CAPITAL]


def test_the_worker_waits_for_the_review():
    stuck = TransitionContext(eligible_nominations=2, submitted_pending_review=1)
    assert due_transition(P.NOMINATIONS_CLOSED, TIMELINE, TIMELINE.voting_open_dt + timedelta(days=3), stuck) is None


@pytest.mark.parametrize("phase", list(Phase), ids=lambda phase: phase.name)
def test_due_transition_takes_one_allowed_step_and_is_repeatable(phase):
    timeline = STAGED if phase in STAGE_PHASES["assessment_open_dt"] | STAGE_PHASES["shortlist_open_dt"] else TIMELINE
    later = timeline.announcement_dt + timedelta(days=1)
    facts = TransitionContext(eligible_nominations=1, quorum_met=True, rounds_used=1, shortlist_drawn=True)
    first = due_transition(phase, timeline, later, facts)
    assert first == due_transition(phase, timeline, later, facts)
    if phase in FINAL_PHASES:
        assert first is None
    elif phase in (P.DRAFT, P.NOMINATIONS_CLOSED, P.ASSESSED, P.SHORTLISTED):
        assert first is None  # far too late to open a window: the timeline must be corrected first
    else:
        assert first in ALLOWED_TRANSITIONS[phase] and first != P.CANCELLED


@pytest.mark.parametrize(("current", "target", "field"), DEADLINE_STEPS, ids=lambda value: str(value))
def test_due_transition_at_the_deadline_edges(current, target, field):
    deadline, facts = getattr(TIMELINE, field), FACTS.get((current, target), ANY_FACTS)
    assert due_transition(current, TIMELINE, deadline - SECOND, facts) is None
    assert due_transition(current, TIMELINE, deadline, facts) == target
    assert due_transition(current, TIMELINE, deadline + SECOND, facts) == target


def test_phase_at_follows_the_timeline():
    t = TIMELINE
    assert phase_at(t.nominations_open_dt - SECOND, t) == P.DRAFT
    assert phase_at(t.nominations_open_dt, t) == P.NOMINATIONS_OPEN
    assert phase_at(t.nominations_close_dt - SECOND, t) == P.NOMINATIONS_OPEN
    assert phase_at(t.nominations_close_dt, t) == P.NOMINATIONS_CLOSED
    assert phase_at(t.voting_open_dt, t) == P.VOTING_OPEN
    assert phase_at(t.voting_close_dt, t) == P.TALLIED
    assert phase_at(t.announcement_dt - SECOND, t) == P.TALLIED
    assert phase_at(t.announcement_dt, t) == P.ANNOUNCED


def test_every_phase_has_a_title_and_keeps_its_value():
    assert set(PHASE_TITLES) == set(Phase)
    assert [phase.value for phase in Phase] == list(range(1, 15))
    assert P.NO_CAPITAL.title == "No capital designated"
    assert P.ANNOUNCED.is_final and not P.TALLIED.is_final


def test_a_board_vote_is_open_in_its_own_phase_and_in_no_other():
    from capital.domain.phase import vote_phase

    assert vote_phase(shortlist=True) == Phase.SHORTLIST_VOTING and vote_phase(shortlist=False) == Phase.VOTING_OPEN
    assert {phase for phase in Phase if phase.is_any_vote_open} == {Phase.SHORTLIST_VOTING, Phase.VOTING_OPEN}
    assert [phase for phase in Phase if phase.is_shortlist_voting_open] == [Phase.SHORTLIST_VOTING]
    assert [phase for phase in Phase if phase.is_voting_open] == [Phase.VOTING_OPEN]
