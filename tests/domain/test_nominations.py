"""Who may start, edit, submit, withdraw, endorse and review a nomination, and until when."""

from __future__ import annotations

from datetime import timedelta

import pytest

from capital.domain.membership import CityStatus
from capital.domain.messages import RuleViolation
from capital.domain.nominations import (
    NOMINATION_STATE_TITLES,
    NominationState,
    can_edit,
    can_endorse,
    can_review,
    can_start,
    can_submit,
    can_withdraw,
)
from capital.domain.phase import Phase
from capital.domain.timeline import default_timeline

T = default_timeline(2027)
SECOND = timedelta(seconds=1)
S = NominationState
DURING_NOMINATIONS = T.nominations_open_dt + timedelta(days=10)
DURING_REVIEW = T.nominations_close_dt + timedelta(days=3)


def codes(decision):
    return [reason.code for reason in decision.reasons]


def test_states_and_titles():
    assert [state.value for state in S] == [1, 2, 3, 4, 5]
    assert set(NOMINATION_STATE_TITLES) == set(S) and S.INELIGIBLE.title == "Not eligible"


def test_start_needs_open_nominations_and_a_member_city():
    assert can_start(Phase.NOMINATIONS_OPEN, T, DURING_NOMINATIONS, nominator_status=CityStatus.MEMBER)
    refused = can_start(Phase.DRAFT, T, DURING_NOMINATIONS, nominator_status=CityStatus.APPLICANT)
    assert codes(refused) == ["nomination.not_open", "nomination.nominator_standing"]


def test_a_city_with_a_submitted_nomination_cannot_start_another():
    refused = can_start(Phase.NOMINATIONS_OPEN, T, DURING_NOMINATIONS, nominator_status=CityStatus.MEMBER,
                        has_active_nomination=True)
    assert codes(refused) == ["nomination.already_nominated"]


@pytest.mark.parametrize("check", [can_edit, can_submit], ids=["edit", "submit"])
def test_the_nomination_deadline_is_enforced_by_the_clock(check):
    close = T.nominations_close_dt
    assert check(S.DRAFT, Phase.NOMINATIONS_OPEN, T, close - SECOND)
    for late in (close, close + SECOND):  # even if the worker has not yet closed nominations
        assert codes(check(S.DRAFT, Phase.NOMINATIONS_OPEN, T, late)) == ["nomination.deadline_passed"]
    assert codes(check(S.DRAFT, Phase.NOMINATIONS_CLOSED, T, close - SECOND)) == ["nomination.deadline_passed"]
    assert codes(check(S.DRAFT, Phase.DRAFT, T, DURING_NOMINATIONS)) == ["nomination.not_open"]


def test_nominations_opened_early_by_hand_accept_drafts():
    assert can_edit(S.DRAFT, Phase.NOMINATIONS_OPEN, T, T.nominations_open_dt - timedelta(days=2))


@pytest.mark.parametrize(
    ("state", "editable"),
    [(S.DRAFT, True), (S.SUBMITTED, True), (S.WITHDRAWN, False), (S.ELIGIBLE, False), (S.INELIGIBLE, False)],
)
def test_drafts_and_submitted_nominations_are_editable(state, editable):
    decision = can_edit(state, Phase.NOMINATIONS_OPEN, T, DURING_NOMINATIONS)
    assert decision.ok is editable
    assert editable or codes(decision) == ["nomination.not_editable"]


@pytest.mark.parametrize(
    ("state", "code"),
    [(S.DRAFT, None), (S.SUBMITTED, "nomination.already_submitted"), (S.WITHDRAWN, "nomination.withdrawn"),
     (S.ELIGIBLE, "nomination.already_submitted")],
)
def test_only_drafts_are_submitted(state, code):
    decision = can_submit(state, Phase.NOMINATIONS_OPEN, T, DURING_NOMINATIONS)
    assert codes(decision) == ([code] if code else [])


@pytest.mark.parametrize("state", [S.DRAFT, S.SUBMITTED, S.ELIGIBLE, S.INELIGIBLE])
def test_withdrawal_is_possible_until_voting_opens(state):
    opens = T.voting_open_dt
    assert can_withdraw(state, Phase.NOMINATIONS_OPEN, T, DURING_NOMINATIONS)
    assert can_withdraw(state, Phase.NOMINATIONS_CLOSED, T, opens - SECOND)
    assert codes(can_withdraw(state, Phase.NOMINATIONS_CLOSED, T, opens)) == ["nomination.withdraw_closed"]
    assert codes(can_withdraw(state, Phase.VOTING_OPEN, T, opens - SECOND)) == ["nomination.withdraw_closed"]


def test_a_withdrawn_nomination_stays_withdrawn():
    assert codes(can_withdraw(S.WITHDRAWN, Phase.NOMINATIONS_OPEN, T, DURING_NOMINATIONS)) == ["nomination.withdrawn"]


def endorse(state=S.SUBMITTED, phase=Phase.NOMINATIONS_OPEN, now=DURING_NOMINATIONS, **changes):
    who = {"endorser_status": CityStatus.MEMBER, "is_nominator": False, "is_host": False, "has_endorsed": False}
    return can_endorse(state, phase, T, now, **{**who, **changes})


def test_endorsements():
    assert endorse()
    assert endorse(state=S.ELIGIBLE, phase=Phase.NOMINATIONS_CLOSED, now=T.voting_open_dt - SECOND)
    assert codes(endorse(endorser_status=CityStatus.SUSPENDED)) == ["endorsement.standing"]
    assert codes(endorse(is_nominator=True)) == ["endorsement.own"]
    assert codes(endorse(is_host=True)) == ["endorsement.own"]
    assert codes(endorse(has_endorsed=True)) == ["endorsement.already"]
    for state in (S.DRAFT, S.WITHDRAWN, S.INELIGIBLE):
        assert codes(endorse(state=state)) == ["endorsement.state"]
    assert codes(endorse(phase=Phase.NOMINATIONS_CLOSED, now=T.voting_open_dt)) == ["endorsement.closed"]
    assert codes(endorse(phase=Phase.VOTING_OPEN, now=T.voting_open_dt)) == ["endorsement.closed"]
    everything_wrong = endorse(
        state=S.DRAFT, phase=Phase.TALLIED, endorser_status=CityStatus.LEFT, is_nominator=True, has_endorsed=True
    )
    assert len(everything_wrong.reasons) == 5


@pytest.mark.parametrize("phase", list(Phase), ids=lambda phase: phase.name)
@pytest.mark.parametrize("state", list(S), ids=lambda state: state.name)
def test_review_happens_during_the_review_phase_on_submitted_nominations(phase, state):
    decision = can_review(state, phase)
    expected = []
    if phase != Phase.NOMINATIONS_CLOSED:
        expected.append("review.phase")
    if state in (S.DRAFT, S.WITHDRAWN):
        expected.append("review.state")
    assert codes(decision) == expected


def test_a_refusal_can_be_enforced():
    with pytest.raises(RuleViolation) as error:
        can_submit(S.DRAFT, Phase.NOMINATIONS_CLOSED, T, DURING_REVIEW).enforce()
    assert error.value.reason.code == "nomination.deadline_passed"
    can_submit(S.DRAFT, Phase.NOMINATIONS_OPEN, T, DURING_NOMINATIONS).enforce()
