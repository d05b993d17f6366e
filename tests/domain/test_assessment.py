"""The assessment's rules: who writes, who sees what and when, what is typed, and the aggregates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from capital.domain.assessment import (
    Entry, PanelFacts, Scale, assessment_is_over, entry_problems, may_assess, may_see_assessments, read_score,
    summarise, weighted_total,
)
from capital.domain.phase import Phase

CLOSES = datetime(2031, 2, 1, 12, tzinfo=UTC)
BEFORE, AT = CLOSES - timedelta(seconds=1), CLOSES
BOARD = PanelFacts(is_serving_board_member=True)
EXPERT = PanelFacts(is_assessor=True)
SECRETARIAT = PanelFacts(is_secretariat=True)
SCALES = {1: Scale(1, 0, 5, Decimal(1)), 2: Scale(2, 0, 10, Decimal(3))}


def submitted(facts: PanelFacts) -> PanelFacts:
    return PanelFacts(**{**facts.__dict__, "has_submitted": True})


def recused(facts: PanelFacts) -> PanelFacts:
    return PanelFacts(**{**facts.__dict__, "is_recused": True})


def codes(decision) -> list[str]:
    return [reason.code for reason in decision.reasons]


def test_board_members_and_experts_assess_in_the_phase_until_the_second_of_the_deadline():
    for facts in (BOARD, EXPERT):
        assert may_assess(facts, is_assessment_phase=True, now=BEFORE, closes=CLOSES)
        assert codes(may_assess(facts, is_assessment_phase=True, now=AT, closes=CLOSES)) == ["assessment.closed"]
        assert codes(may_assess(facts, is_assessment_phase=False, now=BEFORE, closes=CLOSES)) == [
            "assessment.not_open"]


def test_nobody_else_assesses_and_the_recused_never_do():
    assert codes(may_assess(SECRETARIAT, is_assessment_phase=True, now=BEFORE, closes=CLOSES)) == [
        "assessment.not_on_panel"]
    assert codes(may_assess(PanelFacts(), is_assessment_phase=True, now=BEFORE, closes=CLOSES)) == [
        "assessment.not_on_panel"]
    for facts in (BOARD, EXPERT):
        assert codes(may_assess(recused(facts), is_assessment_phase=True, now=BEFORE, closes=CLOSES)) == [
            "assessment.recused"]


def test_a_submitted_assessment_is_read_only():
    assert codes(may_assess(submitted(EXPERT), is_assessment_phase=True, now=BEFORE, closes=CLOSES)) == [
        "assessment.submitted"]


def over(now, phase=Phase.ASSESSMENT, closes=CLOSES) -> bool:
    return assessment_is_over(phase, now=now, closes=closes)


def test_the_assessment_is_over_at_the_second_of_its_deadline_or_once_closed_by_hand():
    assert not over(BEFORE) and over(AT)
    assert over(BEFORE, Phase.ASSESSED) and over(BEFORE, Phase.VOTING_OPEN)
    assert not over(BEFORE, Phase.NOMINATIONS_CLOSED) and not over(BEFORE, Phase.CANCELLED)
    assert over(AT, Phase.CANCELLED)


def test_nobody_sees_the_assessments_before_the_deadline_not_even_having_submitted():
    for facts in (submitted(BOARD), submitted(EXPERT), SECRETARIAT):
        assert not may_see_assessments(facts, is_over=over(BEFORE))
        assert may_see_assessments(facts, is_over=over(AT))


def test_after_the_deadline_a_panel_member_who_did_not_submit_still_sees_nothing():
    for facts in (BOARD, EXPERT):
        assert not may_see_assessments(facts, is_over=over(AT + timedelta(days=30)))


def test_the_recused_and_the_public_never_see_the_assessments():
    for facts in (recused(submitted(BOARD)), recused(SECRETARIAT), PanelFacts(), PanelFacts(is_assessor=False)):
        assert not may_see_assessments(facts, is_over=over(AT + timedelta(days=365)))
    assert not may_see_assessments(SECRETARIAT, is_over=over(AT, Phase.NOMINATIONS_CLOSED, closes=None))


def test_a_score_is_a_whole_number_on_its_scale_or_nothing():
    scale = SCALES[1]
    assert read_score(" 4 ", scale) == 4 and read_score("", scale) is None and read_score("0", scale) == 0
    for text in ("6", "-1", "2.5", "four", "٣"):
        with pytest.raises(ValueError):
            read_score(text, scale)


def test_a_draft_may_be_partial_but_a_submission_needs_every_score_and_every_note():
    entries = [Entry(10, 1, "4", "Strong programme."), Entry(10, 2, "", "")]
    assert entry_problems(entries, SCALES, [10, 11], complete=False) == []
    found = {(p.nomination_id, p.criterion_id, p.message.code)
             for p in entry_problems(entries, SCALES, [10, 11], complete=True)}
    assert found == {(10, 2, "assessment.score_missing"), (11, 1, "assessment.score_missing"),
                     (11, 2, "assessment.score_missing")}
    no_note = [Entry(10, 1, "4", " "), Entry(10, 2, "7", "Fine.")]
    assert [p.message.code for p in entry_problems(no_note, SCALES, [10], complete=True)] == [
        "assessment.note_missing"]


def test_a_score_off_the_scale_is_refused_even_in_a_draft():
    problems = entry_problems([Entry(10, 1, "9", "")], SCALES, [10], complete=False)
    assert [(p.criterion_id, p.message.code, p.message.params) for p in problems] == [
        (1, "assessment.score_range", {"low": 0, "high": 5})]


def test_summary_gives_mean_median_and_spread():
    summary = summarise([5, 1, 3, 3])
    assert (summary.count, summary.mean, summary.median, summary.low, summary.high, summary.spread) == (
        4, Decimal(3), Decimal(3), 1, 5, 4)
    assert summarise([2, 3]).median == Decimal("2.5")
    assert summarise([]).mean is None and summarise([]).spread is None


def test_the_weighted_total_places_each_mean_on_its_scale_and_weighs_it():
    # criterion 1: 4 of 5 = 0.8, weight 1; criterion 2: 5 of 10 = 0.5, weight 3 → (0.8 + 1.5) / 4 = 57.5
    assert weighted_total({1: Decimal(4), 2: Decimal(5)}, SCALES.values()) == Decimal("57.5")
    assert weighted_total({1: Decimal(5)}, SCALES.values()) == Decimal(100)  # only what has a mean
    assert weighted_total({}, SCALES.values()) is None
    shifted = Scale(3, 1, 4, Decimal(1))
    assert weighted_total({3: Decimal(1)}, [shifted]) == 0 and weighted_total({3: Decimal(4)}, [shifted]) == 100
