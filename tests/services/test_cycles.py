"""Cycles: creation, changes to the timeline and rules, and phase changes by hand and by the worker."""

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from capital.domain.dossier import DossierLimits
from capital.domain.eligibility import EligibilityRules
from capital.domain.messages import RuleViolation
from capital.domain.phase import Phase
from capital.domain.phases import TransitionError
from capital.domain.roles import Role
from capital.domain.timeline import carry_over, default_timeline
from capital.models import AuditEntry, Cycle
from capital.services.cycles import (
    NEW_CYCLE_SETTINGS, CycleSettings, advance_due_cycles, change_phase, create_cycle, cycle_timeline, transition_context, update_cycle,
)
from capital.services.ticks import run_tick

YEAR = 2031
NOW = datetime(2030, 6, 1, tzinfo=UTC)  # before the 2031 cycle's nominations open
OPENS = default_timeline(YEAR).nominations_open_dt
SECOND = timedelta(seconds=1)


@pytest.fixture
def secretariat(make_user):
    return make_user(Role.SECRETARIAT)


@pytest.fixture
def draft(db, secretariat):
    # Without the optional stages, as every cycle before them (tests/services/test_cycle_stages.py has them).
    cycle = create_cycle(YEAR, settings=CycleSettings(), actor=secretariat, now=NOW)
    db.session.commit()
    return cycle


def _audit(db, action):
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


def test_a_new_cycle_takes_the_default_timeline_and_rules(db, secretariat):
    cycle = create_cycle(YEAR, actor=secretariat, now=NOW)
    db.session.commit()
    assert cycle.phase == Phase.DRAFT
    # Both optional stages are on for a new cycle, with their default dates.
    assert cycle_timeline(cycle) == default_timeline(YEAR, has_assessment=True, has_shortlist=True)
    assert CycleSettings.of(cycle) == NEW_CYCLE_SETTINGS
    assert cycle.has_assessment and cycle.shortlist_size == 5
    assert cycle.rules == EligibilityRules().to_dict()
    [entry] = _audit(db, "cycle.created")
    assert entry.cycle_id == cycle.id and entry.actor_id == secretariat.id
    assert entry.data["copied_from"] is None


def test_copying_last_years_settings_carries_the_timeline_over_and_keeps_the_rules(db, secretariat):
    settings = CycleSettings(method="borda", quorum_share=Decimal("0.667"), max_rounds=3, is_secret=False,
                             allows_ballot_replacement=True, requires_recusal=False,
                             rules=EligibilityRules(recent_capital_years=5, host_consent_letter=False,
                                                    dossier_limits=DossierLimits(summary=500)))
    timeline = replace(default_timeline(YEAR), nominations_close_dt=datetime(YEAR, 1, 20, 9, 30, tzinfo=UTC))
    previous = create_cycle(YEAR, timeline=timeline, settings=settings, actor=secretariat, now=NOW)
    cycle = create_cycle(YEAR + 1, copy_from=previous, actor=secretariat, now=NOW)
    db.session.commit()
    assert cycle_timeline(cycle) == carry_over(timeline, YEAR + 1)
    assert cycle.nominations_close_dt == datetime(YEAR + 1, 1, 20, 9, 30, tzinfo=UTC)
    assert CycleSettings.of(cycle) == settings
    assert _audit(db, "cycle.created")[-1].data["copied_from"] == YEAR


def test_a_year_has_one_cycle(db, draft, secretariat):
    with pytest.raises(RuleViolation) as refused:
        create_cycle(YEAR, actor=secretariat, now=NOW)
    assert refused.value.reason.code == "cycle.year_taken"


def test_an_edit_with_deadlines_out_of_order_is_refused_and_changes_nothing(db, draft, secretariat):
    before = cycle_timeline(draft)
    bad = replace(before, voting_open_dt=before.nominations_close_dt - timedelta(days=1))
    with pytest.raises(RuleViolation) as refused:
        update_cycle(draft, timeline=bad, settings=CycleSettings(method="irv"), actor=secretariat, now=NOW)
    db.session.rollback()
    assert "timeline.order.voting_open_dt" in [reason.code for reason in refused.value.reasons]
    cycle = db.session.get(Cycle, draft.id)
    assert cycle_timeline(cycle) == before and cycle.method == "schulze"
    assert _audit(db, "cycle.updated") == []


def test_an_edit_is_recorded_with_what_changed(db, draft, secretariat):
    later = replace(cycle_timeline(draft), announcement_dt=datetime(YEAR, 3, 20, 12, tzinfo=UTC))
    update_cycle(draft, timeline=later, settings=CycleSettings(method="irv"), actor=secretariat, now=NOW)
    db.session.commit()
    [entry] = _audit(db, "cycle.updated")
    assert entry.cycle_id == draft.id
    assert set(entry.data["changes"]) == {"announcement_dt", "method"}


def test_voting_rules_are_fixed_once_voting_has_opened(db, draft, secretariat):
    draft.phase = Phase.VOTING_OPEN
    db.session.commit()
    with pytest.raises(RuleViolation) as refused:
        update_cycle(draft, timeline=cycle_timeline(draft), settings=CycleSettings(method="borda"),
                     actor=secretariat, now=NOW)
    assert "cycle.voting_rules_fixed" in [reason.code for reason in refused.value.reasons]


