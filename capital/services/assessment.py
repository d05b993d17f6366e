"""The panel's assessments: the panel, drafts, submission, visibility, the comparison and the totals.

The rules are in :mod:`capital.domain.assessment`; this module loads the facts, applies them and
stores the result. The panel is one SQL condition (:func:`panel_condition`), used alike to answer
"is this person on the panel?", to list the panel and to address its reminders. Functions take
the ``actor`` and ``now``, flush, and leave the commit to the caller.

An assessment is one row per (cycle, assessor), created on the first save and locked for every
later one: of many simultaneous saves or submissions by one assessor, one goes at a time, and a
submission after the first is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from capital.domain.assessment import (
    Entry, PanelFacts, Problem, Scale, assessment_is_over, entry_problems, may_assess, may_see_assessments,
    read_score, summarise, weighted_total,
)
from capital.domain.messages import RuleViolation
from capital.domain.nominations import NominationState
from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.extensions import db
from capital.models import (
    Assessment, AssessmentScore, BoardTerm, City, Criterion, Cycle, Nomination, Recusal, RoleGrant, User,
)
from capital.services.audit import record
from capital.services.criteria import cycle_criteria

class AssessmentRefused(RuleViolation):
    """An assessment not stored: ``problems`` are the entries at fault, each at its field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(*(problem.message for problem in problems))
        self.problems = problems


# --- the panel ----------------------------------------------------------------------------------

def _conflicted_cities(cycle_id: int):
    """The cities that nominated or are nominated in the cycle (their representatives are conflicted)."""
    put_forward = (NominationState.SUBMITTED, NominationState.ELIGIBLE, NominationState.INELIGIBLE)
    return (select(Nomination.nominating_city_id).where(Nomination.cycle_id == cycle_id,
                                                        Nomination.state.in_(put_forward))
            .union(select(Nomination.host_city_id).where(Nomination.cycle_id == cycle_id,
                                                         Nomination.state.in_(put_forward))))


def recused_condition(cycle: Cycle):
    """SQL: the person (a ``User`` row) is recused in ``cycle``: declared, or (when the cycle
    requires it) representing a nominating or host city, as the vote's roll counts it."""
    declared = User.id.in_(select(Recusal.user_id).where(Recusal.cycle_id == cycle.id))
    if not cycle.requires_recusal:
        return declared
    return or_(declared, and_(User.city_id.is_not(None), User.city_id.in_(_conflicted_cities(cycle.id))))


def _holds(role: Role):
    return User.id.in_(select(RoleGrant.user_id).where(RoleGrant.role == role))


def _serving_board_member(day: date):
    return and_(_holds(Role.BOARD), exists().where(BoardTerm.user_id == User.id, BoardTerm.starts_on <= day,
                                                   BoardTerm.ends_on >= day))


def panel_condition(cycle: Cycle, day: date):
    """SQL: the person is on the cycle's panel on ``day``: an active account, a board member
    serving that day or an invited expert, and not recused."""
    return and_(User.is_active_account.is_(True), or_(_serving_board_member(day), _holds(Role.ASSESSOR)),
                ~recused_condition(cycle))


def _submitted(cycle: Cycle, user: User) -> bool:
    return db.session.scalar(select(Assessment.id).where(
        Assessment.cycle_id == cycle.id, Assessment.assessor_id == user.id,
        Assessment.submitted_dt.is_not(None))) is not None


def panel_facts(cycle: Cycle, user: User, now: datetime) -> PanelFacts:
    """What the rules need to know about ``user`` in ``cycle`` at ``now``."""
    row = db.session.execute(select(
        _serving_board_member(now.date()).label("board"), _holds(Role.ASSESSOR).label("assessor"),
        _holds(Role.SECRETARIAT).label("secretariat"), recused_condition(cycle).label("recused"),
        User.is_active_account,
    ).where(User.id == user.id)).one()
    return PanelFacts(is_serving_board_member=bool(row.board and row.is_active_account),
                      is_assessor=bool(row.assessor and row.is_active_account),
                      is_secretariat=bool(row.secretariat), is_recused=bool(row.recused),
                      has_submitted=_submitted(cycle, user))


