"""The phases of a designation cycle (SPEC §4)."""

from __future__ import annotations

from enum import IntEnum

from capital.domain.messages import N_


class Phase(IntEnum):
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
    def title(self) -> str:
        """The untranslated title; the web layer passes it through gettext."""
        return PHASE_TITLES[self]


PHASE_TITLES = {
    Phase.DRAFT: N_("Draft"),
    Phase.NOMINATIONS_OPEN: N_("Nominations open"),
    Phase.NOMINATIONS_CLOSED: N_("Nominations closed (eligibility review)"),
    Phase.VOTING_OPEN: N_("Voting open"),
    Phase.VOTING_CLOSED: N_("Voting closed"),
    Phase.TALLIED: N_("Tallied"),
    Phase.ANNOUNCED: N_("Announced"),
    Phase.CANCELLED: N_("Cancelled"),
    Phase.NO_CAPITAL: N_("No capital designated"),
}