def test_the_secretariat_opens_nominations_early_by_hand_and_it_is_audited(db, draft, secretariat):
    change_phase(draft, Phase.NOMINATIONS_OPEN, actor=secretariat, now=NOW, by_hand=True)
    db.session.commit()
    assert db.session.get(Cycle, draft.id).phase == Phase.NOMINATIONS_OPEN
    [entry] = _audit(db, "cycle.phase_changed")
    assert entry.actor_id == secretariat.id and entry.cycle_id == draft.id
    assert entry.data == {"from": "DRAFT", "to": "NOMINATIONS_OPEN", "by_hand": True}


def test_a_phase_cannot_be_skipped(db, draft, secretariat):
    with pytest.raises(TransitionError) as refused:
        change_phase(draft, Phase.VOTING_OPEN, actor=secretariat, now=NOW, by_hand=True)
    assert refused.value.reason.code == "phase.not_allowed"
    db.session.rollback()
    assert db.session.get(Cycle, draft.id).phase == Phase.DRAFT
    assert _audit(db, "cycle.phase_changed") == []


def test_only_the_secretariat_changes_a_phase_by_hand(db, draft, make_user):
    board = make_user(Role.BOARD)
    with pytest.raises(TransitionError) as refused:
        change_phase(draft, Phase.NOMINATIONS_OPEN, actor=board, now=NOW, by_hand=True)
    assert refused.value.reason.code == "phase.not_secretariat"


def test_the_worker_opens_nominations_at_the_deadline_not_a_second_before(db, draft):
    assert advance_due_cycles(OPENS - SECOND) == []
    assert db.session.get(Cycle, draft.id).phase == Phase.DRAFT
    [change] = advance_due_cycles(OPENS)
    db.session.commit()
    assert (change.year, change.previous, change.phase) == (YEAR, Phase.DRAFT, Phase.NOMINATIONS_OPEN)
    [entry] = _audit(db, "cycle.phase_changed")
    assert entry.actor_label == "worker" and entry.data["by_hand"] is False and entry.dt == OPENS


def test_running_the_worker_twice_takes_one_step(db, draft):
    assert len(advance_due_cycles(OPENS + SECOND)) == 1
    assert advance_due_cycles(OPENS + SECOND) == []
    db.session.commit()
    assert db.session.get(Cycle, draft.id).phase == Phase.NOMINATIONS_OPEN
    assert len(_audit(db, "cycle.phase_changed")) == 1


def test_a_late_worker_takes_one_step_per_call(db, draft):
    long_after = default_timeline(YEAR).nominations_close_dt + timedelta(days=1)
    assert advance_due_cycles(long_after) == []  # the timeline can no longer open nominations
    in_time = OPENS + timedelta(days=1)
    assert [c.phase for c in advance_due_cycles(in_time)] == [Phase.NOMINATIONS_OPEN]
    assert [c.phase for c in advance_due_cycles(long_after)] == [Phase.NOMINATIONS_CLOSED]
    assert advance_due_cycles(long_after) == []  # voting waits for its own deadline


def test_no_eligible_nomination_ends_the_cycle_without_a_capital(db, draft):
    draft.phase = Phase.NOMINATIONS_CLOSED
    db.session.commit()
    assert transition_context(draft).eligible_nominations == 0
    voting_opens = default_timeline(YEAR).voting_open_dt
    assert advance_due_cycles(voting_opens - SECOND) == []
    assert [c.phase for c in advance_due_cycles(voting_opens)] == [Phase.NO_CAPITAL]
    assert advance_due_cycles(voting_opens + timedelta(days=400)) == []  # a final phase stays


def test_the_tick_reports_the_phase_changes(db, draft):
    assert run_tick(OPENS - SECOND)["phases"] == 0
    summary = run_tick(OPENS)
    assert summary["phases"] == 1 and "mail_due" in summary


def test_two_workers_at_once_make_exactly_one_transition(app, db, draft):
    first_moved, second_done = threading.Event(), threading.Event()
    results, errors = {}, []

    def worker(name, before=None, after=None):
        try:
            with app.app_context():
                if before is not None:
                    assert before.wait(10)
                results[name] = advance_due_cycles(OPENS)
                if after is not None:
                    after.set()
                if name == "first":  # hold the row lock until the second worker has tried
                    assert second_done.wait(10)
                db.session.commit()
                db.session.remove()
        except Exception as error:  # reported below: exceptions in threads would only warn
            errors.append(error)
            first_moved.set()
            second_done.set()

    threads = [threading.Thread(target=worker, args=("first", None, first_moved)),
               threading.Thread(target=worker, args=("second", first_moved, second_done))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == []
    assert len(results["first"]) == 1 and results["second"] == []
    db.session.expire_all()
    assert db.session.get(Cycle, draft.id).phase == Phase.NOMINATIONS_OPEN
    assert len(_audit(db, "cycle.phase_changed")) == 1


def test_workers_racing_freely_still_make_one_transition(app, db, draft):
    start = threading.Barrier(4)
    counts, errors = [], []

    def worker():
        try:
            with app.app_context():
                start.wait(10)
                counts.append(len(advance_due_cycles(OPENS)))
                db.session.commit()
                db.session.remove()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == [] and sum(counts) == 1
    assert len(_audit(db, "cycle.phase_changed")) == 1