def panel(cycle: Cycle, now: datetime) -> list[User]:
    """The panel members on ``now``'s day, by name."""
    return list(db.session.scalars(select(User).where(panel_condition(cycle, now.date())).order_by(User.name, User.id)))


def may_see(cycle: Cycle, user: User, now: datetime) -> bool:
    """Whether ``user`` may see everyone's scores and notes in ``cycle`` now (the domain's rule)."""
    return may_see_assessments(panel_facts(cycle, user, now),
                               is_over=assessment_is_over(cycle.phase, now=now, closes=cycle.assessment_close_dt))


def assessment_cycle() -> Cycle | None:
    """The latest cycle that holds an assessment and has reached it."""
    return db.session.scalar(select(Cycle).where(Cycle.has_assessment.is_(True), Cycle.assessment_open_dt.is_not(None),
                                                 Cycle.phase.in_(_REACHED)).order_by(Cycle.year.desc()).limit(1))


_REACHED = tuple(phase for phase in Phase if phase.has_reached(Phase.ASSESSMENT) and phase != Phase.CANCELLED)


# --- what is assessed ------------------------------------------------------------------------------

def eligible_nominations(cycle: Cycle) -> list[Nomination]:
    """The dossiers the panel assesses: the eligible nominations, by host city."""
    return list(db.session.scalars(
        select(Nomination).join(City, City.id == Nomination.host_city_id)
        .where(Nomination.cycle_id == cycle.id, Nomination.state == NominationState.ELIGIBLE)
        .options(selectinload(Nomination.host_city), selectinload(Nomination.nominating_city))
        .order_by(City.name_latin, Nomination.id)))


def scales(criteria: list[Criterion]) -> dict[int, Scale]:
    return {c.id: Scale(c.id, c.scale_min, c.scale_max, Decimal(c.weight)) for c in criteria}


def own_assessment(cycle: Cycle, user: User) -> Assessment | None:
    return db.session.scalar(select(Assessment).where(Assessment.cycle_id == cycle.id,
                                                      Assessment.assessor_id == user.id))


def own_entries(assessment: Assessment | None) -> dict[tuple[int, int], Entry]:
    """The assessor's stored scores and notes, as the form shows them, by (nomination, criterion)."""
    if assessment is None:
        return {}
    rows = db.session.scalars(select(AssessmentScore).where(AssessmentScore.assessment_id == assessment.id))
    return {(row.nomination_id, row.criterion_id): Entry(row.nomination_id, row.criterion_id,
                                                         "" if row.score is None else str(row.score), row.note)
            for row in rows}


# --- writing ---------------------------------------------------------------------------------------

def _locked_assessment(cycle: Cycle, user: User, now: datetime) -> Assessment:
    """The assessor's row, created if need be, locked for this transaction."""
    found = own_assessment(cycle, user)
    if found is None:
        try:
            # A savepoint: of two first saves at once, the second finds the first's row.
            with db.session.begin_nested():
                db.session.add(Assessment(cycle_id=cycle.id, assessor_id=user.id, created_dt=now, updated_dt=now))
                db.session.flush()
        except IntegrityError:  # a parallel request made the row first: the one row is what matters
            pass
    return db.session.scalar(select(Assessment).where(Assessment.cycle_id == cycle.id, Assessment.assessor_id == user.id)
                             .with_for_update().execution_options(populate_existing=True))


def _writable(cycle: Cycle, user: User, now: datetime) -> tuple[Cycle, Assessment]:
    # The cycle under a shared lock: closing the assessment (a phase change) waits for the save.
    cycle = db.session.get(Cycle, cycle.id, with_for_update={"read": True}, populate_existing=True)
    facts = panel_facts(cycle, user, now)
    may_assess(facts, is_assessment_phase=cycle.phase == Phase.ASSESSMENT, now=now,
               closes=cycle.assessment_close_dt).enforce()
    assessment = _locked_assessment(cycle, user, now)
    if assessment.submitted_dt is not None:  # submitted by a request that held the lock first
        may_assess(PanelFacts(**{**facts.__dict__, "has_submitted": True}), is_assessment_phase=True,
                   now=now, closes=cycle.assessment_close_dt).enforce()
    return cycle, assessment


