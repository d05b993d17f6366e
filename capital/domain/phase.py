"""The phases of a designation cycle, and what each phase means (docs/cycle.md).

This module answers questions about one phase: its title, whether it is final, which
deadline ends it, whether the dossiers are visible in it. The moves between phases are in
:mod:`capital.domain.phases`; the deadlines themselves in :mod:`capital.domain.timeline`.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Protocol

from capital.domain.messages import N_, Titled


class Phase(Titled, IntEnum):
    DRAFT = 1
    NOMINATIONS_OPEN = 2
    NOMINATIONS_CLOSED = 3
    VOTING_OPEN = 4
    VOTING_CLOSED = 5
    TALLIED = 6
    ANNOUNCED = 7
    CANCELLED = 8
    NO_CAPITAL = 9
    # The optional stages between the eligibility review and the final vote (docs/cycle.md):
    # numbered after the others, so stored values keep their meaning; COURSE gives their order.
    ASSESSMENT = 10
    ASSESSED = 11
    SHORTLIST_VOTING = 12
    SHORTLIST_COUNTED = 13
    SHORTLISTED = 14

    @property
    def is_final(self) -> bool:
        return self in FINAL_PHASES

    @property
    def step(self) -> int:
        """The phase's place in the course of a cycle (:data:`COURSE`); cancelled and no capital come last."""
        return _STEPS[self]

    def has_reached(self, other: Phase) -> bool:
        """Whether a cycle in this phase is at ``other`` or beyond it in the course (never by number)."""
        return self.step >= other.step

    # The questions the pages ask of a phase (templates ask these, never compare names).
    @property
    def is_voting_open(self) -> bool:
        """Whether the board's final (ranked) vote is open."""
        return self == Phase.VOTING_OPEN

    @property
    def is_shortlist_voting_open(self) -> bool:
        """Whether the board's shortlist (approval) vote is open."""
        return self == Phase.SHORTLIST_VOTING

    @property
    def is_any_vote_open(self) -> bool:
        """Whether one of the board's votes, the shortlist vote or the final vote, is open."""
        return self in VOTE_PHASES

    @property
    def is_before_voting(self) -> bool:
        """Whether the final vote is still ahead: every phase of the course before it opens."""
        return not self.has_reached(Phase.VOTING_OPEN)

    @property
    def awaits_announcement(self) -> bool:
        """Whether the count is done and the announcement is the next step."""
        return self == Phase.TALLIED

    @property
    def is_announced(self) -> bool:
        return self == Phase.ANNOUNCED


PHASE_TITLES = Phase.set_titles({
    Phase.DRAFT: N_("Draft"),
    Phase.NOMINATIONS_OPEN: N_("Nominations open"),
    Phase.NOMINATIONS_CLOSED: N_("Nominations closed (eligibility review)"),
    Phase.VOTING_OPEN: N_("Voting open"),
    Phase.VOTING_CLOSED: N_("Voting closed"),
    Phase.TALLIED: N_("Tallied"),
    Phase.ANNOUNCED: N_("Announced"),
    Phase.CANCELLED: N_("Cancelled"),
    Phase.NO_CAPITAL: N_("No capital designated"),
    Phase.ASSESSMENT: N_("Assessment against the criteria"),
    Phase.ASSESSED: N_("Assessment closed"),
    Phase.SHORTLIST_VOTING: N_("Shortlist vote open"),
    Phase.SHORTLIST_COUNTED: N_("Shortlist counted (not yet published)"),
    Phase.SHORTLISTED: N_("Shortlist published"),
})

# The normal course of a cycle with every stage; a cycle without assessment or shortlist
# skips that stage's phases (see :func:`stage_deadline`).
COURSE = (
    Phase.DRAFT, Phase.NOMINATIONS_OPEN, Phase.NOMINATIONS_CLOSED,
    Phase.ASSESSMENT, Phase.ASSESSED,
    Phase.SHORTLIST_VOTING, Phase.SHORTLIST_COUNTED, Phase.SHORTLISTED,
    Phase.VOTING_OPEN, Phase.VOTING_CLOSED, Phase.TALLIED, Phase.ANNOUNCED,
)
_STEPS = {phase: step for step, phase in enumerate((*COURSE, Phase.CANCELLED, Phase.NO_CAPITAL))}

# The phases of each optional stage, and the deadline whose presence in a timeline says the
# cycle has that stage.
STAGE_PHASES: dict[str, frozenset[Phase]] = {
    "assessment_open_dt": frozenset({Phase.ASSESSMENT, Phase.ASSESSED}),
    "shortlist_open_dt": frozenset({Phase.SHORTLIST_VOTING, Phase.SHORTLIST_COUNTED, Phase.SHORTLISTED}),
}

FINAL_PHASES = frozenset({Phase.ANNOUNCED, Phase.CANCELLED, Phase.NO_CAPITAL})
# The phases in which a board vote is open: the shortlist vote's, the final vote's.
VOTE_PHASES = frozenset({Phase.SHORTLIST_VOTING, Phase.VOTING_OPEN})


