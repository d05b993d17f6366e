"""Cycles with the optional stages: their settings, their dates, and the tick that takes them through."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from capital.domain.messages import RuleViolation
from capital.domain.nominations import NominationState
from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.domain.timeline import default_timeline
from capital.models import AuditEntry, Cycle, Nomination
from capital.services.cycles import (
    NEW_CYCLE_SETTINGS, CycleSettings, advance_due_cycles, create_cycle, cycle_timeline, proposal, update_cycle,
)
from capital.services.ticks import run_tick

YEAR = 2031
NOW = datetime(2030, 1, 10, 9, tzinfo=UTC)
SECOND = timedelta(seconds=1)
STAGED = default_timeline(YEAR, has_assessment=True, has_shortlist=True)


@pytest.fixture
def secretariat(make_user):
    return make_user(Role.SECRETARIAT)


@pytest.fixture
def staged(db, secretariat):
    cycle = create_cycle(YEAR, actor=secretariat, now=NOW)
    db.session.commit()
    return cycle


def _reasons(refused) -> list[str]:
    return [reason.code for reason in refused.value.reasons]


def test_a_new_cycle_holds_both_stages_with_their_dates(staged):
    assert (staged.has_assessment, staged.shortlist_size) == (True, 5)
    assert cycle_timeline(staged) == STAGED
    assert staged.shortlist_publication_dt == datetime(YEAR, 1, 16, 12, tzinfo=UTC)


def test_copying_a_cycle_copies_its_stages(db, staged, secretariat):
    settings = replace(NEW_CYCLE_SETTINGS, shortlist_size=3)
    update_cycle(staged, timeline=STAGED, settings=settings, actor=secretariat, now=NOW)
    timeline, copied = proposal(YEAR + 1, staged)
    assert copied.shortlist_size == 3 and copied.has_assessment
    assert timeline == default_timeline(YEAR + 1, has_assessment=True, has_shortlist=True)


def test_stages_need_their_dates_and_only_then(db, staged, secretariat):
    with pytest.raises(RuleViolation) as refused:
        update_cycle(staged, timeline=STAGED.without_stages(), settings=NEW_CYCLE_SETTINGS, actor=secretariat, now=NOW)
    assert {"cycle.assessment_dates", "cycle.shortlist_dates"} <= set(_reasons(refused))
    with pytest.raises(RuleViolation) as refused:
        update_cycle(staged, timeline=STAGED, settings=CycleSettings(), actor=secretariat, now=NOW)
    assert {"cycle.assessment_dates", "cycle.shortlist_dates"} <= set(_reasons(refused))
    with pytest.raises(RuleViolation) as refused:
        update_cycle(staged, timeline=STAGED, settings=replace(NEW_CYCLE_SETTINGS, shortlist_size=1),
                     actor=secretariat, now=NOW)
    assert _reasons(refused) == ["cycle.shortlist_size"]


def test_turning_the_stages_off_clears_their_dates_and_is_audited(db, staged, secretariat):
    plain = replace(STAGED.without_stages(), nominations_close_dt=datetime(YEAR, 1, 16, 12, tzinfo=UTC))
    update_cycle(staged, timeline=plain, settings=CycleSettings(), actor=secretariat, now=NOW)
    db.session.commit()
    cycle = db.session.get(Cycle, staged.id)
    assert cycle.assessment_open_dt is None and cycle.finalist_update_close_dt is None
    assert cycle_timeline(cycle) == plain
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "cycle.updated")).one()
    assert entry.data["changes"]["has_assessment"] == [True, False]
    assert entry.data["changes"]["shortlist_size"] == [5, 0]
    assert entry.data["changes"]["assessment_open_dt"][1] is None


def test_assessment_is_fixed_once_it_opens_and_the_shortlist_once_its_vote_opens(db, staged, secretariat):
    staged.phase = Phase.ASSESSMENT
    db.session.commit()
    during = STAGED.assessment_open_dt + SECOND
    with pytest.raises(RuleViolation) as refused:
        update_cycle(staged, timeline=replace(STAGED.without_stages(), **_shortlist_dates()),
                     settings=replace(NEW_CYCLE_SETTINGS, has_assessment=False), actor=secretariat, now=during)
    assert "cycle.assessment_fixed" in _reasons(refused)
    update_cycle(staged, timeline=STAGED, settings=replace(NEW_CYCLE_SETTINGS, shortlist_size=4),
                 actor=secretariat, now=during)
    staged.phase = Phase.SHORTLIST_VOTING
    db.session.commit()
    with pytest.raises(RuleViolation) as refused:
        update_cycle(staged, timeline=STAGED, settings=replace(NEW_CYCLE_SETTINGS, shortlist_size=3),
                     actor=secretariat, now=STAGED.shortlist_open_dt + SECOND)
    assert "cycle.shortlist_fixed" in _reasons(refused)


def _shortlist_dates() -> dict:
    return {name: getattr(STAGED, name) for name in
            ("shortlist_open_dt", "shortlist_close_dt", "shortlist_publication_dt", "finalist_update_close_dt")}


def test_the_tick_takes_a_reviewed_cycle_through_assessment_to_the_shortlist_vote(db, staged, make_city):
    host, nominator = make_city(), make_city()
    db.session.add(Nomination(cycle=staged, nominating_city_id=nominator.id, host_city_id=host.id,
                              title="Together", state=NominationState.ELIGIBLE))
    staged.phase = Phase.NOMINATIONS_CLOSED
    db.session.commit()
    steps = [("assessment_open_dt", Phase.ASSESSMENT), ("assessment_close_dt", Phase.ASSESSED),
             ("shortlist_open_dt", Phase.SHORTLIST_VOTING)]
    for field, phase in steps:
        deadline = getattr(STAGED, field)
        assert run_tick(deadline - SECOND)["phases"] == 0
        assert [change.phase for change in advance_due_cycles(deadline)] == [phase]
        assert advance_due_cycles(deadline) == []  # twice: one step
        db.session.commit()
    assert db.session.get(Cycle, staged.id).phase == Phase.SHORTLIST_VOTING
    moves = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "cycle.phase_changed")
                               .order_by(AuditEntry.id)).all()
    assert [(entry.data["to"], entry.dt) for entry in moves] == [
        ("ASSESSMENT", STAGED.assessment_open_dt), ("ASSESSED", STAGED.assessment_close_dt),
        ("SHORTLIST_VOTING", STAGED.shortlist_open_dt)]


def test_a_cycle_without_stages_goes_from_the_review_to_the_vote_as_before(db, secretariat, make_vote):
    vote = make_vote()
    assert not vote.cycle.has_assessment and vote.cycle.shortlist_size == 0
    [change] = advance_due_cycles(vote.OPENS)
    assert (change.previous, change.phase) == (Phase.NOMINATIONS_CLOSED, Phase.VOTING_OPEN)