def save_assessment(cycle: Cycle, entries: list[Entry], *, actor: User, now: datetime) -> Assessment:
    """Store ``actor``'s draft scores and notes (a partial draft is fine), or raise
    :class:`AssessmentRefused` with every entry at fault (a score off its scale, a note too
    long) and store nothing, or :class:`RuleViolation` when they may not assess now."""
    cycle, assessment = _writable(cycle, actor, now)
    criteria = scales(cycle_criteria(cycle))
    nomination_ids = [n.id for n in eligible_nominations(cycle)]
    wanted = [e for e in entries if e.criterion_id in criteria and e.nomination_id in set(nomination_ids)]
    problems = entry_problems(wanted, criteria, nomination_ids, complete=False)
    if problems:
        raise AssessmentRefused(problems)
    stored = {(row.nomination_id, row.criterion_id): row for row in db.session.scalars(
        select(AssessmentScore).where(AssessmentScore.assessment_id == assessment.id))}
    for entry in wanted:
        row = stored.get((entry.nomination_id, entry.criterion_id))
        if row is None:
            row = AssessmentScore(assessment_id=assessment.id, nomination_id=entry.nomination_id,
                                  criterion_id=entry.criterion_id)
            db.session.add(row)
        row.score = read_score(entry.score, criteria[entry.criterion_id])
        row.note = entry.note
    assessment.updated_dt = now
    db.session.flush()
    return assessment


def submit_assessment(cycle: Cycle, *, actor: User, now: datetime) -> Assessment:
    """Submit ``actor``'s stored assessment once, for good; refused with every dossier and
    criterion left without a score or a note (:class:`AssessmentRefused`), or when they may
    not assess now, or have already submitted."""
    cycle, assessment = _writable(cycle, actor, now)
    criteria = scales(cycle_criteria(cycle))
    nomination_ids = [n.id for n in eligible_nominations(cycle)]
    problems = entry_problems(list(own_entries(assessment).values()), criteria, nomination_ids, complete=True)
    if problems:
        raise AssessmentRefused(problems)
    assessment.submitted_dt = now
    db.session.flush()
    record("assessment.submitted", assessment, actor=actor, now=now, cycle_id=cycle.id,
           data={"dossiers": len(nomination_ids), "criteria": len(criteria)})
    return assessment


# --- reading everyone's (after the deadline) ---------------------------------------------------------

def _means(cycle: Cycle):
    """SQL: each dossier's mean score on each criterion over the submitted assessments of the
    people not recused (a conflict declared after submitting withdraws the assessment)."""
    return (select(AssessmentScore.nomination_id, AssessmentScore.criterion_id,
                   func.avg(AssessmentScore.score).label("mean"))
            .join(Assessment, Assessment.id == AssessmentScore.assessment_id)
            .join(User, User.id == Assessment.assessor_id)
            .where(Assessment.cycle_id == cycle.id, Assessment.submitted_dt.is_not(None),
                   AssessmentScore.score.is_not(None), ~recused_condition(cycle))
            .group_by(AssessmentScore.nomination_id, AssessmentScore.criterion_id).subquery("means"))


def _totals(cycle: Cycle):
    """SQL: each dossier's weighted total out of 100 (capital.domain.assessment.weighted_total)."""
    means = _means(cycle)
    placed = Criterion.weight * (means.c.mean - Criterion.scale_min) / (Criterion.scale_max - Criterion.scale_min)
    return (select(means.c.nomination_id, (func.sum(placed) / func.sum(Criterion.weight) * 100).label("total"))
            .join(Criterion, Criterion.id == means.c.criterion_id)
            .group_by(means.c.nomination_id).subquery("totals"))


