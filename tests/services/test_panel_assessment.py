"""The panel's assessments on PostgreSQL: drafts, one submission, the deadline, visibility, the totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from capital.domain.assessment import Entry, weighted_total, Scale
from capital.domain.messages import RuleViolation
from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.extensions import db as _db
from capital.models import Assessment, AssessmentScore, AuditEntry, Mail, Mailing, Recusal
from capital.services import assessment as service
from capital.services.criteria import cycle_criteria, give_criteria
from capital.services.notices import queue_due_assessment_reminders
from tests.conftest import at_once, write_group_mail

OPENS = datetime(2031, 1, 20, 12, tzinfo=UTC)
CLOSES = datetime(2031, 2, 10, 12, tzinfo=UTC)
DURING = datetime(2031, 2, 1, 9, tzinfo=UTC)
SECOND = timedelta(seconds=1)


class Panel:
    """A cycle in assessment with three eligible dossiers, the default criteria, three board
    members, an invited expert and the secretariat."""

    def __init__(self, vote, make_user, db):
        self.vote = vote
        self.cycle = vote.cycle
        self.cycle.has_assessment = True
        self.cycle.assessment_open_dt, self.cycle.assessment_close_dt = OPENS, CLOSES
        self.cycle.phase, self.cycle.phase_changed_dt = Phase.ASSESSMENT, OPENS
        give_criteria(self.cycle)
        self.expert = make_user(Role.ASSESSOR, name="Ana Experta", locale="es")
        db.session.commit()
        self.criteria = cycle_criteria(self.cycle)
        self.nominations = vote.nominations
        self.board = vote.members

    def entries(self, score=3, note="Clear programme.", nominations=None):
        return [Entry(n.id, c.id, str(score), note) for n in (nominations or self.nominations) for c in self.criteria]

    def complete(self, user, score=3, now=DURING):
        service.save_assessment(self.cycle, self.entries(score), actor=user, now=now)
        service.submit_assessment(self.cycle, actor=user, now=now)
        _db.session.commit()


@pytest.fixture
def panel(make_vote, make_user, db):
    return Panel(make_vote(members=3), make_user, db)


def test_the_panel_is_the_serving_board_and_the_experts_less_the_recused(panel, db, make_user):
    make_user(Role.SECRETARIAT)
    assert {u.id for u in service.panel(panel.cycle, DURING)} == {*(m.id for m in panel.board), panel.expert.id}
    db.session.add(Recusal(cycle_id=panel.cycle.id, user_id=panel.board[0].id, reason="My city", declared_dt=DURING))
    db.session.commit()
    assert panel.board[0].id not in {u.id for u in service.panel(panel.cycle, DURING)}
    assert service.panel_facts(panel.cycle, panel.board[0], DURING).is_recused


def test_a_representative_of_a_nominating_city_on_the_board_is_recused_automatically(panel, db):
    member = panel.board[1]
    member.city_id = panel.nominations[0].nominating_city_id
    db.session.commit()
    facts = service.panel_facts(panel.cycle, member, DURING)
    assert facts.is_recused and not facts.is_on_panel
    with pytest.raises(RuleViolation) as refused:
        service.save_assessment(panel.cycle, panel.entries(), actor=member, now=DURING)
    assert refused.value.reason.code == "assessment.recused"


def test_a_draft_is_saved_partly_and_kept_as_typed(panel, db):
    first = panel.nominations[:1]
    service.save_assessment(panel.cycle, panel.entries(4, "Good", first), actor=panel.expert, now=DURING)
    db.session.commit()
    service.save_assessment(panel.cycle, [Entry(first[0].id, panel.criteria[0].id, "", "Thinking…")],
                            actor=panel.expert, now=DURING)
    db.session.commit()
    stored = service.own_entries(service.own_assessment(panel.cycle, panel.expert))
    assert stored[(first[0].id, panel.criteria[0].id)] == Entry(first[0].id, panel.criteria[0].id, "", "Thinking…")
    assert stored[(first[0].id, panel.criteria[1].id)].score == "4"
    assert len(stored) == len(panel.criteria)


def test_a_score_off_the_scale_stores_nothing_of_that_save(panel, db):
    entries = panel.entries(2)
    entries[5] = Entry(entries[5].nomination_id, entries[5].criterion_id, "6", "Too high")
    with pytest.raises(service.AssessmentRefused) as refused:
        service.save_assessment(panel.cycle, entries, actor=panel.expert, now=DURING)
    db.session.rollback()
    assert [(p.nomination_id, p.criterion_id) for p in refused.value.problems] == [
        (entries[5].nomination_id, entries[5].criterion_id)]
    assert db.session.scalar(select(func.count(AssessmentScore.id))) == 0


def test_submitting_needs_every_dossier_scored_with_a_note_then_it_is_read_only(panel, db):
    service.save_assessment(panel.cycle, panel.entries(3, nominations=panel.nominations[:2]), actor=panel.expert,
                            now=DURING)
    db.session.commit()
    with pytest.raises(service.AssessmentRefused) as refused:
        service.submit_assessment(panel.cycle, actor=panel.expert, now=DURING)
    db.session.rollback()
    assert {p.nomination_id for p in refused.value.problems} == {panel.nominations[2].id}
    panel.complete(panel.expert)
    for attempt in (lambda: service.save_assessment(panel.cycle, panel.entries(5), actor=panel.expert, now=DURING),
                    lambda: service.submit_assessment(panel.cycle, actor=panel.expert, now=DURING)):
        with pytest.raises(RuleViolation) as refused:
            attempt()
        assert refused.value.reason.code == "assessment.submitted"
        db.session.rollback()
    assert set(db.session.scalars(select(AssessmentScore.score))) == {3}


def test_an_assessment_at_the_deadline_is_refused_and_a_second_before_is_taken(panel, db):
    with pytest.raises(RuleViolation) as refused:
        service.save_assessment(panel.cycle, panel.entries(), actor=panel.expert, now=CLOSES)
    assert refused.value.reason.code == "assessment.closed"
    db.session.rollback()
    service.save_assessment(panel.cycle, panel.entries(), actor=panel.expert, now=CLOSES - SECOND)
    db.session.commit()
    with pytest.raises(RuleViolation) as refused:
        service.submit_assessment(panel.cycle, actor=panel.expert, now=CLOSES)
    assert refused.value.reason.code == "assessment.closed"


def test_outside_the_assessment_phase_nothing_is_stored(panel, db):
    panel.cycle.phase = Phase.NOMINATIONS_CLOSED
    db.session.commit()
    with pytest.raises(RuleViolation) as refused:
        service.save_assessment(panel.cycle, panel.entries(), actor=panel.expert, now=DURING)
    assert refused.value.reason.code == "assessment.not_open"


def test_twenty_parallel_submissions_by_one_assessor_store_one(panel, app, db):
    service.save_assessment(panel.cycle, panel.entries(4), actor=panel.expert, now=DURING)
    db.session.commit()
    cycle_id, expert_id = panel.cycle.id, panel.expert.id

    def submit():
        from capital.models import Cycle, User

        cycle, expert = _db.session.get(Cycle, cycle_id), _db.session.get(User, expert_id)
        try:
            service.save_assessment(cycle, panel_entries(cycle), actor=expert, now=DURING)
            service.submit_assessment(cycle, actor=expert, now=DURING)
            _db.session.commit()
            return "submitted"
        except RuleViolation as refused:
            _db.session.rollback()
            return refused.reason.code
        finally:
            _db.session.remove()

    def panel_entries(cycle):
        return [Entry(n.id, c.id, "4", "Parallel") for n in service.eligible_nominations(cycle)
                for c in cycle_criteria(cycle)]

    outcomes = at_once(app, submit, count=20)
    assert sorted(outcomes) == ["assessment.submitted"] * 19 + ["submitted"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Assessment.id))) == 1
    assert db.session.scalar(select(func.count(AssessmentScore.id))) == len(panel.nominations) * len(panel.criteria)
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "assessment.submitted")) == 1


def test_nobody_sees_the_assessments_before_the_deadline_even_having_submitted(panel, db, make_user):
    panel.complete(panel.expert)
    secretariat = make_user(Role.SECRETARIAT)
    for user in (panel.expert, secretariat, panel.board[0]):
        assert not service.may_see(panel.cycle, user, CLOSES - SECOND)
    assert service.may_see(panel.cycle, panel.expert, CLOSES)
    assert service.may_see(panel.cycle, secretariat, CLOSES)
    assert not service.may_see(panel.cycle, panel.board[0], CLOSES)  # on the panel, has not submitted


def test_recused_people_see_no_assessment_ever(panel, db):
    panel.complete(panel.board[0])
    db.session.add(Recusal(cycle_id=panel.cycle.id, user_id=panel.board[0].id, reason="Conflict", declared_dt=DURING))
    db.session.commit()
    assert not service.may_see(panel.cycle, panel.board[0], CLOSES + timedelta(days=400))


def test_panel_totals_are_the_domain_weighted_totals_and_the_database_sorts_by_them(panel, db, app):
    panel.complete(panel.expert, score=5)
    entries = [Entry(n.id, c.id, str(i), "Note") for i, n in enumerate(panel.nominations)
               for c in panel.criteria]
    service.save_assessment(panel.cycle, entries, actor=panel.board[0], now=DURING)
    service.submit_assessment(panel.cycle, actor=panel.board[0], now=DURING)
    db.session.commit()
    totals = service.panel_totals(panel.cycle)
    scales = [Scale(c.id, c.scale_min, c.scale_max, c.weight) for c in panel.criteria]
    for i, nomination in enumerate(panel.nominations):
        expected = weighted_total({c.id: Decimal(5 + i) / 2 for c in panel.criteria}, scales)
        assert round(totals[nomination.id], 6) == round(expected, 6)
    assert totals[panel.nominations[2].id] == Decimal(70)  # (5 + 2) / 2 of 5 → 70
    with app.test_request_context("/assessment/compare?sort=total&dir=desc"):
        from capital.pagination import paged

        statement, columns = service.comparison_statement(panel.cycle, "total")
        listing = paged(statement, columns, "total", default_direction="desc")
        order = [n.id for n in listing.pagination.items]
    assert order == [n.id for n in reversed(panel.nominations)]
    rows = service.comparison_rows(panel.cycle, panel.nominations, panel.criteria)
    summary = rows[1].summaries[panel.criteria[0].id]
    assert (summary.count, summary.mean, summary.median, summary.spread) == (2, Decimal(3), Decimal(3), 4)
    assert {note.author for note in rows[1].notes[panel.criteria[0].id]} == {"Ana Experta", "Member 1"}


def test_reminders_at_three_days_and_one_day_go_to_those_who_have_not_submitted_in_their_language(panel, db):
    panel.complete(panel.board[0])
    assert queue_due_assessment_reminders(CLOSES - timedelta(days=3) - SECOND) == 0
    assert queue_due_assessment_reminders(CLOSES - timedelta(days=3)) == 1
    assert queue_due_assessment_reminders(CLOSES - timedelta(days=3)) == 0  # once per day count
    db.session.commit()
    write_group_mail(CLOSES - timedelta(days=3))
    mails = db.session.scalars(select(Mail).where(Mail.kind == "assessment_reminder")).all()
    assert sorted(m.recipient for m in mails) == sorted([panel.expert.email, panel.board[1].email,
                                                          panel.board[2].email])
    spanish = next(m for m in mails if m.recipient == panel.expert.email)
    assert spanish.locale == "es" and "evaluación" in spanish.subject.lower()
    assert queue_due_assessment_reminders(CLOSES - timedelta(days=1)) == 1
    assert queue_due_assessment_reminders(CLOSES) == 0
    assert db.session.scalar(select(func.count(Mailing.id)).where(Mailing.kind == "assessment_reminder")) == 2


def test_closing_the_assessment_by_hand_early_ends_it_and_opens_the_comparison(panel, db):
    from capital.services.cycles import change_phase

    panel.complete(panel.expert)
    change_phase(panel.cycle, Phase.ASSESSED, actor=panel.vote.secretariat, now=DURING, by_hand=True)
    db.session.commit()
    assert panel.cycle.assessment_close_dt == CLOSES  # the date stays; the stage is over
    with pytest.raises(RuleViolation):
        service.save_assessment(panel.cycle, panel.entries(), actor=panel.board[0], now=DURING + SECOND)
    db.session.rollback()
    assert service.may_see(panel.cycle, panel.expert, DURING + SECOND)


def test_the_periodic_tick_sends_the_assessment_reminders(panel, db):
    from capital.services.ticks import run_tick

    summary = run_tick(CLOSES - timedelta(days=1))
    assert summary["assessment_reminders"] == 1
    assert run_tick(CLOSES - timedelta(days=1))["assessment_reminders"] == 0
    assert db.session.scalar(select(Mailing.occasion).where(Mailing.kind == "assessment_reminder")) == "1d"


def test_an_assessment_submitted_before_a_recusal_no_longer_counts(panel, db):
    from capital.services import voting

    panel.complete(panel.expert, score=5)
    panel.complete(panel.board[0], score=1)
    voting.declare_conflict(panel.cycle, panel.board[0], "A relative leads the Lyon dossier", now=DURING)
    db.session.commit()
    assert set(service.panel_totals(panel.cycle).values()) == {Decimal(100)}
    assert service.submission_count(panel.cycle) == 1
    rows = service.comparison_rows(panel.cycle, panel.nominations, panel.criteria)
    assert {note.author for row in rows for notes in row.notes.values() for note in notes} == {"Ana Experta"}
