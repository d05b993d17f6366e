"""Nomination services at the edges: the deadline to the second, and two requests at once."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from capital.domain.dossier import BudgetRange, Theme
from capital.domain.messages import RuleViolation
from capital.domain.nominations import NominationState
from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.models import AuditEntry, Cycle, Nomination
from capital.services import cycles, nominations
from tests.conftest import pdf_bytes


@pytest.fixture
def filed(db, make_city, make_user, make_cycle):
    """A complete draft of Palermo's, in a cycle whose nominations are open."""
    cycle = make_cycle()
    city = make_city("Palermo", country="IT", timezone="Europe/Rome")
    rep = make_user(Role.REPRESENTATIVE, city=city)

    def draft(now):
        nomination = nominations.start_nomination(cycle, city, city, actor=rep, now=now)
        nominations.save_dossier(nomination, nominations.DossierInput(
            title="Palermo, crossroads of the Mediterranean",
            texts={"en": ("A summary.", "A programme.")},
            themes={Theme.INCLUSIVE}, expected_participants=5000, budget_range=BudgetRange.FROM_10K_TO_50K,
        ), actor=rep, now=now)
        nominations.attach_file(nomination, "letter", "lettera.pdf", pdf_bytes(), actor=rep, now=now)
        db.session.commit()
        return nomination

    return cycle, rep, draft


@pytest.mark.parametrize("offset,accepted", [(-1, True), (0, False), (1, False)])
def test_submission_at_the_deadline_to_the_second(db, filed, offset, accepted):
    cycle, rep, draft = filed
    close = cycle.nominations_close_dt
    nomination = draft(close - timedelta(days=1))
    now = close + timedelta(seconds=offset)
    if accepted:
        nominations.submit_nomination(nomination, actor=rep, now=now)
        db.session.commit()
        assert db.session.get(Nomination, nomination.id).state == NominationState.SUBMITTED
    else:
        with pytest.raises(RuleViolation) as refused:
            nominations.submit_nomination(nomination, actor=rep, now=now)
        assert refused.value.reason.code == "nomination.deadline_passed"
        db.session.rollback()
        assert db.session.get(Nomination, nomination.id).state == NominationState.DRAFT


@pytest.mark.parametrize("offset,accepted", [(-1, True), (1, False)])
def test_saving_at_the_deadline_to_the_second(db, filed, offset, accepted):
    cycle, rep, draft = filed
    nomination = draft(cycle.nominations_close_dt - timedelta(days=1))
    change = nominations.DossierInput(title="A new title", texts={"en": ("A summary.", "A programme.")},
                                      themes={Theme.HEALTHY}, expected_participants=10,
                                      budget_range=BudgetRange.UNDER_10K)
    now = cycle.nominations_close_dt + timedelta(seconds=offset)
    if accepted:
        nominations.save_dossier(nomination, change, actor=rep, now=now)
        db.session.commit()
    else:
        with pytest.raises(RuleViolation):
            nominations.save_dossier(nomination, change, actor=rep, now=now)
        db.session.rollback()
    assert (db.session.get(Nomination, nomination.id).title == "A new title") is accepted


def test_two_simultaneous_submissions_by_one_city_leave_one_nomination(app, db, filed):
    """PostgreSQL row locks keep "one nomination per city" even when two people click at once."""
    cycle, rep, draft = filed
    now = cycle.nominations_close_dt - timedelta(hours=1)
    ids = [draft(now - timedelta(hours=2)).id, draft(now - timedelta(hours=2)).id]
    barrier = threading.Barrier(2)
    outcomes = []

    def submit(nomination_id):
        from capital.models import User

        with app.app_context():
            actor = db.session.get(User, rep.id)
            nomination = db.session.get(Nomination, nomination_id)
            barrier.wait()
            try:
                nominations.submit_nomination(nomination, actor=actor, now=now)
                db.session.commit()
                outcomes.append("submitted")
            except RuleViolation as error:
                db.session.rollback()
                outcomes.append(error.reason.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit, args=(nomination_id,)) for nomination_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["eligibility.one_per_city", "submitted"]
    assert db.session.scalar(select(func.count(Nomination.id)).where(
        Nomination.state == NominationState.SUBMITTED)) == 1


def test_each_named_transition_is_guarded_and_audited(db, make_cycle, make_user):
    secretariat = make_user(Role.SECRETARIAT)
    cycle = make_cycle(Phase.DRAFT)
    now = cycle.nominations_open_dt - timedelta(days=1)
    with pytest.raises(RuleViolation):
        cycles.close_nominations(cycle, actor=secretariat, now=now)  # a phase can't be skipped
    db.session.rollback()
    cycles.open_nominations(cycle, actor=secretariat, now=now)
    cycles.close_nominations(cycle, actor=secretariat, now=now)
    cycles.cancel_cycle(cycle, actor=secretariat, now=now)
    db.session.commit()
    assert db.session.get(Cycle, cycle.id).phase == Phase.CANCELLED
    steps = db.session.execute(select(AuditEntry.data, AuditEntry.actor_id)
                               .where(AuditEntry.action == "cycle.phase_changed").order_by(AuditEntry.id)).all()
    assert [(data["from"], data["to"]) for data, _ in steps] == [
        ("DRAFT", "NOMINATIONS_OPEN"), ("NOMINATIONS_OPEN", "NOMINATIONS_CLOSED"), ("NOMINATIONS_CLOSED", "CANCELLED")]
    assert {actor for _, actor in steps} == {secretariat.id}