def vote_phase(*, shortlist: bool) -> Phase:
    """The phase in which the board's shortlist vote (or its final vote) is open."""
    return Phase.SHORTLIST_VOTING if shortlist else Phase.VOTING_OPEN

# The one table between phases and deadlines: the deadline (a Timeline field) that ends each
# phase of the normal course with every stage. A cycle without a stage has none of its
# deadlines, and a phase whose deadline it lacks ends at the next deadline it has: without
# assessment the eligibility review ends when the shortlist vote (or the final vote) opens.
# The tally follows voting at once, so voting closed and tallied both end with the
# announcement; the shortlist is counted at its deadline and published at its own. The
# finalists' update deadline ends no phase (it falls while the shortlist is published), and
# final phases end with nothing.
PHASE_DEADLINES: dict[Phase, str] = {
    Phase.DRAFT: "nominations_open_dt",
    Phase.NOMINATIONS_OPEN: "nominations_close_dt",
    Phase.NOMINATIONS_CLOSED: "assessment_open_dt",
    Phase.ASSESSMENT: "assessment_close_dt",
    Phase.ASSESSED: "shortlist_open_dt",
    Phase.SHORTLIST_VOTING: "shortlist_close_dt",
    Phase.SHORTLIST_COUNTED: "shortlist_publication_dt",
    Phase.SHORTLISTED: "voting_open_dt",
    Phase.VOTING_OPEN: "voting_close_dt",
    Phase.VOTING_CLOSED: "announcement_dt",
    Phase.TALLIED: "announcement_dt",
}

# Every deadline a timeline may have, in chronological order; the stages' are optional.
ALL_DEADLINE_FIELDS = (
    "nominations_open_dt",
    "nominations_close_dt",
    "assessment_open_dt",
    "assessment_close_dt",
    "shortlist_open_dt",
    "shortlist_close_dt",
    "shortlist_publication_dt",
    "finalist_update_close_dt",
    "voting_open_dt",
    "voting_close_dt",
    "announcement_dt",
)

# From the close of nominations on, the nominees are public and the board reads the eligible
# dossiers; a cancelled cycle shows none.
DOSSIER_PHASES = frozenset({
    Phase.NOMINATIONS_CLOSED, Phase.ASSESSMENT, Phase.ASSESSED, Phase.SHORTLIST_VOTING, Phase.SHORTLIST_COUNTED,
    Phase.SHORTLISTED, Phase.VOTING_OPEN, Phase.VOTING_CLOSED, Phase.TALLIED, Phase.ANNOUNCED, Phase.NO_CAPITAL,
})


class HasDeadlines(Protocol):
    """A Timeline, or a stored cycle: anything with the five deadline attributes (the stages' are optional)."""

    nominations_open_dt: datetime | None
    nominations_close_dt: datetime | None
    voting_open_dt: datetime | None
    voting_close_dt: datetime | None
    announcement_dt: datetime | None


def present_deadlines(timeline: HasDeadlines) -> tuple[str, ...]:
    """The deadline fields ``timeline`` has (the stages it skips have none), in chronological order."""
    return tuple(name for name in ALL_DEADLINE_FIELDS if getattr(timeline, name, None) is not None)


def has_stage(timeline: HasDeadlines, phase: Phase) -> bool:
    """Whether the course of ``timeline`` goes through ``phase`` (always, unless it belongs to a skipped stage)."""
    for opening, phases in STAGE_PHASES.items():
        if phase in phases:
            return getattr(timeline, opening, None) is not None
    return True


def course(timeline: HasDeadlines) -> tuple[Phase, ...]:
    """The phases of ``timeline``'s normal course, in order."""
    return tuple(phase for phase in COURSE if has_stage(timeline, phase))


def next_in_course(phase: Phase, timeline: HasDeadlines) -> Phase | None:
    """The phase after ``phase`` in ``timeline``'s course; None after the announcement or off the course."""
    phases = course(timeline)
    if phase not in phases or phase == phases[-1]:
        return None
    return phases[phases.index(phase) + 1]


def deadline_name(phase: Phase, timeline: HasDeadlines) -> str | None:
    """The field of the deadline that ends ``phase`` in ``timeline`` (see PHASE_DEADLINES), or None."""
    name = PHASE_DEADLINES.get(phase)
    if name is None:
        return None
    later = ALL_DEADLINE_FIELDS[ALL_DEADLINE_FIELDS.index(name):]
    return next((field for field in later if getattr(timeline, field, None) is not None), None)


def deadline_for(phase: Phase, timeline: HasDeadlines) -> datetime | None:
    """The deadline that ends ``phase`` in ``timeline``, or None for a final phase."""
    name = deadline_name(phase, timeline)
    return getattr(timeline, name) if name else None


def deadlines_still_ahead(phase: Phase, timeline: HasDeadlines) -> tuple[str, ...]:
    """Of ``timeline``'s deadlines, the ones that end ``phase`` or come after that one."""
    name = deadline_name(phase, timeline)
    if name is None:
        return ()
    fields = present_deadlines(timeline)
    return fields[fields.index(name):]


def dossiers_visible(phase: Phase) -> bool:
    """Whether the nominees are public and the board reads the eligible dossiers in ``phase``."""
    return phase in DOSSIER_PHASES
