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

    @property
    def is_final(self) -> bool:
        return self in FINAL_PHASES


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
})

FINAL_PHASES = frozenset({Phase.ANNOUNCED, Phase.CANCELLED, Phase.NO_CAPITAL})

# The one table between phases and deadlines: the deadline (a Timeline field) that ends each
# phase of the normal course. The tally follows voting at once, so voting closed and tallied
# both end with the announcement; final phases end with nothing.
PHASE_DEADLINES: dict[Phase, str] = {
    Phase.DRAFT: "nominations_open_dt",
    Phase.NOMINATIONS_OPEN: "nominations_close_dt",
    Phase.NOMINATIONS_CLOSED: "voting_open_dt",
    Phase.VOTING_OPEN: "voting_close_dt",
    Phase.VOTING_CLOSED: "announcement_dt",
    Phase.TALLIED: "announcement_dt",
}

# From the close of nominations on, the nominees are public and the board reads the eligible
# dossiers; a cancelled cycle shows none.
DOSSIER_PHASES = frozenset({
    Phase.NOMINATIONS_CLOSED, Phase.VOTING_OPEN, Phase.VOTING_CLOSED, Phase.TALLIED, Phase.ANNOUNCED,
    Phase.NO_CAPITAL,
})


class HasDeadlines(Protocol):
    """A Timeline, or a stored cycle: anything with the five deadline attributes."""

    nominations_open_dt: datetime | None
    nominations_close_dt: datetime | None
    voting_open_dt: datetime | None
    voting_close_dt: datetime | None
    announcement_dt: datetime | None


def deadline_for(phase: Phase, timeline: HasDeadlines) -> datetime | None:
    """The deadline that ends ``phase`` in ``timeline``, or None for a final phase."""
    name = PHASE_DEADLINES.get(phase)
    return getattr(timeline, name) if name else None


def deadlines_still_ahead(phase: Phase, fields: tuple[str, ...]) -> tuple[str, ...]:
    """Of the chronological deadline ``fields``, the ones that end ``phase`` or a phase after it."""
    if phase not in PHASE_DEADLINES:
        return ()
    return fields[fields.index(PHASE_DEADLINES[phase]):]


def dossiers_visible(phase: Phase) -> bool:
    """Whether the nominees are public and the board reads the eligible dossiers in ``phase``."""
    return phase in DOSSIER_PHASES
