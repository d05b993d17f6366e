"""The phases of a designation cycle and the moves between them (docs/cycle.md).

The normal course is draft → nominations open → nominations closed (eligibility review) →
[assessment → assessed] → [shortlist voting → shortlist counted → shortlisted] → voting open
→ voting closed → tallied → announced. The stages in brackets are the cycle's choice: a
timeline has the deadlines of the stages the cycle holds, and a cycle goes through every
stage its timeline has, skipping none (see :func:`capital.domain.phase.course`). Any phase that is not final may be
cancelled (by the secretariat, by hand). No capital is designated when the review leaves no
eligible nomination, or when the board misses its quorum in every allowed voting round; a
missed quorum with rounds left reopens voting (voting closed → voting open).

Each step of the course happens on its own once its deadline has passed (the periodic worker
asks :func:`due_transition`), or earlier by the secretariat's hand. Steps that follow from
facts rather than from the clock (the tally, a second round, no capital after the vote) are
due as soon as their facts hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from capital.domain.messages import Message, N_, RuleViolation
from capital.domain.phase import FINAL_PHASES, Phase, course, deadline_for, deadlines_still_ahead, next_in_course
from capital.domain.timeline import Timeline, validate_timeline


ALLOWED_TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    Phase.DRAFT: frozenset({Phase.NOMINATIONS_OPEN, Phase.CANCELLED}),
    Phase.NOMINATIONS_OPEN: frozenset({Phase.NOMINATIONS_CLOSED, Phase.CANCELLED}),
    Phase.NOMINATIONS_CLOSED: frozenset({
        Phase.ASSESSMENT, Phase.SHORTLIST_VOTING, Phase.VOTING_OPEN, Phase.NO_CAPITAL, Phase.CANCELLED,
    }),
    Phase.ASSESSMENT: frozenset({Phase.ASSESSED, Phase.CANCELLED}),
    Phase.ASSESSED: frozenset({Phase.SHORTLIST_VOTING, Phase.VOTING_OPEN, Phase.CANCELLED}),
    Phase.SHORTLIST_VOTING: frozenset({Phase.SHORTLIST_COUNTED, Phase.CANCELLED}),
    # A shortlist vote that misses its quorum designates no capital (docs/vote.md).
    Phase.SHORTLIST_COUNTED: frozenset({Phase.SHORTLISTED, Phase.NO_CAPITAL, Phase.CANCELLED}),
    Phase.SHORTLISTED: frozenset({Phase.VOTING_OPEN, Phase.CANCELLED}),
    Phase.VOTING_OPEN: frozenset({Phase.VOTING_CLOSED, Phase.CANCELLED}),
    # Back to voting open is the second round, when the quorum was missed.
    Phase.VOTING_CLOSED: frozenset({Phase.TALLIED, Phase.VOTING_OPEN, Phase.NO_CAPITAL, Phase.CANCELLED}),
    Phase.TALLIED: frozenset({Phase.ANNOUNCED, Phase.NO_CAPITAL, Phase.CANCELLED}),
    Phase.ANNOUNCED: frozenset(),
    Phase.CANCELLED: frozenset(),
    Phase.NO_CAPITAL: frozenset(),
}

# The steps the worker may take from each phase; their guards never hold at the same time.
# From voting closed, no capital is left to the tally (tallied → no capital), so that the
# ballots of the last round are counted and published even without a quorum.
_AUTOMATIC_STEPS: dict[Phase, tuple[Phase, ...]] = {
    Phase.DRAFT: (Phase.NOMINATIONS_OPEN,),
    Phase.NOMINATIONS_OPEN: (Phase.NOMINATIONS_CLOSED,),
    Phase.NOMINATIONS_CLOSED: (Phase.ASSESSMENT, Phase.SHORTLIST_VOTING, Phase.VOTING_OPEN, Phase.NO_CAPITAL),
    Phase.ASSESSMENT: (Phase.ASSESSED,),
    Phase.ASSESSED: (Phase.SHORTLIST_VOTING, Phase.VOTING_OPEN),
    Phase.SHORTLIST_VOTING: (Phase.SHORTLIST_COUNTED,),
    Phase.SHORTLIST_COUNTED: (Phase.SHORTLISTED, Phase.NO_CAPITAL),
    Phase.SHORTLISTED: (Phase.VOTING_OPEN,),
    Phase.VOTING_OPEN: (Phase.VOTING_CLOSED,),
    Phase.VOTING_CLOSED: (Phase.VOTING_OPEN, Phase.TALLIED),
    Phase.TALLIED: (Phase.ANNOUNCED, Phase.NO_CAPITAL),
}

# The steps due at the deadline that ends their phase (capital.domain.phase.PHASE_DEADLINES);
# every other step follows from facts, as soon as they hold.
_TIMED_STEPS = frozenset({
    (Phase.DRAFT, Phase.NOMINATIONS_OPEN),
    (Phase.NOMINATIONS_OPEN, Phase.NOMINATIONS_CLOSED),
    (Phase.NOMINATIONS_CLOSED, Phase.ASSESSMENT),
    (Phase.NOMINATIONS_CLOSED, Phase.SHORTLIST_VOTING),
    (Phase.NOMINATIONS_CLOSED, Phase.VOTING_OPEN),
    (Phase.NOMINATIONS_CLOSED, Phase.NO_CAPITAL),
    (Phase.ASSESSMENT, Phase.ASSESSED),
    (Phase.ASSESSED, Phase.SHORTLIST_VOTING),
    (Phase.ASSESSED, Phase.VOTING_OPEN),
    (Phase.SHORTLIST_VOTING, Phase.SHORTLIST_COUNTED),
    (Phase.SHORTLIST_COUNTED, Phase.SHORTLISTED),
    (Phase.SHORTLIST_COUNTED, Phase.NO_CAPITAL),
    (Phase.SHORTLISTED, Phase.VOTING_OPEN),
    (Phase.VOTING_OPEN, Phase.VOTING_CLOSED),
    (Phase.TALLIED, Phase.ANNOUNCED),
})


class TransitionError(RuleViolation):
    """A phase change that must not happen; ``reason`` says why, further ``reasons`` give detail."""


@dataclass(frozen=True)
class TransitionContext:
    """Facts about the cycle that some transitions depend on, gathered by the caller.

    ``quorum_met`` is the quorum of the latest voting round (None while unknown);
    ``rounds_used`` counts the voting rounds held so far; ``max_rounds`` is the cycle's limit;
    ``shortlist_drawn`` says whether the shortlist vote met its quorum and drew finalists
    (None until it is counted).
    """

    eligible_nominations: int = 0
    submitted_pending_review: int = 0
    quorum_met: bool | None = None
    rounds_used: int = 0
    max_rounds: int = 2
    shortlist_drawn: bool | None = None


def transition_deadline(current: Phase, target: Phase, timeline: Timeline) -> datetime | None:
    """The moment from which the step ``current → target`` may happen automatically.

    None means the step has no deadline of its own: it is due as soon as its facts hold.
    """
    return deadline_for(current, timeline) if (current, target) in _TIMED_STEPS else None


def check_transition(
    current: Phase,
    target: Phase,
    *,
    timeline: Timeline,
    now: datetime,
    by_hand: bool,
    is_secretariat: bool,
    context: TransitionContext | None = None,
) -> None:
    """Raise :class:`TransitionError` unless the cycle may move from ``current`` to ``target`` now.

    Phases can't be skipped (see ``ALLOWED_TRANSITIONS``) and final phases never change. A
    transition by hand needs the secretariat and may come before its deadline; an automatic
    one happens only from its deadline on (``now >= deadline``), and a cancellation is never
    automatic. Opening nominations or voting needs a valid timeline; opening voting needs
    the eligibility review finished with at least one eligible nomination; the steps after
    the vote follow the quorum and the rounds left. ``context`` is required (``ValueError``
    otherwise) for the transitions that depend on it.
    """
    if current in FINAL_PHASES:
        raise TransitionError(_msg(N_("This cycle is over: its phase can no longer change."), "phase.final"))
    if target == current:
        raise TransitionError(_msg(N_("The cycle is already in this phase."), "phase.same"))
    if target not in ALLOWED_TRANSITIONS[current]:
        raise TransitionError(
            _msg(N_("The cycle can't move directly from its current phase to that one."), "phase.not_allowed")
        )
    if target not in (Phase.CANCELLED, Phase.NO_CAPITAL) and not _is_second_round(current, target):
        if target not in course(timeline):
            raise TransitionError(
                _msg(N_("This cycle has no such stage: give its dates in the cycle's settings first."),
                     "phase.no_such_stage")
            )
        if target != next_in_course(current, timeline):
            raise TransitionError(
                _msg(N_("The cycle can't skip a stage of its timeline."), "phase.skips_stage")
            )
    if by_hand and not is_secretariat:
        raise TransitionError(
            _msg(N_("Only the secretariat can change a cycle's phase by hand."), "phase.not_secretariat")
        )
    if target == Phase.CANCELLED:
        if not by_hand:
            raise TransitionError(
                _msg(N_("Only the secretariat can cancel a cycle; it never happens automatically."),
                     "phase.cancel_by_hand")
            )
        return
    if not by_hand:
        deadline = transition_deadline(current, target, timeline)
        if deadline is not None and now < deadline:
            raise TransitionError(_msg(N_("The deadline for this step has not passed yet."), "phase.too_early"))
    _check_guards(current, target, timeline, now, context)


def due_transition(
    current: Phase, timeline: Timeline, now: datetime, context: TransitionContext | None = None
) -> Phase | None:
    """The one automatic step the cycle should take now, or None.

    It is a step that :func:`check_transition` accepts with ``by_hand=False``. The answer
    depends only on its arguments, so a periodic worker may ask as often as it likes; once
    the step is applied, the next call (with the new phase) gives the following one.
    ``context`` is required from nominations closed, voting closed and tallied.

    Voting closed → voting open is the second round: the caller must store
    ``timeline.second_round(now)`` together with the new phase.
    """
    for target in _AUTOMATIC_STEPS.get(current, ()):
        try:
            check_transition(
                current, target, timeline=timeline, now=now, by_hand=False, is_secretariat=False, context=context
            )
        except TransitionError:
            continue
        return target
    return None


def phase_at(now: datetime, timeline: Timeline) -> Phase:
    """The phase ``timeline`` schedules at ``now`` in the normal course of a cycle.

    It ignores the facts (no eligible nomination, missed quorum), the secretariat's hand and
    cancellation: use it to say where a cycle stands on paper, not to move it. The tally
    follows the voting deadline at once, so the time until the announcement is "tallied".
    """
    for phase in course(timeline):
        if phase == Phase.VOTING_CLOSED:
            continue
        deadline = deadline_for(phase, timeline)
        if deadline is None or now < deadline:
            return phase
    return Phase.ANNOUNCED


def _check_guards(
    current: Phase, target: Phase, timeline: Timeline, now: datetime, context: TransitionContext | None
) -> None:
    if target == Phase.NOMINATIONS_OPEN:
        _require_valid_timeline(timeline, now, target)
    elif current == Phase.NOMINATIONS_CLOSED:
        ctx = _need(context)
        if ctx.submitted_pending_review:
            raise TransitionError(
                _msg(N_("Some nominations are still waiting for the eligibility review."), "phase.review_pending")
            )
        if target != Phase.NO_CAPITAL:
            if not ctx.eligible_nominations:
                raise TransitionError(_msg(N_("There is no eligible nomination to vote on."), "phase.no_eligible"))
            _require_valid_timeline(timeline, now, target)
        elif ctx.eligible_nominations:
            raise TransitionError(
                _msg(N_("There are eligible nominations: the cycle should go on to the vote."), "phase.has_eligible")
            )
    elif current == Phase.SHORTLIST_COUNTED:
        drawn = _need(context).shortlist_drawn
        if drawn is None:
            raise ValueError("the shortlist is not counted yet: pass shortlist_drawn")
        if target == Phase.SHORTLISTED and not drawn:
            raise TransitionError(
                _msg(N_("The shortlist vote missed its quorum: there is no shortlist to publish."),
                     "phase.shortlist_missed")
            )
        if target == Phase.NO_CAPITAL and drawn:
            raise TransitionError(
                _msg(N_("The shortlist vote met its quorum: the cycle goes on to the final vote."),
                     "phase.shortlist_drawn")
            )
    elif current in (Phase.VOTING_CLOSED, Phase.TALLIED):
        _check_vote_guards(current, target, _need(context, quorum=True))
    elif target in (Phase.SHORTLIST_VOTING, Phase.VOTING_OPEN):
        _require_valid_timeline(timeline, now, target)


def _check_vote_guards(current: Phase, target: Phase, ctx: TransitionContext) -> None:
    rounds_left = ctx.rounds_used < ctx.max_rounds
    if target == Phase.VOTING_OPEN:
        if ctx.quorum_met:
            raise TransitionError(
                _msg(N_("The quorum was met: no further voting round is needed."), "phase.quorum_met")
            )
        if not rounds_left:
            raise TransitionError(_msg(N_("All the allowed voting rounds have been held."), "phase.no_rounds_left"))
    elif target == Phase.TALLIED:
        if not ctx.quorum_met and rounds_left:
            raise TransitionError(
                _msg(N_("The quorum was not met: open another voting round first."), "phase.round_available")
            )
    elif target == Phase.ANNOUNCED:
        if not ctx.quorum_met:
            raise TransitionError(
                _msg(N_("The quorum was not met: there is no result to announce."), "phase.quorum_missed")
            )
    elif target == Phase.NO_CAPITAL:
        if ctx.quorum_met:
            raise TransitionError(
                _msg(N_("The quorum was met: the vote designates a capital."), "phase.quorum_met")
            )
        if current == Phase.VOTING_CLOSED and rounds_left:
            raise TransitionError(
                _msg(N_("The quorum was not met: open another voting round first."), "phase.round_available")
            )


def _is_second_round(current: Phase, target: Phase) -> bool:
    return current == Phase.VOTING_CLOSED and target == Phase.VOTING_OPEN


def _require_valid_timeline(timeline: Timeline, now: datetime, target: Phase) -> None:
    # The deadlines behind ``target`` are history, kept in the order they were taken: a shortlist
    # published by hand moves its publication to that moment, ahead of a shortlist deadline its vote
    # closed before. Only a deadline still ahead must come after the one before it.
    ahead = deadlines_still_ahead(target, timeline)
    problems = [problem for problem in validate_timeline(timeline, now, phase=target)
                if not problem.code.startswith(_ORDER) or problem.code.removeprefix(_ORDER) in ahead]
    if problems:
        raise TransitionError(_msg(N_("Correct the cycle's timeline first."), "phase.invalid_timeline"), *problems)


_ORDER = "timeline.order."


def _need(context: TransitionContext | None, *, quorum: bool = False) -> TransitionContext:
    if context is None or (quorum and context.quorum_met is None):
        raise ValueError("this transition depends on facts: pass a TransitionContext (with quorum_met)")
    return context


def _msg(message: str, code: str) -> Message:
    return Message(message, {}, code)