def panel_totals(cycle: Cycle) -> dict[int, Decimal]:
    """Each eligible nomination's weighted total out of 100 over the submitted assessments (a
    nomination nobody scored is absent). Says nothing about who may see it: ask :func:`may_see`."""
    totals = _totals(cycle)
    return {nomination_id: Decimal(total) for nomination_id, total in db.session.execute(
        select(totals.c.nomination_id, totals.c.total)
        .join(Nomination, Nomination.id == totals.c.nomination_id)
        .where(Nomination.state == NominationState.ELIGIBLE))}


def comparison_statement(cycle: Cycle, sort: str):
    """The eligible nominations with the column to sort them by: ``total``, ``name`` or
    ``c<criterion id>`` (that criterion's mean); unknown keys sort by total. For
    :func:`capital.pagination.paged`: the sorting is done in the database."""
    totals = _totals(cycle)
    statement = (select(Nomination).join(City, City.id == Nomination.host_city_id)
                 .outerjoin(totals, totals.c.nomination_id == Nomination.id)
                 .where(Nomination.cycle_id == cycle.id, Nomination.state == NominationState.ELIGIBLE)
                 .options(selectinload(Nomination.host_city), selectinload(Nomination.nominating_city)))
    columns = {"total": func.coalesce(totals.c.total, -1), "name": City.name_latin}
    if sort.startswith("c") and sort[1:].isdigit():
        means = _means(cycle)
        criterion_id = int(sort[1:])
        chosen = select(means.c.nomination_id, means.c.mean).where(means.c.criterion_id == criterion_id).subquery()
        statement = statement.outerjoin(chosen, chosen.c.nomination_id == Nomination.id)
        columns[sort] = func.coalesce(chosen.c.mean, -1)
    return statement, columns


@dataclass(frozen=True)
class Note:
    author: str
    score: int | None
    text: str


@dataclass(frozen=True)
class DossierRow:
    """One dossier on the comparison page: per criterion its summary and notes, and its total."""

    nomination: Nomination
    summaries: dict[int, object]
    notes: dict[int, list[Note]]
    total: Decimal | None


def comparison_rows(cycle: Cycle, nominations: list[Nomination], criteria: list[Criterion]) -> list[DossierRow]:
    """The page's dossiers with the submitted scores and notes: one query for all of them."""
    ids = [n.id for n in nominations]
    rows = db.session.execute(
        select(AssessmentScore.nomination_id, AssessmentScore.criterion_id, AssessmentScore.score,
               AssessmentScore.note, User.name)
        .join(Assessment, Assessment.id == AssessmentScore.assessment_id)
        .join(User, User.id == Assessment.assessor_id)
        .where(Assessment.cycle_id == cycle.id, Assessment.submitted_dt.is_not(None),
               AssessmentScore.nomination_id.in_(ids), ~recused_condition(cycle))
        .order_by(User.name, Assessment.id)).all() if ids else []
    scores: dict[tuple[int, int], list[int]] = {}
    notes: dict[tuple[int, int], list[Note]] = {}
    for row in rows:
        key = (row.nomination_id, row.criterion_id)
        if row.score is not None:
            scores.setdefault(key, []).append(row.score)
        notes.setdefault(key, []).append(Note(row.name, row.score, row.note))
    criterion_scales = list(scales(criteria).values())
    result = []
    for nomination in nominations:
        summaries = {c.id: summarise(scores.get((nomination.id, c.id), [])) for c in criteria}
        total = weighted_total({cid: s.mean for cid, s in summaries.items() if s.mean is not None}, criterion_scales)
        result.append(DossierRow(nomination, summaries, {c.id: notes.get((nomination.id, c.id), []) for c in criteria},
                                 total))
    return result


def submission_count(cycle: Cycle) -> int:
    """The submitted assessments that count: those of people not recused."""
    return db.session.scalar(select(func.count(Assessment.id)).join(User, User.id == Assessment.assessor_id).where(
        Assessment.cycle_id == cycle.id, Assessment.submitted_dt.is_not(None), ~recused_condition(cycle)))
