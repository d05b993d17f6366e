"""Cycles: creating them, changing their timeline and rules, and moving them through their phases.

Every function takes the ``actor`` and ``now``, flushes, and leaves the commit to the caller
(a view or a task). Phase changes lock the cycle's row, so two workers (or a worker and the
secretariat) can never both move the same cycle.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from capital.domain.eligibility import EligibilityRules
from capital.domain.messages import Message, N_, RuleViolation
from capital.domain.nominations import NominationState
from capital.domain.phase import FINAL_PHASES, Phase
from capital.domain.phases import TransitionContext, TransitionError, check_transition, due_transition
from capital.domain.roles import Role
from capital.domain.timeline import (
    DEADLINE_FIELDS, STAGE_FIELDS, Timeline, carry_over, default_timeline, validate_timeline,
)
from capital.extensions import db
from capital.models import TALLY_METHODS, Cycle, Nomination, Result, User, VotingRound
from capital.models.cycles import NOMINATION_REMINDER_DAYS
from capital.services import criteria, voting
from capital.services.audit import Actor, record
from capital.services.notices import (
    queue_announcement_mail, queue_call_for_nominations, queue_result_mail, queue_shortlist_mail,
    queue_shortlist_result_mail, queue_voting_open_mail,
)

log = logging.getLogger(__name__)

REMINDER_DAYS_MESSAGE = N_("Give whole numbers of days from 1 to 365, separated by commas.")
VOTING_SETTINGS = ("method", "quorum_share", "max_rounds", "is_secret", "allows_ballot_replacement",
                   "requires_recusal")
STAGE_SETTINGS = ("has_assessment", "shortlist_size")
DEFAULT_SHORTLIST_SIZE = 5
MAX_SHORTLIST_SIZE = 50
# The steps out of these phases depend on the vote's quorum: they wait until it is known.
_NEEDS_QUORUM = frozenset({Phase.VOTING_CLOSED, Phase.TALLIED})


@dataclass(frozen=True)
class CycleSettings:
    """A cycle's voting rules and eligibility rules (the defaults: docs/rules.md and docs/vote.md).

    The defaults of the fields describe a cycle without the optional stages, as every cycle
    before them was (and as a stored row without them reads); a new cycle starts from
    :data:`NEW_CYCLE_SETTINGS`, which holds both stages.
    """

    method: str = "schulze"
    quorum_share: Decimal = Decimal("0.5")
    max_rounds: int = 2
    is_secret: bool = True
    allows_ballot_replacement: bool = False
    requires_recusal: bool = True
    rules: EligibilityRules = field(default_factory=EligibilityRules)
    # Days before the nomination deadline on which cities that have not submitted are reminded.
    nomination_reminder_days: tuple[int, ...] = NOMINATION_REMINDER_DAYS
    # The optional stages (docs/cycle.md): assessment against the criteria, and a shortlist of
    # this many finalists (0: no shortlist, the final vote is over every eligible nomination).
    has_assessment: bool = False
    shortlist_size: int = 0

    @property
    def has_shortlist(self) -> bool:
        return self.shortlist_size > 0

    @classmethod
    def of(cls, cycle: Cycle) -> CycleSettings:
        """The settings ``cycle`` holds now."""
        return cls(**{name: getattr(cycle, name) for name in (*VOTING_SETTINGS, *STAGE_SETTINGS)},
                   rules=EligibilityRules.from_dict(cycle.rules),
                   nomination_reminder_days=tuple(cycle.nomination_reminder_days))

    def problems(self) -> list[Message]:
        found = []
        if self.method not in TALLY_METHODS:
            found.append(Message(N_("Choose a counting method from the list."), {}, "cycle.method"))
        if not Decimal(0) < Decimal(self.quorum_share) <= Decimal(1):
            found.append(Message(N_("The quorum must be above zero and at most the whole board."), {},
                                 "cycle.quorum_share"))
        if self.max_rounds < 1:
            found.append(Message(N_("Allow at least one voting round."), {}, "cycle.max_rounds"))
        if not all(isinstance(days, int) and 1 <= days <= 365 for days in self.nomination_reminder_days):
            found.append(Message(REMINDER_DAYS_MESSAGE, {}, "cycle.nomination_reminder_days"))
        if self.shortlist_size != 0 and not 2 <= self.shortlist_size <= MAX_SHORTLIST_SIZE:
            found.append(Message(N_("A shortlist has from 2 to %(most)s finalists; give 0 for no shortlist."),
                                 {"most": MAX_SHORTLIST_SIZE}, "cycle.shortlist_size"))
        return found

    def stage_problems(self, timeline: Timeline) -> list[Message]:
        """What is wrong between these settings and ``timeline``: a stage held needs its dates, and only then."""
        found = []
        if self.has_assessment != timeline.has_assessment:
            found.append(Message(N_("Give the assessment's dates when the cycle holds an assessment, and only then."),
                                 {}, "cycle.assessment_dates"))
        if self.has_shortlist != timeline.has_shortlist:
            found.append(Message(N_("Give the shortlist's dates when the cycle has a shortlist, and only then."),
                                 {}, "cycle.shortlist_dates"))
        return found


# What a new cycle starts from unless it copies an earlier one: both stages on (docs/cycle.md).
NEW_CYCLE_SETTINGS = CycleSettings(has_assessment=True, shortlist_size=DEFAULT_SHORTLIST_SIZE)


@dataclass(frozen=True)
class PhaseChange:
    """One phase change made by :func:`advance_due_cycles`."""

    cycle_id: int
    year: int
    previous: Phase
    phase: Phase


def cycle_timeline(cycle: Cycle) -> Timeline | None:
    """The cycle's deadlines as a :class:`Timeline`; None for an archived cycle recorded without them.

    The stages' deadlines are part of it when the cycle holds the stage (its settings say so).
    """
    values = {name: getattr(cycle, name) for name in DEADLINE_FIELDS}
    if any(value is None for value in values.values()):
        return None
    held = {"assessment": cycle.has_assessment, "shortlist": bool(cycle.shortlist_size)}
    for stage, names in STAGE_FIELDS.items():
        stage_values = {name: getattr(cycle, name) for name in names}
        if held[stage] and all(value is not None for value in stage_values.values()):
            values |= stage_values
    return Timeline(**values, celebration_date=cycle.celebration_date)


def latest_cycle() -> Cycle | None:
    """The cycle of the latest year: the one "copy last year's settings" copies."""
    return db.session.scalar(select(Cycle).order_by(Cycle.year.desc()).limit(1))


def proposal(year: int, copy_from: Cycle | None = None,
             settings: CycleSettings | None = None) -> tuple[Timeline, CycleSettings]:
    """The timeline and settings a new cycle for ``year`` starts from: ``copy_from``'s carried
    over to ``year`` ("copy last year's settings"), or else the defaults (:data:`NEW_CYCLE_SETTINGS`).
    Given ``settings``, the default timeline has the stages they hold."""
    copied = cycle_timeline(copy_from) if copy_from is not None else None
    if settings is None:
        settings = CycleSettings.of(copy_from) if copy_from is not None else NEW_CYCLE_SETTINGS
    if copied is not None:
        timeline = carry_over(copied, year)
    else:
        timeline = default_timeline(year, has_assessment=settings.has_assessment, has_shortlist=settings.has_shortlist)
    return timeline, settings


def create_cycle(year: int, *, timeline: Timeline | None = None, settings: CycleSettings | None = None,
                 copy_from: Cycle | None = None, actor: Actor, now: datetime) -> Cycle:
    """A new cycle in draft for the celebration of ``year``.

    Without ``timeline`` or ``settings`` it takes ``copy_from``'s, carried over to ``year``
    ("copy last year's settings"), or else the defaults; its criteria are ``copy_from``'s, or
    else the defaults. Raises :class:`RuleViolation` with
    every problem when the year is taken, the timeline is not valid or a setting is out of range.
    """
    proposed_timeline, proposed_settings = proposal(year, copy_from, settings)
    timeline = proposed_timeline if timeline is None else timeline
    settings = proposed_settings if settings is None else settings
    problems = [*_year_problems(year), *validate_timeline(timeline, now, phase=Phase.DRAFT), *settings.problems(),
                *settings.stage_problems(timeline)]
    if timeline.celebration_date.year != year:
        problems.append(Message(N_("The timeline must lead to the celebration of %(year)s."), {"year": year},
                                "cycle.timeline_year"))
    if problems:
        raise RuleViolation(*problems)
    cycle = Cycle(year=year, phase=Phase.DRAFT, phase_changed_dt=now, created_dt=now)
    _apply(cycle, timeline, settings)
    try:
        # A savepoint: another secretary creating the same year at the same moment loses cleanly.
        with db.session.begin_nested():
            db.session.add(cycle)
            db.session.flush()
    except IntegrityError:
        raise RuleViolation(_year_taken(year)) from None
    criteria.give_criteria(cycle, copy_from)
    record("cycle.created", cycle, actor=actor, now=now, cycle_id=cycle.id,
           data={"year": year, "copied_from": copy_from.year if copy_from is not None else None,
                 "timeline": _timeline_data(timeline), "settings": _settings_data(settings)})
    return cycle


def update_cycle(cycle: Cycle, *, timeline: Timeline, settings: CycleSettings, actor: Actor,
                 now: datetime) -> Cycle:
    """Change the cycle's timeline and rules, or raise :class:`RuleViolation` and change nothing.

    The timeline is checked against the cycle's current phase (deadlines still ahead must be
    in the future); the voting rules are fixed once voting has opened and the eligibility
    rules once nominations have closed, and a cycle that is over does not change at all.
    """
    cycle = _locked(cycle)
    problems = _update_problems(cycle, timeline, settings, now)
    if problems:
        raise RuleViolation(*problems)
    before = {**_timeline_data(cycle_timeline(cycle)), **_settings_data(CycleSettings.of(cycle))}
    _apply(cycle, timeline, settings)
    after = {**_timeline_data(timeline), **_settings_data(settings)}
    changes = {name: [before.get(name), after.get(name)] for name in {**before, **after}
               if before.get(name) != after.get(name)}
    if changes:
        db.session.flush()
        record("cycle.updated", cycle, actor=actor, now=now, cycle_id=cycle.id, data={"changes": changes})
    return cycle


def transition_context(cycle: Cycle) -> TransitionContext:
    """The facts the phase rules need, counted in the database.

    ``quorum_met`` comes from the latest counted voting round, None while no round is counted.
    """
    counts = dict(db.session.execute(
        select(Nomination.state, func.count(Nomination.id))
        .where(Nomination.cycle_id == cycle.id,
               Nomination.state.in_([NominationState.ELIGIBLE, NominationState.SUBMITTED]))
        .group_by(Nomination.state)
    ).all())
    rounds_used = db.session.scalar(select(func.count(VotingRound.id)).where(
        VotingRound.cycle_id == cycle.id, VotingRound.is_shortlist.is_(False)))
    # A round "meets its quorum" for the phases when it designates a city: a count without a
    # winner (an unresolved tie) leads on like a missed quorum, to another round or no capital.
    latest = db.session.execute(
        select(Result.is_quorum_met, Result.winner_nomination_id).join(VotingRound, Result.round_id == VotingRound.id)
        .where(VotingRound.cycle_id == cycle.id, VotingRound.is_shortlist.is_(False))
        .order_by(VotingRound.number.desc()).limit(1)
    ).first()
    # The shortlist is drawn when its vote met the quorum and someone was approved.
    counted = voting.shortlist_result(cycle)
    drawn = None if counted is None else bool(counted.is_quorum_met and counted.tally.get("shortlist_ids"))
    quorum_met = None if latest is None else bool(latest.is_quorum_met and latest.winner_nomination_id is not None)
    return TransitionContext(
        eligible_nominations=counts.get(NominationState.ELIGIBLE, 0),
        submitted_pending_review=counts.get(NominationState.SUBMITTED, 0),
        quorum_met=quorum_met,
        rounds_used=rounds_used,
        max_rounds=cycle.max_rounds,
        shortlist_drawn=drawn,
    )


def check_phase_change(cycle: Cycle, target: Phase, *, actor: Actor, now: datetime, by_hand: bool) -> None:
    """Raise :class:`TransitionError` unless ``actor`` may move ``cycle`` to ``target`` now."""
    context = transition_context(cycle)
    if _not_counted(cycle.phase, context) and target != Phase.CANCELLED:
        raise TransitionError(Message(N_("The votes have not been counted yet."), {}, "phase.not_counted"))
    check_transition(cycle.phase, target, timeline=cycle_timeline(cycle), now=now, by_hand=by_hand,
                     is_secretariat=isinstance(actor, User) and actor.has_role(Role.SECRETARIAT),
                     context=context)


def change_phase(cycle: Cycle, target: Phase, *, actor: Actor, now: datetime, by_hand: bool) -> Cycle:
    """Move ``cycle`` to ``target`` and record who did it, or raise :class:`TransitionError`.

    The row is locked and re-read first, so of two simultaneous requests for the same step
    the second finds the cycle already moved and is refused.
    """
    cycle = _locked(cycle)
    check_phase_change(cycle, target, actor=actor, now=now, by_hand=by_hand)
    _move(cycle, target, actor=actor, now=now, by_hand=by_hand)
    return cycle


# One named action per step, for callers that mean a particular one (the CLI, tests, later
# issues); each goes through change_phase and so through the same guards and audit entry.

def open_nominations(cycle: Cycle, *, actor: Actor, now: datetime, by_hand: bool = True) -> Cycle:
    return change_phase(cycle, Phase.NOMINATIONS_OPEN, actor=actor, now=now, by_hand=by_hand)


def close_nominations(cycle: Cycle, *, actor: Actor, now: datetime, by_hand: bool = True) -> Cycle:
    return change_phase(cycle, Phase.NOMINATIONS_CLOSED, actor=actor, now=now, by_hand=by_hand)


def open_voting(cycle: Cycle, *, actor: Actor, now: datetime, by_hand: bool = True) -> Cycle:
    return change_phase(cycle, Phase.VOTING_OPEN, actor=actor, now=now, by_hand=by_hand)


def close_voting(cycle: Cycle, *, actor: Actor, now: datetime, by_hand: bool = True) -> Cycle:
    return change_phase(cycle, Phase.VOTING_CLOSED, actor=actor, now=now, by_hand=by_hand)


def cancel_cycle(cycle: Cycle, *, actor: Actor, now: datetime) -> Cycle:
    return change_phase(cycle, Phase.CANCELLED, actor=actor, now=now, by_hand=True)


def declare_no_capital(cycle: Cycle, *, actor: Actor, now: datetime, by_hand: bool = True) -> Cycle:
    return change_phase(cycle, Phase.NO_CAPITAL, actor=actor, now=now, by_hand=by_hand)


def advance_due_cycles(now: datetime) -> list[PhaseChange]:
    """Take every cycle whose deadline has come one step on; safe to run as often as you like.

    A cycle another worker (or the secretariat) is moving right now is skipped: its row is
    locked, and the next tick sees the result. Steps that wait for the vote's count are left
    until the count exists.
    """
    changes = []
    ids = db.session.scalars(select(Cycle.id).where(Cycle.phase.not_in(FINAL_PHASES)).order_by(Cycle.year)).all()
    for cycle_id in ids:
        cycle = db.session.get(Cycle, cycle_id, with_for_update={"skip_locked": True}, populate_existing=True)
        if cycle is None or cycle.phase in FINAL_PHASES:
            continue
        timeline = cycle_timeline(cycle)
        context = transition_context(cycle)
        if timeline is None or _not_counted(cycle.phase, context):
            continue
        target = due_transition(cycle.phase, timeline, now, context)
        if target is None:
            continue
        previous = cycle.phase
        _move(cycle, target, actor="worker", now=now, by_hand=False)
        changes.append(PhaseChange(cycle.id, cycle.year, previous, target))
        log.info("cycle %s moved from %s to %s", cycle.year, previous.name, target.name)
    return changes


def enter_phase(cycle: Cycle, previous: Phase, *, actor: Actor, now: datetime) -> None:
    """What follows from entering a phase, whoever caused it: the one place for such effects.

    A second voting round (voting closed → voting open) gets a fresh voting window, and the
    announcement moves by as much. Opening nominations writes the call for nominations in the
    same transaction; opening voting (or the shortlist vote) freezes the roll, draws the tie-break
    order and writes the voting-open mail; closing it shuffles and counts the round's ballots and
    writes the result mail (the final vote's, or the shortlist vote's) to the roll and the
    secretariat; the announcement designates the winner and writes the announcement mail; a cycle
    without a capital keeps the reason.
    """
    if previous == Phase.VOTING_CLOSED and cycle.phase == Phase.VOTING_OPEN:
        _apply_timeline(cycle, cycle_timeline(cycle).second_round(now))
    if cycle.phase == Phase.NOMINATIONS_OPEN:
        queue_call_for_nominations(cycle, now)
    elif cycle.phase == Phase.SHORTLIST_VOTING:
        queue_voting_open_mail(cycle, voting.open_round(cycle, actor=actor, now=now, shortlist=True), now)
    elif cycle.phase == Phase.SHORTLIST_COUNTED and voting.close_round(cycle, now=now, shortlist=True) is not None:
        queue_shortlist_result_mail(cycle, voting.tally_round(cycle, now=now, shortlist=True), now)
    elif cycle.phase == Phase.SHORTLISTED:
        # Publishing by hand ahead of the planned time publishes now, as the announcement does.
        if cycle.shortlist_publication_dt is None or cycle.shortlist_publication_dt > now:
            cycle.shortlist_publication_dt = now
        queue_shortlist_mail(cycle, voting.finalists(cycle) or [], now)
    elif cycle.phase == Phase.VOTING_OPEN:
        queue_voting_open_mail(cycle, voting.open_round(cycle, actor=actor, now=now), now)
    elif cycle.phase == Phase.VOTING_CLOSED and voting.close_round(cycle, now=now) is not None:
        queue_result_mail(cycle, voting.tally_round(cycle, now=now), now)
    elif cycle.phase == Phase.ANNOUNCED:
        # Announcing by hand ahead of the planned time publishes now: the result, the pages and
        # the mails all follow the announcement time, so it moves to the moment of the act.
        if cycle.announcement_dt is None or cycle.announcement_dt > now:
            cycle.announcement_dt = now
        voting.designate_winner(cycle, actor=actor, now=now)
        queue_announcement_mail(cycle, now)
    elif cycle.phase == Phase.NO_CAPITAL:
        cycle.no_capital_reason = voting.no_capital_reason(cycle, previous)


def _move(cycle: Cycle, target: Phase, *, actor: Actor, now: datetime, by_hand: bool) -> None:
    previous = cycle.phase
    cycle.phase = target
    cycle.phase_changed_dt = now
    enter_phase(cycle, previous, actor=actor, now=now)
    db.session.flush()
    record("cycle.phase_changed", cycle, actor=actor, now=now, cycle_id=cycle.id,
           data={"from": previous.name, "to": target.name, "by_hand": by_hand})


def _not_counted(phase: Phase, context: TransitionContext) -> bool:
    """Whether the steps out of ``phase`` wait for a count that does not exist yet."""
    if phase == Phase.SHORTLIST_COUNTED:
        return context.shortlist_drawn is None
    return phase in _NEEDS_QUORUM and context.quorum_met is None


def _locked(cycle: Cycle) -> Cycle:
    # populate_existing: decide on the committed row, not on what this session read earlier.
    return db.session.get(Cycle, cycle.id, with_for_update=True, populate_existing=True)


def _update_problems(cycle: Cycle, timeline: Timeline, settings: CycleSettings, now: datetime) -> list[Message]:
    if cycle.phase in FINAL_PHASES:
        return [Message(N_("This cycle is over: it can no longer change."), {}, "cycle.final")]
    problems = [*validate_timeline(timeline, now, phase=cycle.phase), *settings.problems(),
                *settings.stage_problems(timeline)]
    if timeline.celebration_date != cycle.celebration_date:
        problems.append(Message(N_("The year of a cycle can't change."), {}, "cycle.year_fixed"))
    current = CycleSettings.of(cycle)
    if cycle.phase.has_reached(Phase.ASSESSMENT) and settings.has_assessment != current.has_assessment:
        problems.append(Message(N_("Assessment can't be added or removed once the eligibility review is over."), {},
                                "cycle.assessment_fixed"))
    if cycle.phase.has_reached(Phase.SHORTLIST_VOTING) and settings.shortlist_size != current.shortlist_size:
        problems.append(Message(N_("The shortlist can't change once its vote has opened."), {},
                                "cycle.shortlist_fixed"))
    if cycle.phase.has_reached(Phase.VOTING_OPEN) and any(
        getattr(settings, name) != getattr(current, name) for name in VOTING_SETTINGS
    ):
        problems.append(Message(N_("The voting rules can't change once voting has opened."), {},
                                "cycle.voting_rules_fixed"))
    if cycle.phase.has_reached(Phase.NOMINATIONS_CLOSED) and settings.rules != current.rules:
        problems.append(Message(N_("The eligibility rules can't change once nominations have closed."), {},
                                "cycle.eligibility_rules_fixed"))
    return problems


def _year_problems(year: int) -> list[Message]:
    taken = db.session.scalar(select(Cycle.id).where(Cycle.year == year)) is not None
    return [_year_taken(year)] if taken else []


def _year_taken(year: int) -> Message:
    return Message(N_("There is already a cycle for %(year)s."), {"year": year}, "cycle.year_taken")


def _apply(cycle: Cycle, timeline: Timeline, settings: CycleSettings) -> None:
    _apply_timeline(cycle, timeline)
    for name in (*VOTING_SETTINGS, *STAGE_SETTINGS):
        setattr(cycle, name, getattr(settings, name))
    cycle.rules = settings.rules.to_dict()
    cycle.nomination_reminder_days = sorted(set(settings.nomination_reminder_days), reverse=True)


def _apply_timeline(cycle: Cycle, timeline: Timeline) -> None:
    for names in STAGE_FIELDS.values():  # a stage the timeline lacks keeps no dates
        for name in names:
            setattr(cycle, name, None)
    for name, value in timeline.deadlines().items():
        setattr(cycle, name, value)
    cycle.celebration_date = timeline.celebration_date


def _timeline_data(timeline: Timeline | None) -> dict:
    if timeline is None:
        return {}
    return {name: value.isoformat() for name, value in timeline.deadlines().items()}


def _settings_data(settings: CycleSettings) -> dict:
    data = {name: getattr(settings, name) for name in (*VOTING_SETTINGS, *STAGE_SETTINGS)}
    data["quorum_share"] = str(Decimal(settings.quorum_share).normalize())
    data["rules"] = settings.rules.to_dict()
    data["nomination_reminder_days"] = sorted(set(settings.nomination_reminder_days), reverse=True)
    return data
